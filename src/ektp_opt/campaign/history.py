"""What the field must have been for the records to read as they do: the forecast's model fitted
to the campaign's own past.

Why a fit and not the raw figures of ``status``: the records see when a family was enrolled, not
when it came. A family that missed its day and came back to a full office waits in its queue, so
"days until it came back" reads the queue's wait as the family's delay, and "no-show" counts the
families a full office turned away. A forecast that adds its own queue on top counts the wait
twice (the first calibration study: P50 a month late, 0-7 % of intervals holding). So the same
model the forecast runs (forecast.run_field, in expected values) is replayed over the past days,
day by day, with the bookings of the plan in force and the device-shifts the records say were up,
for every combination on a grid of the unobserved parameters:

- ``no_show``: the share of invited families who miss, as a multiple (0.4-1.0) of the share
  ``status`` measures (which also counts families turned away);
- ``come_back``: the share of them who come back at all (0.5-1.0);
- ``return_days``: the mean working days before they do (1-20);
- ``pace``: each kecamatan's residents per device-day, as a multiple (0.85-1.5) of what ``status``
  measures on filled device-shifts (where families are the limit, that is below what the devices can).

Each combination is scored by how far its replay is from the records (a chi-square per kecamatan
and day: the families seated on their day, and the walk-ins, those enrolled after their day; a day
counts less the older it is), and weighted by ``exp(-(chi2 - min) / (2 phi T))``, phi the
minimum's chi-square per observation (the replay is not the field's exact law, so its misfit sets
the scale) and T the tempering (``TEMPERATURE``). How fast the past is forgotten is itself unknown
(did conditions change three weeks ago, or not at all?): the weights are those of each memory in
``HALF_LIVES``, averaged. Where the recent weeks read like the earlier ones the memories agree;
where they do not, the forecast spreads over both readings instead of trusting one. (Shipped with
one memory, as calibrated; a second is a development knob until the calibration study holds with
it: see HALF_LIVES.)
The forecast draws each run's combination from these weights, and starts from the replay's queue
and families away on as-of.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ektp_opt.campaign.snapshot import DeviceShifts, Snapshot
from ektp_opt.campaign.status import device_shift_keys
from ektp_opt.inputs.calendar import working_days
from ektp_opt.inputs.scenario import LoadedScenario

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NO_SHOW = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
COME_BACK = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
RETURN_DAYS = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.5, 8.0, 10.0, 13.0, 16.0, 20.0)
PACE = (0.85, 0.95, 1.0, 1.05, 1.15, 1.3, 1.5)
# The replay is a model, not the field's law: weights from its chi-square alone are sure of
# combinations the records cannot tell apart (a full office hides whether the families it turns
# away come back). Tempered by this factor, set on the calibration study's development campaigns
# (benchmarks/forecast_calibration.py --seed 1), never on the campaigns it reports.
# It grows with the days the fit weighs: the chi-square grows with them, the replay's own error too.
TEMPERATURE = 0.3  # with forecast.LEVEL_SD 0.06 (0.4 without it)
TEMPERATURE_DAYS = 10.0
# Conditions change (a new operator, the rains, a rumour): a day's misfit counts less the older it
# is, halving every half-life of working days, so the fit follows the field of the last weeks and
# its tempering grows with the days it effectively weighs, not with all the days past. One fit per
# memory, their weights averaged. One memory ships. On the development campaigns (seed 1; the grid
# widened to no-shows 1.3 and pace 0.7 times status's) a second, short one made the intervals after
# 6 weeks too wide (4 and 20 days: 89 % held; the two weighed by how each, fitted on the days
# before, foretold each of the last 10 days: 90 %), and did not mend what it was for: after a
# change weeks before as-of the 95 %-date held in 68 % with 6 days alone as with 20.
# forecast.LEVEL_SD does (benchmarks/forecast_calibration.py --half-lives).
HALF_LIVES: tuple[float, ...] = (20.0,)
THROUGHPUT_SD = 0.15  # a device-shift's spread around the pace (forecast.py's, the field's)


@dataclass(frozen=True)
class History:
    """The past per kecamatan (rows, in ``codes`` order) and working day (columns), in families."""

    codes: list[str]
    days: list[dt.date]
    booked: IntArray  # booked that day at a device-shift that was not down (letter not returned)
    turned: IntArray  # booked that day at a device-shift that was down
    seated: IntArray  # of ``booked``, enrolled on their day
    walk_ins: IntArray  # enrolled that day, booked on an earlier day
    up_shifts: IntArray  # device-shifts up that day
    owed: IntArray  # per kecamatan: families whose day has passed, not enrolled, letter not returned
    size: FloatArray  # per kecamatan: residents per family


def history_of(snap: Snapshot, ls: LoadedScenario, codes: list[str]) -> History:
    """The families of each past working day, from the snapshot's records and plan in force."""
    days = working_days(snap.start, snap.as_of - dt.timedelta(days=1), ls.workdays, ls.holidays)
    k_of = {c: i for i, c in enumerate(codes)}
    n_k, n_t = len(codes), len(days)
    day_array = np.array(days, dtype="datetime64[D]")
    home = np.array([k_of.get(h, -1) for h in snap.groups["home"][0].tolist()], dtype=np.int64)[snap.groups["home"][1]]
    kec_of_dev = {d: k_of.get(k, -1) for d, k, _a, _b in snap.devices}

    def day_index(values: npt.NDArray[np.datetime64]) -> IntArray:
        """Each date's index among the past working days (-1: not one of them)."""
        values = values.astype("datetime64[D]")
        if not len(day_array):
            return np.full(len(values), -1, dtype=np.int64)
        pos = np.searchsorted(day_array, values).clip(max=len(day_array) - 1)
        return np.where(day_array[pos] == values, pos, -1).astype(np.int64)

    # device-shifts recorded down, and the families booked at them
    rec = snap.recorded
    rec_k = np.array([kec_of_dev.get(d, -1) for d in rec.device.tolist()], dtype=np.int64)
    rec_t = day_index(rec.day)
    is_down = rec.value == "down"
    up_shifts = np.zeros((n_k, n_t), dtype=np.int64)
    ok = (rec_k >= 0) & (rec_t >= 0) & ~is_down
    np.add.at(up_shifts, (rec_k[ok], rec_t[ok]), 1)

    has = ~np.isnat(snap.appt_day) & (home >= 0)
    appt_t = np.full(len(snap.kk), -1, dtype=np.int64)
    appt_t[has] = day_index(snap.appt_day[has])
    past = has & (appt_t >= 0) & ~snap.returned
    # booked at a device-shift recorded down (status's keys: one integer per device, day and shift)
    names = np.array(sorted({d for d, _k, _a, _b in snap.devices} | set(rec.device.tolist())), dtype=str)
    down_keys = device_shift_keys(rec, names)[is_down]
    booked_at = device_shift_keys(DeviceShifts(snap.appt_device, snap.appt_day, snap.appt_shift, snap.members), names)
    at_down = past & np.isin(booked_at, down_keys[down_keys >= 0])
    booked = np.zeros((n_k, n_t), dtype=np.int64)
    turned = np.zeros((n_k, n_t), dtype=np.int64)
    seated = np.zeros((n_k, n_t), dtype=np.int64)
    walk_ins = np.zeros((n_k, n_t), dtype=np.int64)
    np.add.at(booked, (home[past & ~at_down], appt_t[past & ~at_down]), 1)
    np.add.at(turned, (home[past & at_down], appt_t[past & at_down]), 1)
    on_day = past & ~at_down & (snap.first_enrolled == snap.appt_day)
    np.add.at(seated, (home[on_day], appt_t[on_day]), 1)
    first_t = np.full(len(snap.kk), -1, dtype=np.int64)
    came = ~np.isnat(snap.first_enrolled) & (home >= 0)
    first_t[came] = day_index(snap.first_enrolled[came])
    late = came & (first_t >= 0) & has & (snap.first_enrolled > snap.appt_day)
    np.add.at(walk_ins, (home[late], first_t[late]), 1)
    owed_kk = past & (snap.enrolled < snap.members)
    owed = np.bincount(home[owed_kk], minlength=n_k).astype(np.int64)
    families = np.bincount(home[home >= 0], minlength=n_k)
    size = np.bincount(home[home >= 0], weights=snap.members[home >= 0], minlength=n_k) / np.maximum(families, 1)
    return History(codes, days, booked, turned, seated, walk_ins, up_shifts, owed, size.astype(np.float64))


@dataclass(frozen=True)
class Fit:
    """The grid, each combination's weight, and the replay's state on as-of per combination and kecamatan."""

    no_show: FloatArray  # multiplier of the measured share, per combination
    come_back: FloatArray
    return_days: FloatArray
    pace: FloatArray  # multiplier
    weight: FloatArray  # sums to 1
    queue: FloatArray  # (combinations, kecamatan): families waiting at the office on as-of
    away: FloatArray  # families who will come back, not back yet
    lost: FloatArray  # families who missed and will not come back
    observations: int
    dispersion: float

    def summary(self, measured_no_show: float) -> dict[str, dict[str, float | int]]:
        """The fitted parameters as the forecast's JSON gives them: the weighted mean, and the 5th
        and 95th percentiles of the weights (a 90 % interval); observations: the replay's."""

        def quantiles(values: FloatArray, scale: float = 1.0) -> dict[str, float | int]:
            order = np.argsort(values, kind="stable")
            cum = np.cumsum(self.weight[order])
            lo = values[order][min(int(np.searchsorted(cum, 0.05)), len(cum) - 1)]
            hi = values[order][min(int(np.searchsorted(cum, 0.95)), len(cum) - 1)]
            mean = float((self.weight * values).sum())
            return {
                "estimate": round(mean * scale, 4),
                "low": round(float(lo) * scale, 4),
                "high": round(float(hi) * scale, 4),
                "observations": self.observations,
            }

        return {
            "no_show_fitted": quantiles(self.no_show, measured_no_show),
            "came_back_fitted": quantiles(self.come_back),
            "return_working_days_fitted": quantiles(self.return_days),
            "pace_multiplier_fitted": quantiles(self.pace),
        }

    def values(
        self, combo: IntArray, rng: np.random.Generator
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Each run's (no-show multiplier, come-back share, return days, pace multiplier): its
        combination's, spread uniformly over that grid cell (between the midpoints to its
        neighbours). A grid point is a cell of the posterior, not a certainty: without the spread
        every run of a well-fitted campaign shares one pace, and its interval is a day wide."""
        out = []
        for values, axis in (
            (self.no_show, NO_SHOW),
            (self.come_back, COME_BACK),
            (self.return_days, RETURN_DAYS),
            (self.pace, PACE),
        ):
            grid_values = np.array(axis, dtype=np.float64)
            edges = np.concatenate(
                [
                    [grid_values[0] - (grid_values[1] - grid_values[0]) / 2],
                    (grid_values[1:] + grid_values[:-1]) / 2,
                    [grid_values[-1] + (grid_values[-1] - grid_values[-2]) / 2],
                ]
            )
            i = np.searchsorted(grid_values, values[combo])
            out.append(rng.uniform(edges[i], edges[i + 1]))
        return out[0], out[1], out[2], out[3]

    def draw(self, runs: int, rng: np.random.Generator) -> IntArray:
        return rng.choice(len(self.weight), size=runs, p=self.weight)


def grid() -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    q, c, r, p = np.meshgrid(NO_SHOW, COME_BACK, RETURN_DAYS, PACE, indexing="ij")
    return q.ravel(), c.ravel(), r.ravel(), p.ravel()


def _seat(
    booked: FloatArray, shifts_up: FloatArray, miss: FloatArray, capacity: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Families seated on their day, and seats left for walk-ins, summed over a day's up
    device-shifts (the bookings spread evenly over them): each device-shift seats min(come,
    capacity), where the families who come vary (binomial) and so does its capacity (15 %, and a
    family's worth for whole families): E[min(X, C)] = E[X] - E[(X - C)+], in the normal closed
    form. A replay on the means alone (min of the sums) seats more than the field can, and reads
    the difference as families who never came back."""
    n = np.maximum(shifts_up, 1.0)
    per = booked / n
    mean_x = per * (1.0 - miss)
    var_x = per * miss * (1.0 - miss)
    var_c = (THROUGHPUT_SD * capacity) ** 2 + 0.25
    m = mean_x - capacity
    sd = np.sqrt(var_x + var_c)
    z = m / sd
    over = sd * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi) + m * 0.5 * (1.0 + _erf(z / np.sqrt(2.0)))
    seat = np.where(shifts_up > 0, shifts_up * (mean_x - over), 0.0)
    spare = np.where(shifts_up > 0, shifts_up * (capacity - mean_x + over), 0.0)
    return seat, spare


def _erf(x: FloatArray) -> FloatArray:
    """The error function (Abramowitz and Stegun 7.1.26, |error| < 1.5e-7): numpy has none."""
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def _weights(chi2: FloatArray, weighed_obs: FloatArray, weighed_days: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Each memory's weights over the grid (rows sum to 1, the module docstring), and its phi."""
    best = chi2.min(axis=1, keepdims=True)
    scale = np.maximum(1.0, best / np.maximum(weighed_obs - 4, 1))
    tempering = TEMPERATURE * np.maximum(1.0, weighed_days / TEMPERATURE_DAYS)
    each = np.exp(-(chi2 - best) / (2.0 * scale * tempering))
    return each / each.sum(axis=1, keepdims=True), scale[:, 0]


def fit(history: History, no_show: FloatArray, pace: FloatArray, shifts: IntArray) -> Fit:
    """Replay the past under every combination of the grid (see the module docstring).
    ``no_show`` and ``pace``: each kecamatan's measured figures (the grid multiplies them)."""
    q_m, c, r, p_m = grid()
    g = len(q_m)
    q = np.clip(q_m[:, None] * no_show[None, :], 0.0, 0.99)  # (g, k)
    h = (1.0 / r)[:, None]
    cap_per_shift = p_m[:, None] * (pace / shifts / history.size)[None, :]  # families per up device-shift
    n_k = len(history.codes)
    queue = np.zeros((g, n_k))
    away = np.zeros((g, n_k))
    lost = np.zeros((g, n_k))
    n_t = len(history.days)
    memories = np.array(HALF_LIVES, dtype=np.float64)
    keep = 0.5 ** (1.0 / memories)[:, None]  # a day older: its misfit counts this much less
    chi2 = np.zeros((len(memories), g))  # each memory's misfit, older days counting less
    weighed_obs = np.zeros((len(memories), 1))
    weighed_days = np.zeros((len(memories), 1))
    n_obs = 0
    came = history.booked + history.turned  # families whose day it was
    served_seen = history.seated + history.walk_ins
    for t in range(n_t):
        back = h * away
        away -= back
        queue += back
        n = history.up_shifts[:, t][None, :].astype(np.float64)
        b = history.booked[:, t][None, :].astype(np.float64)
        seat, spare = _seat(b, n, q, cap_per_shift)
        walk = np.minimum(queue, spare)
        queue += b * (1.0 - q) - seat - walk + history.turned[:, t][None, :] * (1.0 - q)
        missed = (b + history.turned[:, t][None, :]) * q
        away += c[:, None] * missed
        lost += (1.0 - c[:, None]) * missed
        chi2 *= keep
        weighed_obs *= keep
        weighed_days *= keep
        active = came[:, t] + served_seen[:, t] > 0
        if not active.any():
            continue
        today = np.zeros(g)
        for pred, seen in ((seat, history.seated), (walk, history.walk_ins)):
            x = pred[:, active]
            today += ((x - seen[None, active, t]) ** 2 / (x + 1.0)).sum(axis=1)
        chi2 += today[None, :]
        n_obs += 2 * int(active.sum())
        weighed_obs += 2 * int(active.sum())
        weighed_days += 1.0
    if n_obs == 0:
        weight = np.full(g, 1.0 / g)
        dispersion = 1.0
    else:
        each, scale = _weights(chi2, weighed_obs, weighed_days)
        weight = each.mean(axis=0)
        dispersion = float(scale.max())
    return Fit(q_m, c, r, p_m, weight, queue, away, lost, n_obs, dispersion)

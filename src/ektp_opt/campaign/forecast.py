"""``campaign forecast``: when will it finish if it goes on as the records say (issue #29, first part).

The model, per kecamatan, for all runs at once (one numpy pass per day):

- Each run draws its parameters once, from what ``status`` measured (the pooled estimate of the
  kecamatan and its standard error, normal, clipped to the possible range): residents a device
  enrols per day when up, the share of device-shifts down, the share of invited families who miss,
  the share of those who come back and after how long.
  The uncertainty of the parameters is in the spread of the runs, not only the daily noise.
- Every working day from as-of to the deadline (and on, to a horizon), the kecamatan's devices in
  service (the plan in force's, from their ``available_from``) give a capacity of devices x pace x
  up share (the nominal pace where the devices keep up: ``replan.py``), with a day-to-day noise of
  10 %. The families the plan books that day come with probability 1 - no-show and are served first;
  those a full office turns away come back the next day; then the queue of families coming back.
  A family that missed comes back with the measured came-back share, after a geometric number of
  working days with the measured mean (the backlog at as-of likewise, the geometric being memoryless).
- Families whose letter came back never come on their own: they are counted not enrolled, and the
  completion asked about is that of the families the campaign can reach.

Outputs (SPEC.md, "Forecast"): the completion date citywide and per kecamatan (P10, P50, P90, or
"after <horizon>"), the dates by which 90 % and 95 % of residents are enrolled, P(every reachable
resident enrolled by the deadline), residents not enrolled at the deadline (mean, P90), and the
parameters used. How often its intervals hold on campaigns it did not see is a separate, measured
question (the calibration study of issue #29, not yet done).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ektp_opt.campaign.measure import Z90, Estimate
from ektp_opt.campaign.snapshot import Snapshot
from ektp_opt.campaign.status import Status
from ektp_opt.inputs.calendar import working_days
from ektp_opt.inputs.scenario import LoadedScenario

DAILY_NOISE = 0.10
MAX_LAG = 60  # working days a missed family's return is followed (the rest of the tail arrives then)
KEEP_UP = 0.10  # filled device-shifts served whole at least this often: the devices keep up (replan.py)
HORIZON_DAYS = 250  # working days past the deadline the runs are followed
DONE = 0.5  # residents: below this a kecamatan is done


@dataclass(frozen=True)
class Forecast:
    as_of: dt.date
    runs: int
    deadline: dt.date
    completion: dict[str, str]
    share_dates: dict[str, dict[str, str]]
    p_on_time: float
    unenrolled_at_deadline: dict[str, float]
    per_kecamatan: dict[str, dict[str, Any]]
    parameters: dict[str, dict[str, Any]]
    days: list[dt.date]
    enrolled_quantiles: dict[str, list[int]]  # P10/P50/P90 of residents enrolled, day by day (the fan)

    def json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "runs": self.runs,
            "completion": self.completion,
            "share_dates": self.share_dates,
            "p_on_time": round(self.p_on_time, 4),
            "unenrolled_at_deadline": self.unenrolled_at_deadline,
            "per_kecamatan": self.per_kecamatan,
            "parameters": self.parameters,
        }


def _draw(est: Estimate, runs: int, rng: np.random.Generator, lo: float, hi: float) -> npt.NDArray[np.float64]:
    if est.observations == 0 or np.isnan(est.estimate):
        return np.full(runs, np.nan)
    se = (est.high - est.low) / (2 * Z90)
    return np.clip(rng.normal(est.estimate, se, runs), lo, hi)


def forecast(snap: Snapshot, status: Status, ls: LoadedScenario, runs: int = 1000, seed: int = 0) -> Forecast:
    sc = ls.scenario
    rng = np.random.default_rng(seed)
    codes = sorted(snap.kecamatan)
    k_of = {c: i for i, c in enumerate(codes)}
    n_k = len(codes)
    deadline_days = working_days(snap.as_of, sc.deadline, ls.workdays, ls.holidays)
    horizon_end = snap.as_of + dt.timedelta(days=HORIZON_DAYS * 2 + (sc.deadline - snap.as_of).days)
    days = working_days(snap.as_of, horizon_end, ls.workdays, ls.holidays)[: len(deadline_days) + HORIZON_DAYS]
    n_t = len(days)
    # who is still owed a seat, and who cannot be reached
    home = np.array([k_of.get(h, 0) for h in snap.home.tolist()], dtype=np.int64)
    owed = np.maximum(snap.members - snap.enrolled, 0)
    reachable = np.bincount(home, weights=owed * ~snap.returned, minlength=n_k).astype(np.float64)
    unreachable = float((owed * snap.returned).sum())
    residents = float(snap.members.sum())
    enrolled_now = float(snap.enrolled.sum())
    # devices in service per kecamatan and day
    devices = np.zeros((n_k, n_t), dtype=np.float64)
    day_index = np.array([np.datetime64(d) for d in days])
    for _d, kec, _deliv, avail in snap.devices:
        if kec in k_of:
            devices[k_of[kec]] += day_index >= np.datetime64(avail)
    # the plan in force's bookings still to come, per kecamatan and day (KK not yet enrolled, letter not returned)
    pos = {d: t for t, d in enumerate(days)}
    booked_plan = np.zeros((n_k, n_t))
    future = ~np.isnat(snap.appt_day) & (snap.appt_day >= np.datetime64(snap.as_of)) & ~snap.returned
    for i in np.flatnonzero(future & (owed > 0)).tolist():
        t = pos.get(snap.appt_day[i].astype(object))
        if t is not None:
            booked_plan[home[i], t] += owed[i]
    backlog = np.maximum(reachable - booked_plan.sum(axis=1), 0.0)  # owed, their slot past: coming back
    # parameters per run and kecamatan
    nominal = float(sc.device.capacity_per_day)
    pace = np.empty((runs, n_k))
    up = np.empty((runs, n_k))
    miss = np.empty((runs, n_k))
    back = np.empty((runs, n_k))
    delay = np.empty((runs, n_k))
    for j, c in enumerate(codes):
        est = status.field.per_kecamatan[c]
        whole = est["filled_shifts_served_whole"]
        p = _draw(est["residents_per_device_day"], runs, rng, 0.0, nominal)
        keep_up = whole.observations > 0 and whole.estimate >= KEEP_UP
        pace[:, j] = np.where(np.isnan(p) | keep_up, nominal, p)
        d = _draw(est["down_share"], runs, rng, 0.0, 1.0)
        up[:, j] = 1.0 - np.where(np.isnan(d), 0.0, d)
        q = _draw(est["no_show"], runs, rng, 0.0, 0.99)
        miss[:, j] = np.where(np.isnan(q), 0.0, q)
        b = _draw(est["came_back"], runs, rng, 0.0, 1.0)
        back[:, j] = np.where(np.isnan(b), 1.0, b)  # nothing observed yet: they come back (re-invited)
        g = _draw(est["days_to_come_back"], runs, rng, 1.0, 60.0)
        delay[:, j] = np.where(np.isnan(g), 5.0, g) * 6.0 / 7.0  # calendar days to working days
    # families that missed come back after Geometric(mean delay) working days (memoryless: the backlog
    # at as-of too); kept as a (run, kecamatan, day) schedule of arrivals
    lag = np.arange(1, MAX_LAG + 1)
    pmf = (1.0 / delay)[..., None] * (1.0 - 1.0 / delay)[..., None] ** (lag - 1)  # (runs, k, lag)
    pmf[..., -1] += 1.0 - pmf.sum(axis=-1)  # the tail folded into the last lag
    arrivals = np.zeros((runs, n_k, n_t + MAX_LAG + 1))
    arrivals[:, :, 1 : MAX_LAG + 1] += (backlog * back)[..., None] * pmf
    queue = np.zeros((runs, n_k))
    # residents who will come, per run: all reachable, less the misses that never come back
    target = reachable - (1.0 - back) * (backlog + booked_plan.sum(axis=1) * miss)
    done_day = np.full((runs, n_k), n_t, dtype=np.int64)  # n_t: not within the horizon
    done_day[reachable[None, :].repeat(runs, 0) <= DONE] = -1  # already done before as-of
    cum = np.empty((runs, n_t))
    served_k = np.zeros((runs, n_k))
    for t in range(n_t):
        noise = np.clip(rng.normal(1.0, DAILY_NOISE, (runs, n_k)), 0.0, None)
        capacity = devices[:, t] * pace * up * noise
        show = booked_plan[:, t] * (1.0 - miss)
        served_booked = np.minimum(show, capacity)
        arrivals[:, :, t + 1] += show - served_booked  # turned away by a full device-shift: back tomorrow
        queue += arrivals[:, :, t]
        walk = np.minimum(queue, capacity - served_booked)
        queue -= walk
        served = served_booked + walk
        missed = booked_plan[:, t] * miss
        arrivals[:, :, t + 1 : t + 1 + MAX_LAG] += (missed * back)[..., None] * pmf
        served_k += served
        cum[:, t] = enrolled_now + served_k.sum(axis=1)
        newly = (served_k >= target - DONE) & (done_day == n_t)
        done_day[newly] = t
    last = len(deadline_days) - 1  # the deadline's index (the last working day up to it)

    def date_of(idx: npt.NDArray[np.int64], q: float) -> str:
        v = int(np.quantile(idx, q, method="higher"))
        if v >= n_t:
            return f"after {days[-1].isoformat()}"
        return (snap.as_of if v < 0 else days[v]).isoformat()

    city_done = done_day.max(axis=1)
    completion = {f"p{int(q * 100)}": date_of(city_done, q) for q in (0.1, 0.5, 0.9)}
    share_dates = {}
    for share in (0.9, 0.95):
        past = next((r["date"] for r in status.by_date if r["enrolled_total"] >= share * residents), None)
        if past is not None:  # reached already: the day the records say
            share_dates[str(share)] = {"p10": past, "p50": past, "p90": past}
            continue
        reached = cum >= share * residents
        first = np.where(reached.any(axis=1), reached.argmax(axis=1), n_t)
        share_dates[str(share)] = {f"p{int(q * 100)}": date_of(first, q) for q in (0.1, 0.5, 0.9)}
    at_deadline = residents - (cum[:, last] if last >= 0 else np.full(runs, enrolled_now))
    per_kecamatan = {
        c: {
            **{f"p{int(q * 100)}": date_of(done_day[:, j], q) for q in (0.1, 0.5, 0.9)},
            "p_on_time": round(float((done_day[:, j] <= last).mean()), 4),
        }
        for j, c in enumerate(codes)
    }
    params = {name: status.field.city[name].json() for name in ("residents_per_device_day", "down_share", "no_show")}
    fan = {f"p{int(q * 100)}": [int(x) for x in np.quantile(cum, q, axis=0)] for q in (0.1, 0.5, 0.9)}
    return Forecast(
        as_of=snap.as_of,
        runs=runs,
        deadline=sc.deadline,
        completion=completion,
        share_dates=share_dates,
        p_on_time=float((city_done <= last).mean()),
        unenrolled_at_deadline={
            "mean": round(float(at_deadline.mean()), 1),
            "p90": round(float(np.quantile(at_deadline, 0.9)), 1),
            "unreachable": unreachable,
        },
        per_kecamatan=per_kecamatan,
        parameters=params,
        days=days,
        enrolled_quantiles=fan,
    )

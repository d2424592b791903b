"""``campaign forecast``: when will it finish if it goes on as the records say (issue #29).

Two steps:

1. **Fit** (``history.py``): the same model, in expected values, replayed over the campaign's past
   under a grid of what the records cannot see directly (no-shows apart from families turned away,
   the share who come back and their delay, the pace where the devices keep up); each combination
   weighted by how well it reproduces the families seated on their day and the walk-ins.
2. **Runs** (``run_field``): each run draws a combination by those weights, the observed parameters
   (device-shifts down, letters returned) from ``status``'s estimates and their standard errors,
   and the split of the families owed on as-of (waiting, away, never coming) from its replay; then
   follows every kecamatan day by day in integer draws, all runs at once (one numpy pass per day).

The model is the field simulator's (``field.py``) in structure; its parameters are what the
records say. Families whose letter came back never come: the completion asked about is that of
the families the campaign can reach and who come. Outputs (SPEC.md, "Forecast"): the completion
date citywide and per kecamatan (P10, P50, P90, or "after <horizon>"), the dates by which 90 % and
95 % of residents are enrolled, P(done by the deadline), residents not enrolled at the deadline
(mean, P90), and the parameters used. How often its intervals hold on campaigns it did not see is
measured by ``benchmarks/forecast_calibration.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ektp_opt.campaign.history import Fit, fit, history_of
from ektp_opt.campaign.levers import MAX_SHIFTS, VISITS_PER_TEAM_DAY, Levers
from ektp_opt.campaign.measure import Z90, Estimate
from ektp_opt.campaign.snapshot import Snapshot
from ektp_opt.campaign.status import Status
from ektp_opt.inputs.calendar import working_days
from ektp_opt.inputs.scenario import LoadedScenario

THROUGHPUT_SD = 0.15  # a device-shift's spread around the pace (as in the field simulator)
HORIZON_DAYS = 250  # working days past the deadline the runs are followed
# Conditions go on changing after as-of (operators tire or learn, the rains, a rumour about the
# card): in every run the pace and the no-show share each wander, their logarithm a random walk
# moving by DRIFT_PER_DAY (standard deviation) a working day, shared by the city's kecamatan.
# The records cannot show a change that has not happened yet; without it, a forecast from a
# well-measured past is sure of a future nobody knows. Set on the calibration study's development
# campaigns (benchmarks/forecast_calibration.py --seed 1), never on the campaigns it reports.
DRIFT_PER_DAY = 0.01
# The fit reads the level of the past weeks and lags a change it has only begun to see (on the
# development campaigns, a pace that rose or fell weeks before as-of: the 95 %-date's interval after
# 10 weeks held in 68 % of them, however short the fit's memory, 4 or 6 days included): each run's
# pace and no-show share also start off the fitted level, by LEVEL_SD (standard deviation of the
# logarithm), the same for the whole run. Set with history.TEMPERATURE (0.3; 0.4 without the level)
# on the development campaigns, as DRIFT_PER_DAY: the 95 %-date after 10 weeks 76 -> 82 %.
LEVEL_SD = 0.06
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


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


@dataclass(frozen=True)
class Parameters:
    """Each run's field, per kecamatan: arrays of shape (runs, kecamatan)."""

    pace: npt.NDArray[np.float64]  # residents a device enrols per day when up
    up: npt.NDArray[np.float64]  # share of device-shifts up
    miss: npt.NDArray[np.float64]  # share of invited families who miss
    back: npt.NDArray[np.float64]  # share of those who come back at all
    hazard: npt.NDArray[np.float64]  # chance a family away comes back on a given working day
    letters_back: npt.NDArray[np.float64]  # share of letters yet to be sent that will come back


def measured(status: Status, codes: list[str], nominal: float) -> tuple[FloatArray, FloatArray]:
    """Each kecamatan's measured no-show share and pace (residents per filled device-day, at most
    the nominal; the nominal where nothing was measured): what the fit's grid multiplies.
    The pace is the one measured even where ``status`` finds the devices keep up: that test counts
    filled device-shifts that reached their regular seats, and a device-shift's own spread (15 %)
    lets devices 20 % below the nominal reach them often enough to pass it; anchored on the
    nominal, the grid could not go down to them. Where families, not devices, are the limit, the
    grid reaches 1.5 times the measured pace."""
    no_show, pace = np.empty(len(codes)), np.empty(len(codes))
    for j, c in enumerate(codes):
        est = status.field.per_kecamatan[c]
        p = est["residents_per_device_day"].estimate
        pace[j] = nominal if not np.isfinite(p) else min(p, nominal)
        q = est["no_show"].estimate
        no_show[j] = q if np.isfinite(q) else 0.1
    return no_show, pace


def draw_parameters(
    status: Status,
    codes: list[str],
    fitted: Fit,
    combo: IntArray,
    base: tuple[FloatArray, FloatArray],
    rng: np.random.Generator,
) -> Parameters:
    """Each run's parameters: the unobserved ones (no-shows, coming back, its delay, the pace) from
    the fit's combination ``combo`` drawn for that run (history.py), the observed ones (device-shifts
    down, letters returned) from what ``status`` measured, with their standard errors."""
    runs, n_k = len(combo), len(codes)
    no_show, pace = base
    up, letters = np.empty((runs, n_k)), np.empty((runs, n_k))
    for j, c in enumerate(codes):
        est = status.field.per_kecamatan[c]
        d = _draw(est["down_share"], runs, rng, 0.0, 1.0)
        up[:, j] = 1.0 - np.where(np.isnan(d), 0.0, d)
        r = _draw(est["letters_returned"], runs, rng, 0.0, 1.0)
        letters[:, j] = np.where(np.isnan(r), 0.0, r)
    ones = np.ones((runs, n_k))
    q_m, share_back, delay, p_m = fitted.values(combo, rng)
    return Parameters(
        pace=p_m[:, None] * pace[None, :] * ones,
        up=up,
        miss=np.clip(q_m[:, None] * no_show[None, :], 0.0, 0.99) * ones,
        back=np.clip(share_back, 0.0, 1.0)[:, None] * ones,
        hazard=(1.0 / np.maximum(delay, 1.0))[:, None] * ones,
        letters_back=letters,
    )


@dataclass(frozen=True)
class Runs:
    """What the runs say, day by day from as-of: ``last_served`` per run and kecamatan (the index of
    the day its last family was enrolled; -1: before as-of; ``n_t``: not within the horizon), and the
    residents enrolled citywide per run and day."""

    last_served: IntArray
    enrolled: FloatArray
    owed_at_deadline: FloatArray  # per kecamatan: families not served by the deadline (mean of the runs)

    def p_on_time(self, deadline_index: int) -> float:
        """The share of runs whose every kecamatan was done by the deadline's day."""
        return float((self.last_served.max(axis=1) <= deadline_index).mean())


@dataclass(frozen=True)
class Prepared:
    """Everything the runs need, made once: the calendar from as-of (every day; ``working`` marks the
    campaign's working days), the plan's bookings, the devices, the fitted field and each run's draw.
    Levers (levers.py) change only what ``simulate`` is given, so that two candidates meet the same
    random numbers."""

    snap: Snapshot
    status: Status
    codes: list[str]
    days: list[dt.date]
    working: npt.NDArray[np.bool_]
    deadline_index: int
    booked: IntArray
    unlettered: IntArray
    devices: IntArray  # (kecamatan, day): devices in service
    shifts: IntArray
    size: FloatArray
    par: Parameters
    queue: IntArray
    away: IntArray
    lost: IntArray
    enrolled_now: float
    residents: float
    unreachable: float
    before: npt.NDArray[np.datetime64]  # per kecamatan: its last recorded enrolment (NaT: none)
    fitted: Fit
    seed: int
    visits_per_team_day: int


def run_field(prep: Prepared, levers: Levers, rng: np.random.Generator) -> Runs:
    """The campaign family by family, all runs at once (arrays of shape (runs, kecamatan)).

    Each open day (a working day, or a catch-up day a lever opens): the families away come back with
    the day's hazard (a geometric delay, memoryless); each device-shift in service is up with the
    run's up share and enrols pace / shifts residents (a 15 % spread, the field simulator's); the
    families the plan books that day get their letter unless it comes back (then they never come),
    come unless they miss, and are served first; a full office turns the rest away to the next day;
    then the queue, first come first served; a family that missed comes back later with the run's
    came-back share, or never; home-visit teams enrol families away or never coming at their door.
    Counts are integers drawn at random, so the last straggler is a family, not a fraction of one:
    the completion date is an order statistic, as in the field.
    """
    par = prep.par
    runs, n_k = par.pace.shape
    n_t = len(prep.days)
    booked, unlettered = rebooked(prep, levers)
    size = prep.size
    queue, away, lost = prep.queue.copy(), prep.away.copy(), prep.lost.copy()
    open_day = prep.working.copy()
    closed = np.flatnonzero(~prep.working[levers.start : prep.deadline_index + 1]) + levers.start
    open_day[closed[: levers.catch_up_days]] = True
    shifts_now = np.where(levers.extra_shift & (prep.shifts < MAX_SHIFTS), prep.shifts + 1, prep.shifts)
    extra = np.array(levers.devices or (0,) * n_k, dtype=np.int64)
    visits = levers.home_teams * prep.visits_per_team_day
    still_booked = booked[:, ::-1].cumsum(axis=1)[:, ::-1]  # booked on day t or later
    served_res = np.zeros((runs, n_k))
    last = np.full((runs, n_k), -1, dtype=np.int64)
    done = (away == 0) & (queue == 0) & (still_booked[None, :, 0] == 0)
    enrolled = np.full((runs, n_t), prep.enrolled_now)
    per_shift = par.pace / prep.shifts
    owed_at_deadline = np.zeros(n_k)
    # the runs' wandering pace and no-show share (DRIFT_PER_DAY), from a stream of their own so
    # that the other draws are those of a forecast without it; a step on working days only
    steps = np.random.default_rng([prep.seed, 2]).standard_normal((2, runs, n_t)) * prep.working[None, None, :]
    drift = np.exp(DRIFT_PER_DAY * np.cumsum(steps, axis=2))
    if LEVEL_SD:
        drift *= np.exp(LEVEL_SD * np.random.default_rng([prep.seed, 3]).standard_normal((2, runs, 1)))
    for t in range(n_t):
        if t == prep.deadline_index + 1:
            owed_at_deadline = (queue + away + still_booked[None, :, t]).mean(axis=0)
        if done.all():
            enrolled[:, t:] = enrolled[:, t - 1 : t] if t else prep.enrolled_now
            break
        if not open_day[t]:
            enrolled[:, t] = enrolled[:, t - 1] if t else prep.enrolled_now
            continue
        lever_on = t >= levers.start
        back = rng.binomial(away, par.hazard)
        away -= back
        queue += back
        in_service = prep.devices[:, t] + (extra if lever_on else 0)
        device_shifts = in_service * (shifts_now if lever_on else prep.shifts)
        up = rng.binomial(np.broadcast_to(device_shifts, (runs, n_k)), par.up)
        spread = 1.0 + THROUGHPUT_SD * rng.standard_normal((runs, n_k)) / np.sqrt(np.maximum(up, 1))
        capacity_res = np.maximum(up * per_shift * drift[0, :, t, None] * spread, 0.0)
        capacity = np.floor(capacity_res / size + rng.random((runs, n_k))).astype(np.int64)
        invited = booked[:, t] - rng.binomial(np.broadcast_to(unlettered[:, t], (runs, n_k)), par.letters_back)
        show = rng.binomial(invited, 1.0 - np.minimum(par.miss * drift[1, :, t, None], 0.99))
        missed = invited - show
        seated = np.minimum(show, capacity)
        walk_in = np.minimum(queue, capacity - seated)
        queue += show - seated - walk_in
        came_back = rng.binomial(missed, par.back)
        away += came_back
        lost += missed - came_back
        served = seated + walk_in
        if visits and lever_on:
            pool = away + lost
            total = np.maximum(pool.sum(axis=1, keepdims=True), 1)
            visited = np.minimum(pool, np.floor(visits * pool / total).astype(np.int64))
            from_lost = rng.hypergeometric(lost, away, visited)  # the teams cannot tell them apart
            lost -= from_lost
            away -= visited - from_lost
            served = served + visited
        served_res += served * size
        last[served > 0] = t
        enrolled[:, t] = prep.enrolled_now + served_res.sum(axis=1)
        ahead = still_booked[:, t + 1] if t + 1 < n_t else np.zeros(n_k, dtype=np.int64)
        done = (queue == 0) & (away == 0) & (ahead[None, :] == 0)
    last[~done] = n_t
    return Runs(last, enrolled, owed_at_deadline)


def rebooked(prep: Prepared, levers: Levers) -> tuple[IntArray, IntArray]:
    """The bookings to come, as a re-plan would lay them out with the levers' devices and shifts:
    from the levers' start, each kecamatan's families keep their order and are booked as early as
    its plan's own rate per device-shift allows at the new count (never later than booked now).
    Without devices or shifts added: the plan in force's bookings."""
    extra = np.array(levers.devices or (0,) * len(prep.codes), dtype=np.int64)
    widened = levers.extra_shift and bool((prep.shifts < MAX_SHIFTS).any())
    if not extra.any() and not widened:
        return prep.booked, prep.unlettered
    start, work = levers.start, prep.working
    device_shifts = prep.devices * prep.shifts[:, None]
    days_open = work & (device_shifts.sum(axis=0) > 0)
    rate = prep.booked[:, days_open].sum(axis=1) / np.maximum(device_shifts[:, days_open].sum(axis=1), 1)
    shifts_now = np.where(widened & (prep.shifts < MAX_SHIFTS), prep.shifts + 1, prep.shifts)
    seats = (prep.devices + extra[:, None]) * shifts_now[:, None] * rate[:, None] * work[None, :]
    seats[:, :start] = 0.0
    booked, unlettered = prep.booked.copy(), prep.unlettered.copy()
    ahead = prep.booked[:, start:].sum(axis=1)
    was = prep.booked[:, start:].cumsum(axis=1)
    now = np.maximum(was, np.minimum(ahead[:, None], np.floor(seats[:, start:].cumsum(axis=1)))).astype(np.int64)
    booked[:, start:] = np.diff(now, axis=1, prepend=0)
    share = prep.unlettered[:, start:].sum(axis=1) / np.maximum(ahead, 1)
    unlettered[:, start:] = np.minimum(booked[:, start:], np.round(booked[:, start:] * share[:, None]).astype(np.int64))
    return booked, unlettered


def initial_state(
    fitted: Fit, combo: IntArray, owed: IntArray, rng: np.random.Generator
) -> tuple[IntArray, IntArray, IntArray]:
    """The families owed a seat on as-of (``owed`` per kecamatan, from the records) split into those
    waiting at the office, those away who will come back, and those who will not, in the proportions
    of each run's replay (a family owed whom the replay does not place is taken to be away)."""
    q, a, lost = fitted.queue[combo], fitted.away[combo], fitted.lost[combo]
    total = q + a + lost
    empty = total <= 0
    share_q = np.where(empty, 0.0, q / np.where(empty, 1.0, total))
    share_a = np.where(empty, 1.0, a / np.where(empty, 1.0, total))
    n = np.broadcast_to(owed, share_q.shape)
    queue = rng.binomial(n, share_q)
    rest = n - queue
    away = rng.binomial(rest, np.clip(share_a / np.maximum(1.0 - share_q, 1e-12), 0.0, 1.0))
    return queue.astype(np.int64), away.astype(np.int64), (rest - away).astype(np.int64)


def prepare(snap: Snapshot, status: Status, ls: LoadedScenario, runs: int = 1000, seed: int = 0) -> Prepared:
    """The fit, the calendar, the bookings and each run's draw (see the module docstring)."""
    sc = ls.scenario
    rng = np.random.default_rng(seed)
    codes = sorted(snap.kecamatan)
    k_of = {c: i for i, c in enumerate(codes)}
    n_k = len(codes)
    # every calendar day from as-of to HORIZON_DAYS working days past the deadline
    deadline_days = working_days(snap.as_of, sc.deadline, ls.workdays, ls.holidays)
    horizon_end = snap.as_of + dt.timedelta(days=HORIZON_DAYS * 2 + (sc.deadline - snap.as_of).days)
    work = working_days(snap.as_of, horizon_end, ls.workdays, ls.holidays)[: len(deadline_days) + HORIZON_DAYS]
    last_day = work[-1] if work else snap.as_of
    days = [snap.as_of + dt.timedelta(days=i) for i in range((last_day - snap.as_of).days + 1)]
    working = np.isin(np.array(days, dtype="datetime64[D]"), np.array(work, dtype="datetime64[D]"))
    deadline_index = (
        int(np.searchsorted(np.array(days, dtype="datetime64[D]"), np.datetime64(sc.deadline), "right")) - 1
    )
    n_t = len(days)
    # who is still owed a seat, and who cannot be reached
    home = np.array([k_of.get(h, 0) for h in snap.home.tolist()], dtype=np.int64)
    owed = np.maximum(snap.members - snap.enrolled, 0)
    open_kk = (owed > 0) & ~snap.returned
    families = np.bincount(home[open_kk], minlength=n_k)
    size = np.bincount(home[open_kk], weights=owed[open_kk], minlength=n_k) / np.maximum(families, 1)
    size[families == 0] = 1.0  # nobody left there: any size will do
    shifts = np.array([snap.kecamatan[c] for c in codes], dtype=np.int64)
    devices = np.zeros((n_k, n_t), dtype=np.int64)
    day_index = np.array(days, dtype="datetime64[D]")
    for _d, kec, _deliv, avail in snap.devices:
        if kec in k_of:
            devices[k_of[kec]] += day_index >= np.datetime64(avail)
    # the plan in force's bookings still to come, per kecamatan and day; the rest owed is away
    pos = {d: t for t, d in enumerate(days)}
    booked = np.zeros((n_k, n_t), dtype=np.int64)
    unlettered = np.zeros((n_k, n_t), dtype=np.int64)
    future = open_kk & ~np.isnat(snap.appt_day) & (snap.appt_day >= np.datetime64(snap.as_of))
    for i in np.flatnonzero(future).tolist():
        t = pos.get(snap.appt_day[i].astype(object))
        if t is not None:
            booked[home[i], t] += 1
            unlettered[home[i], t] += not snap.lettered[i]
    lived = history_of(snap, ls, codes)
    base = measured(status, codes, float(sc.device.capacity_per_day))
    fitted = fit(lived, base[0], base[1], shifts)
    combo = fitted.draw(runs, rng)
    par = draw_parameters(status, codes, fitted, combo, base, rng)
    queue, away, lost = initial_state(fitted, combo, lived.owed, rng)
    before = np.full(n_k, np.datetime64("NaT", "D"))
    for j in range(n_k):
        mine = snap.last_enrolled[home == j]
        mine = mine[~np.isnat(mine)]
        if len(mine):
            before[j] = mine.max()
    visits = sc.home_visits.visits_per_day if sc.home_visits is not None else VISITS_PER_TEAM_DAY
    return Prepared(
        snap=snap,
        status=status,
        codes=codes,
        days=days,
        working=working,
        deadline_index=deadline_index,
        booked=booked,
        unlettered=unlettered,
        devices=devices,
        shifts=shifts,
        size=size,
        par=par,
        queue=queue,
        away=away,
        lost=lost,
        enrolled_now=float(snap.enrolled.sum()),
        residents=float(snap.members.sum()),
        unreachable=float((owed * snap.returned).sum()),
        before=before,
        fitted=fitted,
        seed=seed,
        visits_per_team_day=int(visits),
    )


def simulate(prep: Prepared, levers: Levers | None = None) -> Runs:
    """The runs under ``levers`` (none: as the records say), on the same random numbers each time."""
    return run_field(prep, levers or Levers(), np.random.default_rng([prep.seed, 1]))


def summarise(prep: Prepared, out: Runs) -> Forecast:
    snap, status, days = prep.snap, prep.status, prep.days
    n_t, last = len(days), prep.deadline_index
    done_day, cum = out.last_served, out.enrolled
    runs = cum.shape[0]

    def date_of(idx: IntArray, q: float, j: int | None = None) -> str:
        v = int(np.quantile(idx, q, method="higher"))
        if v >= n_t:
            return f"after {days[-1].isoformat()}"
        if v < 0:
            past = prep.before[j] if j is not None else prep.before.max()
            return str(past) if not np.isnat(past) else snap.as_of.isoformat()
        return days[v].isoformat()

    city_done = done_day.max(axis=1)
    completion = {f"p{int(q * 100)}": date_of(city_done, q) for q in (0.1, 0.5, 0.9)}
    share_dates = {}
    for share in (0.9, 0.95):
        past = next((r["date"] for r in status.by_date if r["enrolled_total"] >= share * prep.residents), None)
        if past is not None:  # reached already: the day the records say
            share_dates[str(share)] = {"p10": past, "p50": past, "p90": past}
            continue
        reached = cum >= share * prep.residents
        first = np.where(reached.any(axis=1), reached.argmax(axis=1), n_t)
        share_dates[str(share)] = {f"p{int(q * 100)}": date_of(first, q) for q in (0.1, 0.5, 0.9)}
    at_deadline = prep.residents - (cum[:, last] if last >= 0 else np.full(runs, prep.enrolled_now))
    per_kecamatan = {
        c: {
            **{f"p{int(q * 100)}": date_of(done_day[:, j], q, j) for q in (0.1, 0.5, 0.9)},
            "p_on_time": round(float((done_day[:, j] <= last).mean()), 4),
        }
        for j, c in enumerate(prep.codes)
    }
    params: dict[str, dict[str, Any]] = {
        name: status.field.city[name].json()
        for name in ("residents_per_device_day", "down_share", "no_show", "letters_returned")
    }
    city_no_show = status.field.city["no_show"].estimate
    params.update(prep.fitted.summary(city_no_show if np.isfinite(city_no_show) else 0.1))
    fan = {f"p{int(q * 100)}": [int(x) for x in np.quantile(cum, q, axis=0)] for q in (0.1, 0.5, 0.9)}
    return Forecast(
        as_of=snap.as_of,
        runs=runs,
        deadline=snap.deadline,
        completion=completion,
        share_dates=share_dates,
        p_on_time=out.p_on_time(last),
        unenrolled_at_deadline={
            "mean": round(float(at_deadline.mean()), 1),
            "p90": round(float(np.quantile(at_deadline, 0.9)), 1),
            "unreachable": prep.unreachable,
        },
        per_kecamatan=per_kecamatan,
        parameters=params,
        days=days,
        enrolled_quantiles=fan,
    )


def forecast(snap: Snapshot, status: Status, ls: LoadedScenario, runs: int = 1000, seed: int = 0) -> Forecast:
    """The forecast as the records say, without levers (``levers.py`` for what would fix it)."""
    prep = prepare(snap, status, ls, runs, seed)
    return summarise(prep, simulate(prep))

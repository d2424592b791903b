"""Monte Carlo of late arrivals: can the backlog seats and catch-up days absorb the no-shows?

The model, stated once so that every figure can be traced to it:

- Each KK misses its appointment with probability ``late_rate``, independently.
- A KK that missed comes back ``D`` working days after its appointment, at the same office,
  with ``D ~ Geometric(1 / mean_delay)`` on {1, 2, ...} (memoryless: "a few days later, now and
  then much later"; mean ``mean_delay``, default 5 working days).
- A KK that comes back after the deadline cannot be enrolled by any plan; those are counted on
  their own (``returned_after_deadline``) and do not count against the backlog. The headline
  probability asks the question a planner can act on: does everyone who comes back by the
  deadline get enrolled by the deadline?
- Late KK queue first-come-first-served at their office. On a regular day the queue is served in
  the seats the plan left free there (the ``reserve_per_shift`` backlog seats plus any seat the
  plan did not book) on devices in service. On a catch-up day every device in service gives its
  whole capacity to the queue. Seats freed by that day's own no-shows are *not* counted: they
  cannot be known in advance, so the figures are conservative.
- Seats are pooled per office and day (a fluid queue in residents): a family is counted served on
  the day its last member is. This is the "free time" rule of the 2011 guidance.

The queue is Lindley's recursion ``B_t = max(0, B_{t-1} + a_t - c_t)``, computed for all runs and
offices at once from cumulative sums (``B = X - min(0, cummin X)``), so the only Python loop is over
batches of runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.plan.view import calendar_of, load_plan_view
from ektp_opt.results import KecamatanBacklog, SimulationSummary
from ektp_opt.solver import Result
from ektp_opt.verify.stamp import require_verified

DEFAULT_MEAN_DELAY = 5.0
BATCH_CELLS = 20_000_000  # random draws per batch of runs: bounds memory at a few hundred MB

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Campaign:
    """What the simulator needs from a plan: each KK's office and working-day index, and the
    seats each office has free for the backlog on each working day up to the deadline."""

    days: tuple[dt.date, ...]  # every working day from start to the deadline
    regular_days: int  # the first ``regular_days`` are regular, the rest are catch-up days
    kecamatan: tuple[str, ...]
    site: IntArray  # per KK: index into ``kecamatan``
    day: IntArray  # per KK: index into ``days``
    members: IntArray
    free_seats: IntArray  # (kecamatan, day): seats for late arrivals

    @property
    def deadline(self) -> dt.date:
        return self.days[-1]


def _campaign(
    ls: LoadedScenario,
    site: IntArray,
    day: IntArray,
    members: IntArray,
    devices: list[tuple[int, dt.date]],
    idle_seats: bool,
) -> Campaign:
    """Seats for late KK per office and day, from the devices in service: on a regular day the
    ``reserve_per_shift`` backlog seats of every device-shift (with ``idle_seats``, every seat
    the plan left unbooked instead); on a catch-up day the whole device. Only as many
    device-shifts a day as the kecamatan's operators can staff count (rule 7)."""
    sc = ls.scenario
    days, regular = calendar_of(ls)
    codes = tuple(k.code for k in ls.admin.kecamatan)
    cap = sc.device.capacity_per_day
    device_shifts = np.zeros((len(codes), len(days)), dtype=np.int64)
    as_dates = np.array(days, dtype="datetime64[D]")
    for k, avail in devices:
        device_shifts[k] += np.where(as_dates >= np.datetime64(avail, "D"), sc.shifts_for(codes[k]), 0)
    for k, code in enumerate(codes):  # rule 7: no more device-shifts a day than the operators staff
        limit = sc.staffed_device_shifts(code)
        if limit is not None:
            np.minimum(device_shifts[k], limit, out=device_shifts[k])
    per_shift = np.array([cap // sc.shifts_for(c) for c in codes], dtype=np.int64)[:, None]
    whole = device_shifts * per_shift
    backlog = device_shifts * sc.backlog.reserve_per_shift
    if idle_seats:
        free = whole.copy()
        np.subtract.at(free, (site, day), members)
        free = np.maximum(free, 0)
    else:
        free = backlog
    free[:, regular:] = whole[:, regular:]
    return Campaign(days, regular, codes, site, day, members, free)


def campaign_from_plan(plan_dir: Path, ls: LoadedScenario, idle_seats: bool = False) -> Campaign:
    """Read a plan folder; a date or office the scenario does not know is an input error."""
    view = load_plan_view(plan_dir, ls)
    require_verified(plan_dir, ls)  # a forged plan is exit 5, as in `verify`
    devices = list(zip(view.device_kec.tolist(), view.device_from, strict=True))
    return _campaign(ls, view.site, view.day, view.members, devices, idle_seats)


def campaign_from_result(
    result: Result, households: Households, ls: LoadedScenario, idle_seats: bool = False
) -> Campaign:
    """The same campaign straight from a fresh solve, without a round trip through CSV."""
    a, data = result.assignment, result.problem
    days, _ = calendar_of(ls)
    if tuple(data.days) != days[: len(data.days)]:
        raise ValueError("the plan was made on another calendar than the scenario's")
    devices = [(d.kecamatan, d.available_from) for d in a.devices]
    members = households.members.astype(np.int64)
    return _campaign(ls, a.site.astype(np.int64), a.day.astype(np.int64), members, devices, idle_seats)


def queue(arrivals: IntArray, capacity: IntArray) -> IntArray:
    """Backlog left at the end of each day (last axis = days), FCFS with daily capacity.

    Lindley's recursion in closed form: with ``X = cumsum(a - c)``, ``B = X - min(0, cummin X)``.
    """
    x = np.cumsum(arrivals - capacity, axis=-1)
    floor = np.minimum(np.minimum.accumulate(x, axis=-1), 0)
    backlog: IntArray = x - floor
    return backlog


def served_day(arrival_day: IntArray, members: IntArray, capacity: IntArray) -> IntArray:
    """For one office: the day each late KK is served (-1: not by the deadline).

    KK are queued in the order given (callers sort by arrival day, then appointment); a KK is
    served on the first day the cumulative seats given to the queue cover it and everyone
    before it. This is the per-KK trace of ``queue``; tests hold it against a hand computation."""
    t = capacity.shape[-1]
    inside = arrival_day < t
    a = np.bincount(arrival_day[inside], weights=members[inside], minlength=t).astype(np.int64)
    departed = np.cumsum(a) - queue(a, capacity)
    need = np.cumsum(np.where(inside, members, 0))
    day = np.searchsorted(departed, need, side="left")
    day = np.maximum(day, arrival_day)  # nobody is served before arriving
    return np.where(inside & (day < t), day, -1).astype(np.int64)


@dataclass(frozen=True)
class SimulationResult:
    runs: int
    late_rate: float
    mean_delay: float
    seed: int
    days: tuple[dt.date, ...]
    regular_days: int
    kecamatan: tuple[str, ...]
    finished: npt.NDArray[np.bool_]  # per run: everyone back by the deadline enrolled by it
    clear_day: IntArray  # (run, kecamatan): day the last late KK is served; -1 none late; T never
    waiting_at_deadline: IntArray  # (run, kecamatan): back by the deadline, still queuing after it
    citywide_backlog: IntArray  # (run, day): residents waiting at the end of each day
    late_residents: IntArray  # per run
    returned_after_deadline: IntArray  # per run: residents no plan could enrol

    @property
    def probability(self) -> float:
        return float(self.finished.mean())

    def clear_date(self, day: float) -> str:
        if day < 0:
            return "no backlog"
        if day >= len(self.days):
            return "after the deadline"
        return self.days[int(day)].isoformat()

    def per_kecamatan(self) -> list[KecamatanBacklog]:
        """Expected (mean, over runs that clear) and 95th-percentile clear date per office."""
        out = []
        t = len(self.days)
        for k, code in enumerate(self.kecamatan):
            days = self.clear_day[:, k]
            p95 = float(np.percentile(days, 95, method="higher"))
            cleared = days[(days >= 0) & (days < t)]
            mean = float(np.round(cleared.mean())) if cleared.size else (-1.0 if (days < 0).all() else float(t))
            out.append(
                KecamatanBacklog(
                    kecamatan=code,
                    probability_cleared_by_deadline=float((days < t).mean()),
                    expected_clear_date=self.clear_date(mean),
                    p95_clear_date=self.clear_date(p95),
                    expected_waiting_at_deadline=float(self.waiting_at_deadline[:, k].mean()),
                )
            )
        return out

    def summary(self) -> SimulationSummary:
        peak = self.citywide_backlog.max(axis=1)
        peak_day = self.citywide_backlog.argmax(axis=1)
        waiting = self.waiting_at_deadline.sum(axis=1)
        city_clear = np.where(
            (self.clear_day >= len(self.days)).any(axis=1), len(self.days), self.clear_day.max(axis=1)
        )
        return SimulationSummary(
            runs=self.runs,
            late_rate=self.late_rate,
            mean_delay_working_days=self.mean_delay,
            seed=self.seed,
            deadline=self.days[-1],
            last_regular_day=self.days[self.regular_days - 1],
            probability_on_time=self.probability,
            late_residents_mean=float(self.late_residents.mean()),
            returned_after_deadline_mean=float(self.returned_after_deadline.mean()),
            citywide_clear_date_expected=self.clear_date(float(np.round(city_clear.mean()))),
            citywide_clear_date_p95=self.clear_date(float(np.percentile(city_clear, 95, method="higher"))),
            peak_backlog_mean=float(peak.mean()),
            peak_backlog_p95=float(np.percentile(peak, 95)),
            peak_backlog_typical_date=self.days[int(np.median(peak_day))],
            waiting_at_deadline_mean=float(waiting.mean()),
            waiting_at_deadline_p95=float(np.percentile(waiting, 95)),
            per_kecamatan=self.per_kecamatan(),
        )


def simulate(
    campaign: Campaign,
    late_rate: float,
    runs: int,
    seed: int,
    mean_delay: float = DEFAULT_MEAN_DELAY,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Run ``runs`` independent campaigns. The same seed gives the same result on any machine
    (numpy's PCG64 stream; the batch size is fixed, not tied to the machine)."""
    if not 0.0 <= late_rate <= 1.0:
        raise ValueError("late_rate must lie in [0, 1]")
    if mean_delay < 1.0:
        raise ValueError("mean_delay must be at least 1 working day")
    rng = np.random.default_rng(seed)
    n, k, t = len(campaign.site), len(campaign.kecamatan), len(campaign.days)
    batch = max(1, BATCH_CELLS // max(n, 1))
    finished = np.zeros(runs, dtype=bool)
    clear = np.zeros((runs, k), dtype=np.int64)
    waiting = np.zeros((runs, k), dtype=np.int64)
    city = np.zeros((runs, t), dtype=np.int64)
    late = np.zeros(runs, dtype=np.int64)
    beyond = np.zeros(runs, dtype=np.int64)
    cap = campaign.free_seats
    done = 0
    while done < runs:
        r = min(batch, runs - done)
        missed = rng.random((r, n)) < late_rate
        run_of, kk = np.nonzero(missed)
        back = campaign.day[kk] + rng.geometric(1.0 / mean_delay, size=kk.size)
        members = campaign.members[kk]
        cell = run_of * k + campaign.site[kk]
        inside = back < t
        arrivals = np.bincount(cell[inside] * t + back[inside], weights=members[inside], minlength=r * k * t).astype(
            np.int64
        )
        arrivals = arrivals.reshape(r, k, t)
        after = np.bincount(cell[~inside], weights=members[~inside], minlength=r * k).astype(np.int64).reshape(r, k)
        backlog = queue(arrivals, cap[None, :, :])
        departed = np.cumsum(arrivals, axis=-1) - backlog
        total = arrivals.sum(axis=-1)
        left = backlog[:, :, -1]
        # the day the last arrival inside the horizon is served: first day departures reach the total
        last = (departed < total[:, :, None]).sum(axis=-1)
        last = np.where(total == 0, -1, last)
        last = np.where(left > 0, t, last)
        clear[done : done + r] = last
        waiting[done : done + r] = left
        city[done : done + r] = backlog.sum(axis=1)
        finished[done : done + r] = left.sum(axis=1) == 0
        late[done : done + r] = np.bincount(run_of, weights=members, minlength=r).astype(np.int64)
        beyond[done : done + r] = after.sum(axis=1)
        done += r
        if progress is not None:
            progress(r)
    return SimulationResult(
        runs,
        late_rate,
        mean_delay,
        seed,
        campaign.days,
        campaign.regular_days,
        campaign.kecamatan,
        finished,
        clear,
        waiting,
        city,
        late,
        beyond,
    )

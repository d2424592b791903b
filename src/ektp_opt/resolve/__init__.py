"""Plan again after a change, keeping every promise that can be kept (SPEC.md, "Planning again").

Order of decisions, each with a proven bound (models/FORMULATION.md, "resolve"):

1. Level R1, fewest KK whose date or shift changes: ``split.solve_split`` places the devices of
   the pools not yet delivered; its optimum is a lower bound on the moves.
2. KK level: in each (kecamatan, day, shift) the largest families leave only when the seats do not
   hold everyone; the rest keep their seat (their device when it is still there).
   Home visits are kept where still possible and re-planned otherwise (``visits.py``) before this
   step, so the device-days they take are out of the office.
3. Movers get the earliest free seats after the notice window, kelurahan by kelurahan; that
   first-fit fill is what the completion, waiting and compactness bounds are measured against.
   With a cap on each move's delay (``--max-delay``), the fewest extra KK make room within it
   instead (``cap.py`` bounds them, ``capped.py`` seats them), unless that fill already keeps it.
4. KK that missed a past appointment (``--attendance``) are booked into backlog seats after the
   notice window, then into catch-up days, never into a regular seat someone else holds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ektp_opt.errors import DelayCapError, InfeasibleError, InputError, NoSolutionError
from ektp_opt.inputs.calendar import index_on_or_after, working_days
from ektp_opt.inputs.csvread import iter_rows
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.plan.files import APPOINTMENTS, DEVICES, HOME_VISIT_COLUMNS, HOME_VISITS
from ektp_opt.plan.metrics import plan_objectives
from ektp_opt.plan.read import parse_date, read_appointments, read_devices
from ektp_opt.problem import ProblemData, build_problem
from ektp_opt.resolve.cap import smallest_feasible_cap
from ektp_opt.resolve.capped import KecamatanMovers, reach_of, usable_free, working_days_after
from ektp_opt.resolve.repack import repack
from ektp_opt.resolve.seats import SlotFiller, keep_in_cell
from ektp_opt.resolve.split import SplitInput, SplitResult, shortfall, solve_split
from ektp_opt.resolve.visits import VisitPlan, replan_visits
from ektp_opt.results import CapDiagnosis, KecamatanCapFigures, Proof, ShortKecamatan
from ektp_opt.solver import Result, SolveOptions
from ektp_opt.solver.apportion import largest_remainder
from ektp_opt.solver.assign import Assignment, Device, place_devices
from ektp_opt.solver.params import load_preset
from ektp_opt.solver.progress import Reporter
from ektp_opt.solver.result import LevelResult, Status, Timings, overall_status

IntArray = npt.NDArray[np.int64]
KEPT_SCOPE = "given the kept appointments"
CAP_SCOPE = "within the delay cap, given the device placement and the KK whose cell lost seats"


@dataclass(frozen=True)
class Change:
    kk: int  # household index
    old: tuple[dt.date | None, int | None, str]
    new: tuple[dt.date | None, int | None, str | None]
    reason: str
    is_move: bool  # office date or shift changed (the R1 objective counts these)
    forced: bool = False  # inside the notice window
    visit: bool = False  # a home visit changed (or an office seat became one)


@dataclass(frozen=True)
class CapBound:
    """The moves of a capped re-plan: those the per-cell rule forces, plus the fewest extra KK
    that make room within the cap (bounded per kecamatan by the cap model, ``cap.py``)."""

    must: int  # KK whose cell lost seats (or whose day is gone): they move whatever the cap
    extra: int  # KK moved only to make room within the cap
    extra_bound: int  # proven lower bound on ``extra`` given the device placement
    proven: bool  # every kecamatan's model was solved to optimality


@dataclass
class Replan:
    result: Result
    changes: list[Change]
    as_of: dt.date
    notice_end: dt.date | None  # last day of the notice window
    split: SplitResult
    backlog: dict[int, tuple[dt.date, int, str] | None] = field(default_factory=dict)  # missed KK
    max_delay: int | None = None  # the cap on each moved KK's delay, working days
    cap: CapBound | None = None  # how the moves under the cap were bounded
    visits: VisitPlan | None = None  # the new home visits (None: the scenario plans none)

    @property
    def moved(self) -> int:
        return sum(c.is_move for c in self.changes if c.kk not in self.backlog)


def read_attendance(path: Path, households: Households) -> dict[int, bool]:
    """``kk_id,attended`` with attended 1/0 (or yes/no, true/false)."""
    index = {k: i for i, k in enumerate(households.kk_id.tolist())}
    truth = {"1": True, "yes": True, "true": True, "0": False, "no": False, "false": False}
    out: dict[int, bool] = {}
    for row_no, row in iter_rows(path, ["kk_id", "attended"]):
        kk = index.get(row["kk_id"])
        if kk is None:
            raise InputError(path, f"row {row_no}, column kk_id", f"{row['kk_id']} is not in the population")
        value = truth.get(row["attended"].lower())
        if value is None:
            raise InputError(path, f"row {row_no}, column attended", f"{row['attended']!r} is not 1/0 or yes/no")
        if kk in out:
            raise InputError(path, f"row {row_no}, column kk_id", f"{row['kk_id']} is listed twice")
        out[kk] = value
    return out


@dataclass
class _Old:
    day: IntArray  # index into the new regular days, -1 when not bookable any more
    date: list[dt.date]
    shift: IntArray
    device: list[str]
    site: IntArray
    devices: dict[str, tuple[int, dt.date, dt.date]]  # id -> kecamatan, delivery, available_from
    visited: npt.NDArray[np.bool_]  # KK visited at home (no office seat); updated to the new plan's
    visit_days: list[tuple[str, dt.date]]  # (device, date) of the plan's mobile days
    visit_rows: list[tuple[int, dt.date | None, str]] = field(default_factory=list)  # home_visits.csv of the old plan
    why: dict[int, str] = field(default_factory=dict)  # KK that need an office seat for a reason of their own


def check_old_plan(plan_dir: Path) -> None:
    """The plan in force must keep every hard rule for the scenario it was made for, or a re-plan
    that keeps its past appointments would inherit the breakage and blame itself (exit 5). A
    broken old plan is an input error naming it (exit 3). Skipped, with nothing claimed, when the
    scenario named in its summary.json is no longer there."""
    from ektp_opt.inputs.population import load_population
    from ektp_opt.inputs.scenario import load_scenario
    from ektp_opt.plan.read import check_plan_dir, scenario_of
    from ektp_opt.verify import verify_plan

    check_plan_dir(plan_dir)
    try:
        old_scenario = scenario_of(plan_dir, None)
    except InputError:
        raise InputError(plan_dir, None, "not a plan folder (no summary.json naming its scenario)") from None
    if not old_scenario.is_file():
        return
    ls_old = load_scenario(old_scenario)
    report = verify_plan(plan_dir, ls_old, load_population(ls_old))
    if not report.ok:
        names = ", ".join(v.rule for v in report.violations[:3])
        raise InputError(plan_dir, None, f"the plan to re-plan breaks hard rules ({names}); see `ektp-opt verify`")


def _read_old(plan_dir: Path, data: ProblemData, households: Households) -> _Old:
    path = plan_dir / APPOINTMENTS
    appt = read_appointments(path)
    index = {k: i for i, k in enumerate(households.kk_id.tolist())}
    kec = {c: i for i, c in enumerate(data.kecamatan_codes)}
    rows = np.array([index.get(k, -1) for k in appt.kk_id.tolist()], dtype=np.int64)
    if (rows < 0).any():
        i = int(np.flatnonzero(rows < 0)[0])
        raise InputError(path, f"row {i + 2}, column kk_id", f"{appt.kk_id[i]} is not in the scenario's population")
    n = len(households)
    visited = np.zeros(n, dtype=bool)
    visit_days: list[tuple[str, dt.date]] = []
    visit_rows: list[tuple[int, dt.date | None, str]] = []
    hv_path = plan_dir / HOME_VISITS
    if hv_path.exists():
        for row_no, row in iter_rows(hv_path, HOME_VISIT_COLUMNS):
            hh = index.get(row["kk_id"])
            if hh is None:
                raise InputError(hv_path, f"row {row_no}, column kk_id", f"{row['kk_id']} is not in the population")
            visited[hh] = True
            when = parse_date(hv_path, row_no, "date", row["date"]) if row["date"] else None
            visit_rows.append((hh, when, row["device_id"]))
            if when is not None:
                visit_days.append((row["device_id"], when))
    if len(rows) + int(visited.sum()) != n or len(np.unique(rows)) != len(rows) or visited[rows].any():
        raise InputError(path, None, "with home_visits.csv, must list every KK of the population exactly once")
    dates: list[dt.date] = [dt.date.min] * n
    for r, d in zip(rows.tolist(), appt.date.astype(object).tolist(), strict=True):
        dates[r] = d
    day_of = {d: i for i, d in enumerate(data.days[: data.regular_days])}
    day = np.array([day_of.get(d, -1) for d in dates], dtype=np.int64)
    shift = np.zeros(n, dtype=np.int64)
    shift[rows] = appt.shift
    device = [""] * n
    for r, d in zip(rows.tolist(), appt.device.tolist(), strict=True):
        device[r] = d
    site = np.zeros(n, dtype=np.int64)
    site[rows] = [kec.get(s, -1) for s in appt.site.tolist()]
    devices = {}
    for dev, k, delivered, avail in read_devices(plan_dir / DEVICES):
        if k not in kec:
            raise InputError(plan_dir / DEVICES, f"device {dev}", f"kecamatan {k} is not in the scenario")
        devices[dev] = (kec[k], delivered, avail)
    return _Old(day, dates, shift, device, site, devices, visited, visit_days, visit_rows)


def _cell_tables(
    data: ProblemData,
    old: _Old,
    members: IntArray,
    future: npt.NDArray[np.bool_],
    a: int,
    w_end: int,
    top: int,
    away: IntArray,
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Per (kecamatan, day, n devices): least KK to move, members they free, free seats after the
    notice window; then the same two seat tables for the fluid relaxation, where a cell frees
    exactly its excess members (not whole largest families). Days before ``a`` are left zero.
    ``away[k, d]``: devices out on home visits that day, which serve no office seat."""
    n_kec, n_days = data.n_kec, data.regular_days
    moves = np.zeros((n_kec, n_days, top + 1), dtype=np.int64)
    freed = np.zeros_like(moves)
    free = np.zeros_like(moves)
    n = np.arange(top + 1, dtype=np.int64)
    serving = lambda k, d: np.maximum(n - int(away[k, d]), 0)  # noqa: E731
    for k in range(n_kec):
        seats, shifts = int(data.seats[k]), int(data.shifts[k])
        for d in range(max(a, w_end), n_days):
            free[k, d] = serving(k, d) * seats * shifts  # empty cells; booked ones are corrected below
    cells: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    idx = np.flatnonzero(future & (old.day >= 0))
    for i, k, d, s in zip(
        idx.tolist(), old.site[idx].tolist(), old.day[idx].tolist(), old.shift[idx].tolist(), strict=True
    ):
        cells[(k, d, s)].append(int(members[i]))
    # KK with no cell to keep (their date is no longer a working day, or their home visit was
    # dropped) move whatever the devices: a constant, put on the first re-planned day.
    for i in np.flatnonzero(future & (old.day < 0)).tolist():
        k = int(old.site[i])
        moves[k, a] += 1
        freed[k, a] += int(members[i])
    stay = np.zeros_like(moves)
    least, least_stay = freed.copy(), np.zeros_like(moves)
    for (k, d, _s), sizes in cells.items():
        seats = int(data.seats[k])
        room = serving(k, d) * seats
        prefix = np.concatenate(([0], np.cumsum(sorted(sizes, reverse=True))))
        excess = prefix[-1] - room
        count = np.searchsorted(prefix, excess, side="left")
        moves[k, d] += count
        freed[k, d] += prefix[np.minimum(count, len(sizes))]
        stay[k, d] += prefix[-1] - prefix[np.minimum(count, len(sizes))]
        least[k, d] += np.maximum(excess, 0)
        least_stay[k, d] += np.minimum(prefix[-1], room)
        if d >= w_end:
            free[k, d] += np.maximum(0, room - prefix[-1]) - room
    free_least = free.copy()
    # Operators (rule 7): a day holds at most limit device-shifts of seats, whatever the devices.
    for k in np.flatnonzero(data.slot_limit >= 0).tolist():
        cap = int(data.slot_limit[k]) * int(data.seats[k])
        free[k] = np.minimum(free[k], np.maximum(0, cap - stay[k]))
        free_least[k] = np.minimum(free_least[k], np.maximum(0, cap - least_stay[k]))
    return moves, freed, free, least, free_least


def _fluid_fill(free_by_day: list[int], need: int) -> tuple[int, int]:
    """Earliest last day and least waiting (1-based day indices) to seat ``need`` residents."""
    last, waiting = -1, 0
    for d, room in enumerate(free_by_day):
        if need <= 0:
            break
        take = min(room, need)
        if take:
            last, waiting, need = d, waiting + take * (d + 1), need - take
    return last, waiting


@dataclass
class _Window:
    """Where the re-plan starts: the as-of day, the notice window, what is past, who missed."""

    a: int  # index of the first working day on or after as-of
    w_end: int  # first day after the notice window
    notice_end: dt.date | None  # last day of the notice window
    past: npt.NDArray[np.bool_]
    missed: list[int]


@dataclass
class _Seating:
    """The new plan as it is built: every KK's day, shift and device, and what changed."""

    day: IntArray
    shift: IntArray
    device: IntArray
    changes: list[Change] = field(default_factory=list)
    movers: list[tuple[int, str, bool]] = field(default_factory=list)  # (kk, reason, forced)
    load: dict[tuple[int, int, int, int], int] = field(default_factory=lambda: defaultdict(int))
    reseated: set[int] = field(default_factory=set)  # KK seated again by the exact model (``repack``)

    def copy(self) -> _Seating:
        load: dict[tuple[int, int, int, int], int] = defaultdict(int, self.load)
        return _Seating(
            self.day.copy(),
            self.shift.copy(),
            self.device.copy(),
            list(self.changes),
            list(self.movers),
            load,
            set(self.reseated),
        )


@dataclass
class Prepared:
    """A re-plan up to the point where the movers are seated: the device placement (R1) is made
    and every KK that keeps its cell has its seat. Whatever the delay cap, this part is the same,
    so ``finish`` (one cap) and ``tradeoff.front`` (every cap) start from it."""

    ls: LoadedScenario
    data: ProblemData
    households: Households
    members: IntArray
    old: _Old
    win: _Window
    split: SplitResult
    devices: list[Device]
    in_service: list[list[list[int]]]
    seating: _Seating
    as_of: dt.date
    options: SolveOptions
    started: float
    visits: VisitPlan | None = None  # the new home visits (None: the scenario plans none)


def prepare(
    old_plan: Path,
    ls: LoadedScenario,
    households: Households,
    as_of: dt.date,
    notice_days: int,
    attendance: dict[int, bool] | None = None,
    options: SolveOptions | None = None,
    reporter: Reporter | None = None,
) -> Prepared:
    """Read the plan in force, fix the window, place the devices (fewest moves first, CP-SAT) and
    keep every KK in its cell where the cell's devices still seat it. Raises InfeasibleError when
    the changed deliveries cannot hold every KK by the last regular day."""
    options = options or SolveOptions()
    reporter = reporter or Reporter()
    start = time.perf_counter()
    # Home visits: kept where still possible, re-planned otherwise (resolve/visits.py); their
    # devices are taken out of the office on those days below.
    full = build_problem(ls, households)
    data = dataclasses.replace(full, mobile=None, home_visits=None)
    members = households.members.astype(np.int64)
    with reporter.stage("read old plan"):
        old = _read_old(old_plan, data, households)
    groups = _visit_groups(old_plan, ls, data, households, old, full, as_of)
    win = _window(old_plan, data, households, old, as_of, notice_days, attendance or {})
    future = ~win.past & ~old.visited  # KK visited at home have no office seat
    with reporter.stage("resolve: fewest moves"):
        away = _away(ls, data, old, full, groups is not None)
        split, split_all, late = _place_devices(ls, data, old, members, future, win, as_of, options, away)
    devices = place_devices(data, split_all, late)
    _check_history(ls, data, old, devices, win)
    visits = None
    if ls.scenario.home_visits is not None:
        spec = ls.scenario.home_visits
        portable = {k: spec.portable(code) for k, code in enumerate(data.kecamatan_codes)}
        visited = np.flatnonzero(old.visited).tolist()
        kec_of = {i: int(data.kelurahan_kecamatan[households.kelurahan[i]]) for i in visited}
        visits = replan_visits(
            data,
            portable,
            kec_of,
            groups if groups is not None else _old_groups(old),
            devices,
            win.w_end,
            as_of,
            "the scenario now plans home visits ([home_visits])" if groups is not None else None,
        )
        old = dataclasses.replace(old, visit_days=visits.mobile_days)  # their devices leave the office
    in_service = _in_service(data, devices, old)
    seating = _seat_kept(data, old, devices, in_service, members, future, win)
    return Prepared(
        ls, data, households, members, old, win, split, devices, in_service, seating, as_of, options, start, visits
    )


def _check_history(ls: LoadedScenario, data: ProblemData, old: _Old, devices: list[Device], win: _Window) -> None:
    """What happened before as-of cannot be re-planned: a changed scenario in which a device used
    then was not yet there (or is somewhere else) contradicts the record. An input error naming
    the device and the first appointment it contradicts (exit 3), never a plan that breaks a rule."""
    by_id = {d.device_id: d for d in devices}
    for i in np.flatnonzero(win.past).tolist():
        dev = by_id.get(old.device[i])
        if dev is None:
            why = "has no such device"
        elif dev.kecamatan != int(old.site[i]):
            why = f"places {dev.device_id} in {data.kecamatan_codes[dev.kecamatan]}"
        elif dev.available_from > old.date[i]:
            why = f"makes {dev.device_id} available only from {dev.available_from}"
        else:
            continue
        raise InputError(
            ls.path,
            "deliveries",
            f"contradicts what already happened: device {old.device[i]} enrolled KK on {old.date[i]} "
            f"(before as-of), but the changed scenario {why}",
        )


def _away(ls: LoadedScenario, data: ProblemData, old: _Old, full: ProblemData, added: bool) -> IntArray:
    """Devices out on home visits per (kecamatan, regular day), as the device placement should see
    them: the plan in force's mobile days (re-planned ones mostly stay), or the planner's when the
    scenario adds [home_visits]; none without the section. Without this the placement counted
    those devices as office seats and could leave a kecamatan short once the visits took them."""
    away = np.zeros((data.n_kec, data.regular_days), dtype=np.int64)
    if ls.scenario.home_visits is None:
        return away
    if added:
        if full.mobile is not None:
            n = min(data.regular_days, full.mobile.shape[1])
            away[:, :n] = full.mobile[:, :n]
        return away
    day_of = {d: i for i, d in enumerate(data.days[: data.regular_days])}
    for dev, date in set(old.visit_days):  # one line per home in home_visits.csv: one device-day each
        if dev in old.devices and date in day_of:
            away[old.devices[dev][0], day_of[date]] += 1
    return away


def _old_groups(old: _Old) -> list[tuple[dt.date | None, str, list[int]]]:
    """The plan in force's mobile days as (date, device, KK in route order); each KK it left
    unserved as a group of its own (re-planned alone, in case a device now reaches it)."""
    days: dict[tuple[dt.date, str], list[int]] = defaultdict(list)
    alone: list[tuple[dt.date | None, str, list[int]]] = []
    for kk, date, dev in old.visit_rows:
        if date is None:
            alone.append((None, "", [kk]))
        else:
            days[(date, dev)].append(kk)
    return [(date, dev, kks) for (date, dev), kks in days.items()] + alone  # the file's order


def _visit_groups(
    old_plan: Path,
    ls: LoadedScenario,
    data: ProblemData,
    households: Households,
    old: _Old,
    full: ProblemData,
    as_of: dt.date,
) -> list[tuple[dt.date | None, str, list[int]]] | None:
    """When the scenario adds or drops [home_visits], who changes side (updates ``old`` in place).
    Adding: the flagged KK leave their future office seats for visits grouped as the planner
    groups them (returned, to be given days). Dropping: the visited KK need office seats
    (``old.why``). None when the plan in force's visits are to be kept or re-planned (or none)."""
    spec = ls.scenario.home_visits
    had = (old_plan / HOME_VISITS).exists()
    if spec is None and had:
        done = [kk for kk, date, _dev in old.visit_rows if date is not None and date < as_of]
        if done:
            raise InputError(
                ls.path, "home_visits", f"missing, but {len(done)} home visits of {old_plan} happened before as-of"
            )
        for kk, date, dev in old.visit_rows:
            old.visited[kk] = False
            old.site[kk] = int(data.kelurahan_kecamatan[households.kelurahan[kk]])
            old.date[kk] = date or as_of
            old.device[kk] = dev
            old.day[kk] = -1
            old.why[kk] = "home visits dropped from the scenario: an office seat instead"
        old.visit_days.clear()  # no device leaves the office for a visit any more
        return None
    if spec is None or had or full.home_visits is None:
        return None
    # Flagged KK whose office appointment is past were enrolled there: they stay (SPEC.md).
    came = {kk for kk in np.flatnonzero(households.home_visit).tolist() if old.date[kk] < as_of}
    groups: list[tuple[dt.date | None, str, list[int]]] = []
    for m in full.home_visits.days:
        kks = [kk for kk in m.kk if kk not in came]
        if kks:
            groups.append((None, "", kks))
    groups += [(None, "", [kk]) for kks in full.home_visits.unserved.values() for kk in kks if kk not in came]
    for _d, _dev, kks in groups:
        old.visited[kks] = True
    return groups


def resolve(
    old_plan: Path,
    ls: LoadedScenario,
    households: Households,
    as_of: dt.date,
    notice_days: int,
    attendance: dict[int, bool] | None = None,
    options: SolveOptions | None = None,
    reporter: Reporter | None = None,
    max_delay: int | None = None,
) -> Replan:
    """Re-plan ``old_plan`` under the changed scenario ``ls``. Raises InfeasibleError when the
    changed deliveries cannot hold every KK by the last regular day, and DelayCapError (an
    InfeasibleError) when no plan keeps every moved KK within ``max_delay`` working days.

    The steps: ``prepare`` (read the plan in force, the window, the device placement, the KK that
    keep their cell), then ``finish``: seat the movers after the notice window (within the cap,
    moving the fewest extra KK, when there is one), book missed KK into backlog seats, measure the
    levels."""
    prep = prepare(old_plan, ls, households, as_of, notice_days, attendance, options, reporter)
    return finish(prep, max_delay, reporter)


def finish(prep: Prepared, max_delay: int | None = None, reporter: Reporter | None = None) -> Replan:
    """Seat the movers of a prepared re-plan (under ``max_delay`` when given) and measure it. The
    prepared state is not changed, so one ``prepare`` serves several caps."""
    reporter = reporter or Reporter()
    ls, data, households, members, old, win = prep.ls, prep.data, prep.households, prep.members, prep.old, prep.win
    devices, in_service, split = prep.devices, prep.in_service, prep.split
    seating = prep.seating.copy()
    cap_bound: CapBound | None = None
    with reporter.stage("resolve: seat KK"):
        bound_last, bound_wait = _seat_movers(
            data, households, old, devices, in_service, members, win, seating, prep.options
        )
        if max_delay is not None and max(move_delays(data.days, seating.changes), default=0) > max_delay:
            # The plan without a cap has the fewest moves; only when it breaks the cap is it replaced.
            seating = prep.seating.copy()
            bound_last, bound_wait, cap_bound = seat_capped(prep, seating, max_delay)
        backlog = _book_backlog(ls, data, devices, win.missed, old, members, seating.load, win.w_end)
        seating.changes += _visit_changes(prep)
        for i, booked in backlog.items():
            new: tuple[dt.date | None, int | None, str | None] = booked if booked is not None else (None, None, None)
            seating.changes.append(
                Change(
                    i,
                    (old.date[i], int(old.shift[i]), old.device[i]),
                    new,
                    "missed appointment: backlog seat"
                    if booked
                    else "missed appointment: no backlog seat left before the deadline",
                    False,
                )
            )
    levels = _levels(data, households, old, members, seating, split, bound_last, bound_wait, cap_bound)
    site_out = np.where(old.visited, -1, old.site)  # visited KK have no office appointment
    assignment = Assignment(
        site_out.astype(np.int32),
        seating.day.astype(np.int32),
        seating.shift.astype(np.int8),
        seating.device.astype(np.int32),
        devices,
        0,
    )
    timings = Timings()
    timings.add("resolve", time.perf_counter() - prep.started)
    result = Result(
        overall_status(levels),
        levels,
        assignment,
        data,
        None,
        time.perf_counter() - prep.started,
        prep.options,
        timings,
    )
    return Replan(
        result, seating.changes, prep.as_of, win.notice_end, split, backlog, max_delay, cap_bound, prep.visits
    )


def _visit_changes(prep: Prepared) -> list[Change]:
    """One line per KK whose home visit changed, or who left an office seat for a visit."""
    if prep.visits is None:
        return []
    old = prep.old
    at_home = {kk for kk, _date, _dev in old.visit_rows}  # the plan in force's visits
    out = []
    for kk, date, dev, new_date, new_dev, reason in prep.visits.changes:
        if kk not in at_home:  # an office seat that became a visit ([home_visits] added)
            before: tuple[dt.date | None, int | None, str] = (old.date[kk], int(old.shift[kk]), old.device[kk])
        else:
            before = (date, None, dev)
        out.append(Change(kk, before, (new_date, None, new_dev or None), reason, False, visit=True))
    return out


def _window(
    old_plan: Path,
    data: ProblemData,
    households: Households,
    old: _Old,
    as_of: dt.date,
    notice_days: int,
    attendance: dict[int, bool],
) -> _Window:
    """The as-of day and the notice window; what is past; the input errors a re-plan can meet."""
    n_days = data.regular_days
    if as_of > data.last_regular_day:
        raise InputError(
            "--as-of",
            None,
            f"{as_of} is after the last regular day {data.last_regular_day}: nothing is left to re-plan",
        )
    a = index_on_or_after(data.days[:n_days], as_of)
    w_end = min(n_days, a + notice_days)
    notice_end = data.days[w_end - 1] if w_end > a else None  # last day of the notice window
    past = np.array([d < as_of for d in old.date]) & ~old.visited
    if (past & (old.day < 0)).any():
        i = int(np.flatnonzero(past & (old.day < 0))[0])
        raise InputError(
            old_plan / APPOINTMENTS,
            f"kk_id {households.kk_id[i]}",
            f"past appointment on {old.date[i]} is not a regular working day of the changed scenario",
        )
    if (old.site < 0).any():
        raise InputError(old_plan / APPOINTMENTS, "site_kecamatan", "names a kecamatan not in the scenario")
    missed = sorted(k for k, ok in attendance.items() if not ok)
    for k in missed:
        if not past[k]:
            raise InputError(
                "--attendance", f"kk_id {households.kk_id[k]}", f"appointment on {old.date[k]} is not before as-of"
            )
    return _Window(a, w_end, notice_end, past, missed)


def _place_devices(
    ls: LoadedScenario,
    data: ProblemData,
    old: _Old,
    members: IntArray,
    future: npt.NDArray[np.bool_],
    win: _Window,
    as_of: dt.date,
    options: SolveOptions,
    away: IntArray,
) -> tuple[SplitResult, IntArray, IntArray]:
    """Pools delivered before as-of stay where the old plan put them; the others are placed by
    the CP-SAT split model (split.py): the fewest KK moved, then the fewest device-days changed.
    Returns the model's answer, the placement of every pool, and the part of it that places
    devices a delivered pool still held (numbered after the plan in force's devices).
    ``away``: devices expected out on home visits per (kecamatan, day), taken from the office."""
    n_days, n_kec = data.regular_days, data.n_kec
    a, w_end = win.a, win.w_end
    old_by_kec_date: dict[tuple[int, dt.date], int] = defaultdict(int)
    for k, delivered, _avail in old.devices.values():
        old_by_kec_date[(k, delivered)] += 1
    fixed_by_kec_date: dict[tuple[int, dt.date], int] = defaultdict(int)
    for b in data.batches:
        if b.kecamatan is not None:
            fixed_by_kec_date[(b.kecamatan, b.delivery)] += b.count
    pools = data.pools
    split_all = np.zeros((len(pools), n_kec), dtype=np.int64)
    # What the split model places: every pool not yet delivered, and the devices of a pool
    # delivered before as-of that the plan in force left in the pool (it needed fewer). Those
    # placed before as-of stay where they are.
    items: list[tuple[int, int]] = [(p, b.count) for p, b in enumerate(pools) if b.delivery >= as_of]
    for p, b in enumerate(pools):
        if b.delivery < as_of:
            split_all[p] = [old_by_kec_date[(k, b.delivery)] - fixed_by_kec_date[(k, b.delivery)] for k in range(n_kec)]
            if (split_all[p] < 0).any() or split_all[p].sum() > b.count:
                raise InputError(
                    ls.path,
                    "deliveries",
                    f"the pool of {b.delivery} was delivered before as-of, but the old plan placed "
                    f"{int(np.maximum(split_all[p], 0).sum())} of its devices where the scenario has {b.count}",
                )
            if split_all[p].sum() < b.count:
                items.append((p, b.count - int(split_all[p].sum())))

    bounds = sorted({a, w_end, n_days} | {b.first_day for b in data.batches if a < b.first_day < n_days})
    segments = [(s, e) for s, e in itertools.pairwise(bounds) if e > s]
    fixed = np.zeros((len(segments), n_kec), dtype=np.int64)
    olddev = np.zeros_like(fixed)
    for w, (s, _e) in enumerate(segments):
        for b in data.batches:
            if b.first_day <= s and b.kecamatan is not None:
                fixed[w, b.kecamatan] += b.count
        for p, b in enumerate(pools):
            if b.delivery < as_of and b.first_day <= s:
                fixed[w] += split_all[p]
        for k, _delivered, avail in old.devices.values():
            if avail <= data.days[s]:
                olddev[w, k] += 1
    pool_items = [
        (count, next((w for w, (s, _e) in enumerate(segments) if s >= pools[p].first_day), len(segments)))
        for p, count in items
    ]
    top = int(fixed[-1].max() + sum(c for c, _ in pool_items)) if segments else 0
    moves_t, freed_t, free_t, least_t, free_least_t = _cell_tables(data, old, members, future, a, w_end, top, away)
    seg_sum = lambda t: np.stack([t[:, s:e].sum(axis=1) for s, e in segments])  # noqa: E731
    hint = _old_split_hint(old, [c for _p, c in items], [pools[p].delivery >= as_of for p, _c in items],
                           fixed_by_kec_date, as_of, n_kec)  # fmt: skip
    inp = SplitInput(
        segments, fixed, pool_items, olddev, seg_sum(moves_t), seg_sum(freed_t), seg_sum(free_t), top, hint
    )
    cpsat, _budget = load_preset(options.preset)
    split = solve_split(inp, options, cpsat, options.time_limit * 0.5)
    if split.status == "INFEASIBLE":
        # Whole largest families leaving a cell may free more seats than it lacks, and those may
        # not fit: that is the rule's choice, no proof. The fluid relaxation (a cell frees only
        # its excess) decides: a placement it finds is used; if it has none, that is the proof.
        relaxed = dataclasses.replace(inp, freed=seg_sum(least_t), free=seg_sum(free_least_t))
        split = solve_split(relaxed, options, cpsat, options.time_limit * 0.5)
        if split.status == "INFEASIBLE":
            raise _proven_short(data, relaxed, options, cpsat, win)
    if split.status == "UNKNOWN":
        raise NoSolutionError("no device placement found within the time limit; raise --time-limit")
    if split.status not in ("OPTIMAL", "FEASIBLE"):
        raise RuntimeError(f"device placement model: {split.status}")
    late = np.zeros_like(split_all)
    for i, (p, _count) in enumerate(items):
        split_all[p] += split.pools[i]
        if pools[p].delivery < as_of:
            late[p] = split.pools[i]
    return split, split_all, late


FLUID_MODEL = "re-plan fluid model (CP-SAT over the pool placement)"
FLUID_SCOPE = (
    "appointments before as-of kept, those in the notice window kept unless their cell lost seats, every KK at "
    "its office, families counted as members (packing ignored): a relaxation of every re-plan the rules allow"
)


def _proven_short(
    data: ProblemData, relaxed: SplitInput, options: SolveOptions, cpsat: dict[str, Any], win: _Window
) -> InfeasibleError:
    """The proof of a re-plan's "cannot": the fluid relaxation has no placement, and its least
    shortfall per kecamatan says where seats are missing and how many device-shifts would seat
    them after the notice window."""
    short = shortfall(relaxed, options, cpsat, options.time_limit * 0.25)
    binding = [
        ShortKecamatan(
            kecamatan=data.kecamatan_codes[k],
            short_residents=v,
            extra_device_shifts=-(-v // int(data.seats[k])),
        )
        for k, v in enumerate(short.short)
        if v > 0
    ]
    after = data.days[win.w_end] if win.w_end < data.regular_days else None
    proof = Proof(
        model=FLUID_MODEL,
        scope=FLUID_SCOPE,
        statement=(
            f"no placement of the pools seats every KK by {data.last_regular_day}: at least "
            f"{max(short.bound, 1):,} residents are left without a seat ({short.status.lower()} shortfall "
            f"{sum(short.short):,})"
        ),
        binding=binding,
        fix=(
            f"{sum(b.extra_device_shifts for b in binding):,} more device-shifts from {after} on, where listed"
            if after is not None
            else "no working day is left after the notice window"
        ),
    )
    return InfeasibleError(
        "the changed deliveries cannot seat every KK by the last regular day while keeping the appointments "
        f"before as-of and in the notice window (proven by the {FLUID_MODEL}"
        + (f"; short at {', '.join(b.kecamatan for b in binding)}" if binding else "")
        + ")",
        proof=proof,
    )


def _in_service(data: ProblemData, devices: list[Device], old: _Old) -> list[list[list[int]]]:
    """(kecamatan, day) -> devices serving the office; a device out on home visits serves none."""
    n_days = data.regular_days
    dev_index = {d.device_id: i for i, d in enumerate(devices)}
    in_service: list[list[list[int]]] = [[[] for _ in range(n_days)] for _ in range(data.n_kec)]
    for i, dev in enumerate(devices):
        for d in range(dev.first_day, n_days):
            in_service[dev.kecamatan][d].append(i)
    day_index = {d: i for i, d in enumerate(data.days[:n_days])}
    for dev_id, date in old.visit_days:
        if dev_id in dev_index and date in day_index:
            dv = dev_index[dev_id]
            row = in_service[devices[dv].kecamatan][day_index[date]]
            if dv in row:
                row.remove(dv)
    return in_service


def _seat_kept(
    data: ProblemData,
    old: _Old,
    devices: list[Device],
    in_service: list[list[list[int]]],
    members: IntArray,
    future: npt.NDArray[np.bool_],
    win: _Window,
) -> _Seating:
    """Past KK stay; every future KK keeps its cell (office, day, shift) where the cell's devices
    still seat it (keep_in_cell, the per-cell rule of SPEC.md); the rest become movers, and so do
    the KK of device-shifts past the operators' limit (rule 7)."""
    past, w_end = win.past, win.w_end
    notice_end = win.notice_end
    dev_index = {d.device_id: i for i, d in enumerate(devices)}
    n = len(members)
    day = np.where(past, old.day, -1).astype(np.int64)
    shift = np.where(past, old.shift, 0).astype(np.int64)
    device = np.full(n, -1, dtype=np.int64)
    for i in np.flatnonzero(past).tolist():
        device[i] = dev_index.get(old.device[i], -1)
    changes: list[Change] = []
    movers: list[tuple[int, str, bool]] = []
    load: dict[tuple[int, int, int, int], int] = defaultdict(int)  # (k, d, s, device) -> members
    cells: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for i in np.flatnonzero(future).tolist():
        if old.day[i] < 0:
            movers.append(
                (
                    i,
                    old.why.get(i, f"{old.date[i]} is no longer a regular working day"),
                    notice_end is not None and old.date[i] <= notice_end,  # inside the notice window
                )
            )
        else:
            cells[(int(old.site[i]), int(old.day[i]), int(old.shift[i]))].append(i)
    seats_of = data.seats
    decided: dict[tuple[int, int, int], dict[int, int]] = {}
    for (k, d, s), kk in sorted(cells.items()):
        here = in_service[k][d]
        olddev_i = [dev_index.get(old.device[i], -1) for i in kk]
        valid = set(here)
        per_dev: dict[int, int] = defaultdict(int)
        for i, dv in zip(kk, olddev_i, strict=True):
            per_dev[dv] += int(members[i])
        if all(dv in valid for dv in olddev_i) and all(v <= seats_of[k] for v in per_dev.values()):
            seat = dict(zip(kk, olddev_i, strict=True))
            leave: list[int] = []
        else:
            seat, leave = keep_in_cell(kk, [int(members[i]) for i in kk], olddev_i, here, int(seats_of[k]))
        forced = d < w_end
        lost = len({dv for dv in olddev_i if dv >= 0}) - len(valid & set(olddev_i))
        for i, dv in zip(kk, olddev_i, strict=True):
            if i not in leave:
                continue
            why = move_reason(dv in valid, lost, forced)
            movers.append((i, f"{old.date[i]} shift {old.shift[i]}: {why}", forced))
        decided[(k, d, s)] = seat
    for i, _k, d, why in over_operators(decided, members, data.slot_limit):
        movers.append((i, f"{old.date[i]} shift {old.shift[i]}: {why}", d < w_end))
    for (k, d, s), seat in decided.items():
        forced = d < w_end
        for i, dv in seat.items():
            day[i], shift[i], device[i] = d, s, dv
            load[(k, d, s, dv)] += int(members[i])
            if devices[dv].device_id != old.device[i]:
                changes.append(
                    Change(
                        i,
                        (old.date[i], int(old.shift[i]), old.device[i]),
                        (data.days[d], s, devices[dv].device_id),
                        "new device, same date and shift",
                        False,
                        forced,
                    )
                )

    return _Seating(day, shift, device, changes, movers, load)


def _seat_movers(
    data: ProblemData,
    households: Households,
    old: _Old,
    devices: list[Device],
    in_service: list[list[list[int]]],
    members: IntArray,
    win: _Window,
    seating: _Seating,
    options: SolveOptions,
) -> tuple[int, int]:
    """Movers take the earliest free seats after the notice window, kelurahan by kelurahan, in
    device-shifts the operators can staff. Where first fit leaves a mover without a seat, the
    kecamatan is seated again after the window by the exact model (``repack.py``), which moves
    the fewest KK that make room. Returns the fluid bound (last day, waiting) they allow."""
    w_end, n_days, seats_of = win.w_end, data.regular_days, data.seats
    day, shift, device, changes, movers, load = (
        seating.day,
        seating.shift,
        seating.device,
        seating.changes,
        seating.movers,
        seating.load,
    )
    # Movers: earliest free seats after the notice window, kelurahan by kelurahan.
    by_kec: dict[int, list[tuple[int, str, bool]]] = defaultdict(list)
    for m in movers:
        by_kec[int(old.site[m[0]])].append(m)
    bound_last, bound_wait = -1, 0
    for k, group in sorted(by_kec.items()):
        slots = [
            (d, s, dv, int(seats_of[k]) - load[(k, d, s, dv)])
            for d in range(w_end, n_days)
            for s in range(1, int(data.shifts[k]) + 1)
            for dv in in_service[k][d]
        ]
        staffed = {(d, s, dv) for (kk, d, s, dv), v in load.items() if kk == k and v > 0}
        filler = SlotFiller(slots, int(data.slot_limit[k]), staffed)
        fluid = _fluid_fill(filler.free_by_day(n_days), sum(int(members[i]) for i, _r, _f in group))
        group.sort(key=lambda m: (households.kelurahan[m[0]], old.date[m[0]], m[0]))
        placed: list[tuple[int, tuple[int, int, int]]] = []
        for i, _reason, _forced in group:
            spot = filler.place(int(members[i]))
            if spot is None:
                break
            placed.append((i, spot))
        if len(placed) < len(group):
            last, wait = _repack_kecamatan(data, old, devices, members, win, seating, k, group, slots, options)
            bound_last, bound_wait = max(bound_last, last), bound_wait + wait
            continue
        bound_last, bound_wait = max(bound_last, fluid[0]), bound_wait + fluid[1]
        for (i, reason, forced), (_i, (d, s, dv)) in zip(group, placed, strict=True):
            day[i], shift[i], device[i] = d, s, dv
            changes.append(
                Change(
                    i,
                    (old.date[i], int(old.shift[i]), old.device[i]),
                    (data.days[d], s, devices[dv].device_id),
                    reason,
                    True,
                    forced,
                )
            )

    return bound_last, bound_wait


def _repack_kecamatan(
    data: ProblemData,
    old: _Old,
    devices: list[Device],
    members: IntArray,
    win: _Window,
    seating: _Seating,
    k: int,
    group: list[tuple[int, str, bool]],
    slots: list[tuple[int, int, int, int]],
    options: SolveOptions,
) -> tuple[int, int]:
    """Kecamatan ``k``'s movers do not fit by first fit: every KK of it seated after the notice
    window is seated again by the exact model, keeping the most in their device-shift. Those
    that then move say why. Returns the fluid bound over all of them (they are all re-seated)."""
    w_end = win.w_end
    site = old.site
    after = [int(i) for i in np.flatnonzero((seating.day >= w_end) & (site == k) & ~old.visited).tolist()]
    after_set = set(after)
    reason_of = {i: (why, forced) for i, why, forced in group}
    families: list[tuple[int, int, tuple[int, int, int] | None]] = [
        (i, int(members[i]), (int(seating.day[i]), int(seating.shift[i]), int(seating.device[i])))
        for i in after
        if i not in reason_of
    ] + [(i, int(members[i]), None) for i in reason_of]
    free_slots = [(d, s, dv) for d, s, dv, _room in slots]
    seats, limit = int(data.seats[k]), int(data.slot_limit[k])
    staffed = {(d, s, dv) for (kk, d, s, dv), v in seating.load.items() if kk == k and v > 0}
    filler = SlotFiller(slots, limit, staffed)
    placed = [(i, filler.place(int(members[i]))) for i in sorted(reason_of, key=lambda i: (-int(members[i]), i))]
    if all(spot is not None for _i, spot in placed):  # largest first into the holes: nobody else moves
        for i, spot in placed:
            assert spot is not None
            d, s, dv = spot
            seating.day[i], seating.shift[i], seating.device[i] = d, s, dv
            why, forced = reason_of[i]
            seating.changes.append(
                Change(i, (old.date[i], int(old.shift[i]), old.device[i]), (data.days[d], s, devices[dv].device_id),
                       why, True, forced)
            )  # fmt: skip
        return _fluid_fill(SlotFiller(slots, limit, staffed).free_by_day(data.regular_days), sum(
            int(members[i]) for i in reason_of))  # fmt: skip
    out = repack(free_slots, seats, limit, families, max(1.0, options.time_limit * 0.25))
    code = data.kecamatan_codes[k]
    if out.status == "INFEASIBLE":
        raise NoSolutionError(
            f"no seating of the KK that must move at {code} was found with this device placement, and no model "
            "proves a re-plan impossible; report this case"
        )
    if out.status == "UNKNOWN":
        raise NoSolutionError(
            f"the KK that must move at {code} were not seated within the time limit; raise --time-limit"
        )
    moved_now = {
        i for i, _m, _at in families if i not in reason_of and out.seat[i][:2] != (seating.day[i], seating.shift[i])
    }
    for i in moved_now:
        reason_of[i] = (
            f"{old.date[i]} shift {old.shift[i]}: makes room for the families that must move at {code}",
            False,
        )
        seating.movers.append((i, reason_of[i][0], False))
    seating.changes[:] = [c for c in seating.changes if c.kk not in reason_of and c.kk not in after_set]
    for i, _m, _at in families:
        d, s, dv = out.seat[i]
        seating.day[i], seating.shift[i], seating.device[i] = d, s, dv
        moved = i in reason_of
        if not moved and devices[dv].device_id == old.device[i]:
            continue
        why, forced = reason_of.get(i, ("new device, same date and shift", False))
        seating.changes.append(
            Change(
                i,
                (old.date[i], int(old.shift[i]), old.device[i]),
                (data.days[d], s, devices[dv].device_id),
                why,
                moved,
                forced and moved,
            )
        )
    seating.reseated.update(after)
    free = usable_free([(d, s, dv, seats) for d, s, dv in free_slots], set(), limit, data.regular_days)
    return _fluid_fill(free.tolist(), sum(m for _i, m, _at in families))


def kecamatan_movers(prep: Prepared, seating: _Seating) -> dict[int, KecamatanMovers]:
    """Per kecamatan with KK that must move: its free seats after the notice window, the movers
    (with the last day at delay 0 of each) and the KK that keep a day after the window."""
    data, old, members, win, hh = prep.data, prep.old, prep.members, prep.win, prep.households
    w_end, n_days, load = win.w_end, data.regular_days, seating.load
    reason_of = {i: (why, forced) for i, why, forced in seating.movers}
    moving = np.zeros(len(members), dtype=bool)
    moving[list(reason_of)] = True
    keep = np.flatnonzero(~win.past & ~old.visited & ~moving & (seating.day >= w_end))
    keepers_of: dict[int, list[tuple[int, int, int, int, int]]] = defaultdict(list)
    for i, k, d, s, dv in zip(
        keep.tolist(),
        old.site[keep].tolist(),
        seating.day[keep].tolist(),
        seating.shift[keep].tolist(),
        seating.device[keep].tolist(),
        strict=True,
    ):
        keepers_of[k].append((i, int(members[i]), d, s, dv))
    must_of: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for i in sorted(reason_of):
        must_of[int(old.site[i])].append((i, int(members[i]), reach_of(data.days, old.date[i])))
    out = {}
    for k, must in sorted(must_of.items()):
        seats = int(data.seats[k])
        slots = [
            (d, s, dv, seats - load[(k, d, s, dv)])
            for d in range(w_end, n_days)
            for s in range(1, int(data.shifts[k]) + 1)
            for dv in prep.in_service[k][d]
        ]
        staffed = {(d, s, dv) for (kk, d, s, dv), v in load.items() if kk == k and v > 0}
        kks = [i for i, _m, _r in must] + [r[0] for r in keepers_of[k]]
        order: dict[int, tuple[int, dt.date]] = {i: (int(hh.kelurahan[i]), old.date[i]) for i in kks}
        cell = {i: (int(old.day[i]), int(old.shift[i])) for i, _m, _r in must}
        out[k] = KecamatanMovers(
            slots, staffed, int(data.slot_limit[k]), n_days, w_end, must, keepers_of[k], order, cell
        )
    return out


def smallest_caps(movers: dict[int, KecamatanMovers], n_days: int) -> dict[int, tuple[int, int]]:
    """Per kecamatan: (no plan meets a smaller cap, the smallest cap the seating meets)."""
    out = {}
    for k, km in movers.items():
        low = smallest_feasible_cap(km.model, 2 * n_days)
        if low is None:  # cannot happen once R1 found a placement; kept as a clear failure
            raise RuntimeError(f"kecamatan {k}: no cap fits its movers")
        met = low
        while not km.plan(met).ok and met < 2 * n_days:
            met += 1
        out[k] = (low, met)
    return out


def cap_diagnosis(prep: Prepared, cap: int, movers: dict[int, KecamatanMovers]) -> CapDiagnosis:
    """The smallest cap that can be met, proven below and checked by seating above, per
    kecamatan and for the city (the largest of them)."""
    caps = smallest_caps(movers, prep.data.regular_days)
    smallest = max(met for _low, met in caps.values())
    moves = sum(km.plan(smallest).moves for km in movers.values())
    codes = prep.data.kecamatan_codes
    bound = max(low for low, _met in caps.values())
    proof = Proof(
        model="delay-cap covering model (per kecamatan, members by prefix of days after the notice window)",
        statement=f"no re-plan keeps every moved KK within {cap} working days: {bound} at the least",
        scope=CAP_SCOPE + "; per_kecamatan says where it binds",
        fix=f"--max-delay {smallest} (met by the plan whose moves diagnosis.json counts)",
    )
    return CapDiagnosis(
        scenario=prep.ls.scenario.name,
        as_of=prep.as_of,
        max_delay=cap,
        meets_cap=False,
        smallest_cap=smallest,
        smallest_cap_bound=bound,
        moves_at_smallest_cap=moves,
        scope=CAP_SCOPE,
        per_kecamatan=[
            KecamatanCapFigures(
                kecamatan=codes[k], must_move=len(movers[k].must), smallest_cap_bound=low, smallest_cap=met
            )
            for k, (low, met) in sorted(caps.items())
        ],
        proof=proof,
    )


def seat_capped(prep: Prepared, seating: _Seating, cap: int) -> tuple[int, int, CapBound]:
    """Seat the movers within ``cap`` working days of their old appointments, moving the fewest
    extra KK (cap.py, capped.py). Raises DelayCapError with the smallest cap that can be met."""
    data, old, members, devices = prep.data, prep.old, prep.members, prep.devices
    movers = kecamatan_movers(prep, seating)
    outcomes = {k: km.plan(cap) for k, km in movers.items()}
    if not all(o.ok for o in outcomes.values()):
        raise DelayCapError(
            f"no re-plan keeps every moved KK within {cap} working days", cap_diagnosis(prep, cap, movers)
        )
    reason_of = {i: (why, forced) for i, why, forced in seating.movers}
    bound_last, bound_wait = -1, 0
    extra_all: set[int] = set()
    for k, out in sorted(outcomes.items()):
        km = movers[k]
        free = km.model.free.copy()
        for i in out.extra:
            d, s, dv = int(seating.day[i]), int(seating.shift[i]), int(seating.device[i])
            seating.load[(k, d, s, dv)] -= int(members[i])
            free[d] += int(members[i])
            reason_of[i] = (
                f"{old.date[i]} shift {old.shift[i]}: makes room for KK moved within the cap of {cap} working days",
                False,
            )
            seating.movers.append((i, reason_of[i][0], False))
            extra_all.add(i)
        last, wait = _fluid_fill(free.tolist(), sum(int(members[i]) for i in out.placed))
        bound_last, bound_wait = max(bound_last, last), bound_wait + wait
        for i, (d, s, dv) in sorted(out.placed.items()):
            seating.day[i], seating.shift[i], seating.device[i] = d, s, dv
            seating.load[(k, d, s, dv)] += int(members[i])
    seating.changes = [c for c in seating.changes if c.kk not in extra_all]
    for k in sorted(outcomes):
        for i in sorted(outcomes[k].placed):
            why, forced = reason_of[i]
            d, s, dv = int(seating.day[i]), int(seating.shift[i]), int(seating.device[i])
            moved = (d, s) != (int(old.day[i]), int(old.shift[i]))  # it may land in its own shift again
            if not moved and devices[dv].device_id == old.device[i]:
                continue
            seating.changes.append(
                Change(
                    i,
                    (old.date[i], int(old.shift[i]), old.device[i]),
                    (data.days[d], s, devices[dv].device_id),
                    why if moved else "new device, same date and shift",
                    moved,
                    forced and moved,
                )
            )
    must = sum(len(km.must) for km in movers.values())
    moved_kk = {c.kk for c in seating.changes if c.is_move}
    # A must-move KK seated back in its own shift (room freed by the cap's extra moves) is no move:
    # the bound assumed it moves, so it is no longer called proven.
    back = sum(1 for km in movers.values() for i, _m, _r in km.must if i not in moved_kk)
    bound = CapBound(
        must - back,
        len(extra_all & moved_kk),
        sum(o.bound for o in outcomes.values()),
        back == 0 and all(o.status == "OPTIMAL" for o in outcomes.values()),
    )
    return bound_last, bound_wait, bound


def _levels(
    data: ProblemData,
    households: Households,
    old: _Old,
    members: IntArray,
    seating: _Seating,
    split: SplitResult,
    bound_last: int,
    bound_wait: int,
    cap: CapBound | None = None,
) -> list[LevelResult]:
    """The re-plan's levels: moves (proven by the split model), then completion, waiting and
    compactness, each bounded given the kept appointments."""
    day, shift, movers = seating.day, seating.shift, seating.movers
    n = len(households)
    office = ~old.visited
    kept = ~np.isin(np.arange(n), [m[0] for m in movers] + sorted(seating.reseated)) & office
    home = data.kelurahan_kecamatan[households.kelurahan]
    measured = plan_objectives(
        day[office], members[office], households.kelurahan[office], old.site[office], home[office]
    )
    kept_obj = plan_objectives(day[kept], members[kept], households.kelurahan[kept], old.site[kept], home[kept])
    moved = int((((day != old.day) | (shift != old.shift)) & office).sum())
    if cap is None:
        moves = _level(
            "moves", moved, split.bound, split.status == "OPTIMAL", split.seconds, "movers go after the notice window"
        )
    else:
        moves = _level(
            "moves",
            moved,
            cap.must + cap.extra_bound,
            split.status == "OPTIMAL" and cap.proven,
            split.seconds,
            CAP_SCOPE,
        )
    levels = [
        moves,
        _level(
            "completion", measured["completion"], max(kept_obj["completion"], bound_last + 1), True, 0.0, KEPT_SCOPE
        ),
        _level("waiting", measured["waiting"], kept_obj["waiting"] + bound_wait, True, 0.0, KEPT_SCOPE),
        _level("compactness", measured["compactness"], kept_obj["compactness"], True, 0.0, KEPT_SCOPE),
    ]
    return levels


def move_reason(own_device_kept: bool, devices_lost: int, in_notice_window: bool) -> str:
    """Why a KK of a cell (office, day, shift) that lost seats is moved. The rule is per cell
    (SPEC.md "Planning again"): the fewest KK that free the seats move, largest families first,
    whichever device of the cell they sat at; the reason says which case the KK is."""
    when = "inside the notice window: " if in_notice_window else ""
    if not own_device_kept:
        return when + "its device is not in service that day"
    if devices_lost > 0:
        return when + "its shift lost a device; the fewest KK that free the seats move, largest first"
    return when + "fewer seats in its shift after the change; the fewest KK that free them move, largest first"


def over_operators(
    decided: dict[tuple[int, int, int], dict[int, int]], members: IntArray, slot_limit: IntArray
) -> list[tuple[int, int, int, str]]:
    """Rule 7 for the KK that keep their slot: where a kecamatan's kept KK would fill more
    device-shifts on a day than its operators can staff, the least-filled device-shifts are
    emptied (their KK move, with the reason). Removes those KK from ``decided``."""
    by_day: dict[tuple[int, int], dict[tuple[int, int], list[int]]] = defaultdict(lambda: defaultdict(list))
    for (k, d, s), seat in decided.items():
        for i, dv in seat.items():
            by_day[(k, d)][(s, dv)].append(i)
    out: list[tuple[int, int, int, str]] = []
    for (k, d), used in sorted(by_day.items()):
        limit = int(slot_limit[k])
        if limit < 0 or len(used) <= limit:
            continue
        ranked = sorted(used.items(), key=lambda kv: (sum(int(members[i]) for i in kv[1]), kv[0]))
        for (s, _dv), kks in ranked[: len(used) - limit]:
            for i in kks:
                del decided[(k, d, s)][i]
                out.append((i, k, d, f"operators can staff only {limit} device-shifts that day"))
    return out


def _old_split_hint(
    old: _Old,
    counts: list[int],
    future: list[bool],
    fixed_by_kec_date: dict[tuple[int, dt.date], int],
    as_of: dt.date,
    n_kec: int,
) -> IntArray:
    """Warm start: the devices the old plan placed from deliveries on or after as-of, dealt to the
    new pools in delivery order (largest remainder), so an unchanged scenario is hinted with
    exactly the old placement. Devices a delivered pool still holds (``future`` False) are hinted
    where the old plan had most devices: it placed none of them."""
    left = np.zeros(n_kec, dtype=np.int64)
    for k, delivered, _avail in old.devices.values():
        if delivered >= as_of:
            left[k] += 1
    for (k, delivered), count in fixed_by_kec_date.items():
        if delivered >= as_of:
            left[k] -= count
    left = np.maximum(left, 0)
    hint = np.zeros((len(counts), n_kec), dtype=np.int64)
    for p, count in enumerate(counts):
        total = int(left.sum())
        if total == 0 or not future[p]:
            hint[p, 0] = count
            continue
        take = largest_remainder(left, min(count, total))
        take[0] += count - int(take.sum())
        hint[p] = take
        left = np.maximum(left - take, 0)
    return hint


def _level(name: str, value: int, bound: int, proven: bool, seconds: float, scope: str) -> LevelResult:
    status: Status = "OPTIMAL" if proven and value == bound else "FEASIBLE"
    return LevelResult(name, value, min(bound, value), status, seconds, scope)


def _book_backlog(
    ls: LoadedScenario,
    data: ProblemData,
    devices: list[Device],
    missed: list[int],
    old: _Old,
    members: IntArray,
    load: dict[tuple[int, int, int, int], int],
    w_end: int,
) -> dict[int, tuple[dt.date, int, str] | None]:
    """Backlog seats (reserve_per_shift per device-shift) after the notice window, then whole
    device-shifts on catch-up days; first come (earliest missed appointment), first served."""
    sc = ls.scenario
    catch_up = working_days(data.last_regular_day + dt.timedelta(days=1), sc.deadline, ls.workdays, ls.holidays)
    out: dict[int, tuple[dt.date, int, str] | None] = {}
    by_kec: dict[int, list[int]] = defaultdict(list)
    for i in missed:
        by_kec[int(old.site[i])].append(i)
    for k, group in sorted(by_kec.items()):
        shifts = int(data.shifts[k])
        mine = [i for i, dv in enumerate(devices) if dv.kecamatan == k]
        days = list(data.days[w_end : data.regular_days]) + catch_up
        slots: list[tuple[int, int, int, int]] = []
        slot_dates: list[dt.date] = []
        for date in days:
            room = (
                sc.backlog.reserve_per_shift if date <= data.last_regular_day else sc.device.capacity_per_day // shifts
            )
            for s in range(1, shifts + 1):
                for dv in mine:
                    if devices[dv].available_from <= date and room > 0:
                        slots.append((len(slots), s, dv, room))
                        slot_dates.append(date)
        filler = SlotFiller(slots)
        for i in sorted(group, key=lambda i: (old.date[i], i)):
            spot = filler.place(int(members[i]))
            out[i] = None if spot is None else (slot_dates[spot[0]], spot[1], devices[spot[2]].device_id)
    return out


def move_delays(days: Sequence[dt.date], changes: list[Change], backlog: Collection[int] = ()) -> list[int]:
    """Working days between old and new appointment of each KK whose date changed (negative:
    earlier), counted as SPEC.md says: the working days after the old date up to the new one.
    KK missing a slot (``backlog``) are not moves."""
    return [
        working_days_after(days, c.old[0] or c.new[0], c.new[0])
        for c in changes
        if c.is_move and c.kk not in backlog and c.new[0] is not None and c.new[0] != c.old[0]
    ]


def delays(rp: Replan) -> list[int]:
    """``move_delays`` of a finished re-plan."""
    return move_delays(rp.result.problem.days, rp.changes, rp.backlog)


def summary_extra(rp: Replan, old_plan: Path, notice_days: int) -> dict[str, Any]:
    forced = sum(c.forced and c.is_move for c in rp.changes)
    moved_days = delays(rp)
    return {
        "old_plan": str(old_plan.resolve()),
        "as_of": rp.as_of.isoformat(),
        "notice_days": notice_days,
        "notice_end": rp.notice_end.isoformat() if rp.notice_end else None,
        "moved_kk": rp.moved,
        "moved_kk_proven_minimum": rp.result.levels[0].bound,  # the moves level: within the cap when there is one
        "forced_in_notice_window": forced,
        "new_device_same_slot": sum(not c.is_move and not c.visit and c.kk not in rp.backlog for c in rp.changes),
        "home_visits_changed": sum(c.visit for c in rp.changes),
        "missed_rebooked": sum(v is not None for v in rp.backlog.values()),
        "missed_not_rebooked": sum(v is None for v in rp.backlog.values()),
        "pool_split_status": rp.split.status,
        "moved_earlier": sum(d < 0 for d in moved_days),
        "moved_later": sum(d > 0 for d in moved_days),
        "largest_delay_working_days": max(moved_days, default=0),
        "max_delay": rp.max_delay,
        "moved_to_make_room": rp.cap.extra if rp.cap else 0,
        "moved_to_make_room_bound": rp.cap.extra_bound if rp.cap else 0,
    }

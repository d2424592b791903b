"""Levels 1 and 2 on the aggregate model, solved lexicographically.

Level 1 (completion) is found by bisection on the horizon: "can every resident be served in the
first T working days?" is a small feasibility model, and CP-SAT proves each "no". T* is optimal
when T* is feasible and T*-1 is proven infeasible. Level 2 (total waiting) is then minimised on the
T*-day model, warm-started with the feasible T* solution as a hint. A last, short check asks
CP-SAT whether any *other* day-by-day service profile also reaches the level-2 optimum: when it
proves there is none, the level-3 bound computed on this profile is global.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from ektp_opt.errors import InfeasibleError, NoSolutionError
from ektp_opt.problem import ProblemData
from ektp_opt.progress import Reporter
from ektp_opt.results import Proof
from ektp_opt.solver import constraints, mip, objectives
from ektp_opt.solver.cpsat import Search
from ektp_opt.solver.cpsat import run as cpsat_run
from ektp_opt.solver.cpsat import status as cp_status_of
from ektp_opt.solver.params import SolveOptions, make_solver
from ektp_opt.solver.progress import IncumbentCallback
from ektp_opt.solver.result import LevelResult, Status, claimed
from ektp_opt.solver.variables import (
    AggregateVariables,
    LinearLike,
    make_split_variables,
    make_variables,
)

Values = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], dict[tuple[int, int], int]]


@dataclass
class AggregateSolution:
    pool_split: npt.NDArray[np.int64]  # [pool, kecamatan]
    served: npt.NDArray[np.int64]  # [kecamatan, day], day < completion
    away: dict[tuple[int, int], int]  # (kelurahan, site) -> residents
    completion: LevelResult
    waiting: LevelResult
    profile_unique: bool | None  # None: not checked, or the check ran out of time


def capacity_lower_bound(data: ProblemData) -> int:
    """Closed-form level-1 bound: the first horizon whose city-wide seats could hold every resident
    if each pool device went wherever it yields most seats. Any plan needs at least this many days."""
    fixed_seats, pooled = data.best_case_seats()
    cumulative = np.cumsum(fixed_seats + pooled)
    need = int(data.kelurahan_residents.sum())
    enough = np.flatnonzero(cumulative >= need)
    return int(enough[0]) + 1 if enough.size else data.n_days + 1


class HorizonModel:
    """The aggregate model restricted to the first ``horizon`` working days."""

    def __init__(self, data: ProblemData, horizon: int) -> None:
        self.data = data
        self.horizon = horizon
        self.model = cp_model.CpModel()
        self.vars: AggregateVariables = make_variables(self.model, data, horizon)
        constraints.add_all(self.model, data, self.vars)

    def solve(
        self,
        options: SolveOptions,
        cpsat: dict[str, object],
        limit: float,
        reporter: Reporter,
        phase: str,
    ) -> tuple[cp_model.CpSolver, Status, float]:
        solver = make_solver(options, cpsat, limit)  # type: ignore[arg-type]
        start = time.perf_counter()
        code = cpsat_run(solver, self.model, IncumbentCallback(reporter, phase))
        return solver, cp_status_of(code), time.perf_counter() - start

    def values(self, solver: cp_model.CpSolver) -> Values:
        split = np.array([[solver.value(x) for x in row] for row in self.vars.pool_split], dtype=np.int64).reshape(
            len(self.vars.pool_split), self.data.n_kec
        )
        served = np.array(
            [[x if isinstance(x, int) else solver.value(x) for x in row] for row in self.vars.served],
            dtype=np.int64,
        ).reshape(self.data.n_kec, self.horizon)
        away = {key: int(solver.value(var)) for key, var in self.vars.away.items()}
        return split, served, away

    def hint(
        self,
        split: npt.NDArray[np.int64],
        served: npt.NDArray[np.int64],
        away: dict[tuple[int, int], int],
    ) -> None:
        """A complete, feasible starting point for CP-SAT."""
        self.model.clear_hints()
        for p, row in enumerate(self.vars.pool_split):
            for k, var in enumerate(row):
                self.model.add_hint(var, int(split[p, k]))
        for k, served_row in enumerate(self.vars.served):
            for d, cell in enumerate(served_row):
                if not isinstance(cell, int):
                    self.model.add_hint(cell, int(served[k, d]))  # type: ignore[call-overload]
        for key, var in self.vars.away.items():
            self.model.add_hint(var, away[key])


def seats_per_day(data: ProblemData, split: npt.NDArray[np.int64], horizon: int) -> npt.NDArray[np.int64]:
    """Regular seats at each (site, day) for a given pool split, operator limit included."""
    devices = data.fixed_devices()[:, :horizon].copy()
    for p, b in enumerate(data.pools):
        if b.first_day < horizon:
            devices[:, b.first_day :] += split[p][:, None]
    slots = devices * data.shifts[:, None]
    limited = data.slot_limit >= 0
    slots[limited] = np.minimum(slots[limited], data.slot_limit[limited, None])
    return slots * data.seats[:, None]


def fill_earliest(
    data: ProblemData, split: npt.NDArray[np.int64], away: dict[tuple[int, int], int], horizon: int
) -> npt.NDArray[np.int64]:
    """Serve each site's demand at full capacity from the first day: for a fixed split this is the
    unique waiting-optimal profile, and it is what seeds level 2."""
    demand = data.kecamatan_residents.copy()
    for (kel, site), n in away.items():
        demand[int(data.kelurahan_kecamatan[kel])] -= n
        demand[site] += n
    cap = seats_per_day(data, split, horizon)
    before = np.cumsum(cap, axis=1) - cap
    return np.clip(demand[:, None] - before, 0, cap)


class FeasibilityModel:
    """Level 1's question for one horizon, in the per-period form (constraints.add_period_capacity)."""

    def __init__(self, data: ProblemData, horizon: int) -> None:
        self.model = cp_model.CpModel()
        self.n_kec = data.n_kec
        self.split, self.away = make_split_variables(self.model, data)
        constraints.add_period_capacity(self.model, data, self.split, self.away, horizon)

    def solve(
        self, options: SolveOptions, cpsat: dict[str, object], limit: float
    ) -> tuple[Status, npt.NDArray[np.int64], dict[tuple[int, int], int]]:
        solver = make_solver(options, cpsat, limit)  # type: ignore[arg-type]
        status = cp_status_of(cpsat_run(solver, self.model))
        if status not in ("OPTIMAL", "FEASIBLE"):
            return status, np.zeros((len(self.split), self.n_kec), dtype=np.int64), {}
        split = np.array([[solver.value(x) for x in row] for row in self.split], dtype=np.int64)
        away = {key: int(solver.value(var)) for key, var in self.away.items()}
        return status, split.reshape(len(self.split), self.n_kec), away


@dataclass
class CompletionSearch:
    """Outcome of the bisection: the best horizon, and a pool split and overflow that fit it."""

    data: ProblemData
    level: LevelResult
    split: npt.NDArray[np.int64]
    away: dict[tuple[int, int], int]


SEAT_ARITHMETIC = "seat arithmetic (closed form: every device's seats, pool devices at their best kecamatan)"
LEVEL1_MODEL = "level-1 aggregate model (residents per kecamatan and day against device seats, CP-SAT)"
LEVEL1_SCOPE = "every rule of SPEC.md counted in seats (families as members): a relaxation of every plan"


def search_completion(
    data: ProblemData,
    options: SolveOptions,
    cpsat: dict[str, object],
    limit: float,
    reporter: Reporter,
) -> CompletionSearch:
    """Bisection on the horizon. Raises InfeasibleError when even the whole horizon is too short."""
    start = time.perf_counter()
    lo = min(capacity_lower_bound(data), data.n_days + 1)  # every T < lo is infeasible
    hi = data.n_days
    if lo > hi:
        statement = (
            f"even with every pool device placed at its best kecamatan, the seats up to "
            f"{data.days[-1]} hold fewer than the {int(data.kelurahan_residents.sum()):,} residents"
        )
        raise InfeasibleError(statement, proof=Proof(model=SEAT_ARITHMETIC, statement=statement, scope=LEVEL1_SCOPE))

    def remaining() -> float:
        return max(0.2, limit - (time.perf_counter() - start))

    status, split, away = FeasibilityModel(data, hi).solve(options, cpsat, remaining())
    if status == "INFEASIBLE":
        statement = f"the deliveries cannot serve every resident by {data.days[hi - 1]}"
        raise InfeasibleError(statement, proof=Proof(model=LEVEL1_MODEL, statement=statement, scope=LEVEL1_SCOPE))
    if status == "UNKNOWN":
        raise NoSolutionError(f"no plan found within {limit:.1f} s; raise --time-limit")
    proven_lo = lo  # every horizon below this is proven infeasible
    reporter.solving("completion", hi, proven_lo, time.perf_counter() - start)
    while proven_lo < hi:
        mid = (proven_lo + hi) // 2
        status, s, a = FeasibilityModel(data, mid).solve(options, cpsat, remaining())
        if status in ("OPTIMAL", "FEASIBLE"):
            hi, split, away = mid, s, a
        elif status == "INFEASIBLE":
            proven_lo = mid + 1
        else:
            break  # out of time: keep what is proven
        reporter.solving("completion", hi, proven_lo, time.perf_counter() - start)
    level_status: Status = "OPTIMAL" if proven_lo == hi else "FEASIBLE"
    level = LevelResult("completion", hi, proven_lo, level_status, time.perf_counter() - start)
    return CompletionSearch(data, level, split, away)


def waiting_mip(
    data: ProblemData, horizon: int, start: npt.NDArray[np.int64], limit: float
) -> tuple[npt.NDArray[np.int64], int, int, float] | None:
    """Level 2 without overflow, as a mixed-integer program solved by SCIP (bundled with OR-Tools):
    integer pool devices x[p, k]; for each site and day t a continuous u >= residents - seats
    served before t, u >= 0. With one office per kelurahan a site's best profile is to serve
    earliest, so the least sum of u (residents still waiting at the start of each day) is the
    least total waiting (models/FORMULATION.md §4). Its LP bound closes this model in well under a
    second where CP-SAT took seconds (Medan) to minutes (10 M residents) for its proof.

    Returns (split, waiting measured on the fill-earliest profile, proven bound, seconds), or None
    when SCIP finds nothing in time (CP-SAT then takes over)."""
    began = time.perf_counter()
    solver = mip.make_mip(limit)
    n_kec = data.n_kec
    x = [[solver.IntVar(0, b.count, f"x_{p}_{k}") for k in range(n_kec)] for p, b in enumerate(data.pools)]
    for p, b in enumerate(data.pools):
        solver.Add(solver.Sum(x[p]) <= b.count)
    fixed = data.fixed_devices()[:, :horizon]
    limited = data.slot_limit >= 0
    waiting: list[Any] = []
    constant = 0
    for k in range(n_kec):
        residents = int(data.kecamatan_residents[k])
        per_device = int(data.seats[k] * data.shifts[k])
        served_before: Any = 0
        for d in range(horizon + 1):
            if d == horizon:
                solver.Add(served_before >= residents)  # level 1 kept
                break
            if not isinstance(served_before, int) or served_before < residents:
                if isinstance(served_before, int):
                    constant += residents - served_before
                else:
                    u = solver.NumVar(0, residents, "")
                    solver.Add(u + served_before >= residents)
                    waiting.append(u)
            pooled = [x[p][k] for p, b in enumerate(data.pools) if b.first_day <= d]
            today: Any = (
                per_device * (int(fixed[k, d]) + solver.Sum(pooled)) if pooled else per_device * int(fixed[k, d])
            )
            if limited[k]:  # operators (rule 7): at most slot_limit device-shifts of seats
                cap = int(data.slot_limit[k]) * int(data.seats[k])
                if isinstance(today, int):
                    today = min(today, cap)
                else:
                    y = solver.NumVar(0, cap, "")
                    solver.Add(y <= today)
                    today = y
            served_before = served_before + today
    solver.Minimize(solver.Sum(waiting))
    solver.SetHint([v for row in x for v in row], [float(start[p, k]) for p in range(len(x)) for k in range(n_kec)])
    if mip.solve(solver) not in ("OPTIMAL", "FEASIBLE"):
        return None
    split = np.array([[round(v.solution_value()) for v in row] for row in x], dtype=np.int64).reshape(len(x), n_kec)
    served = fill_earliest(data, split, {}, horizon)
    if np.any(served.sum(axis=1) < data.kecamatan_residents):
        return None  # numerically off: let CP-SAT decide
    value = int((served * np.arange(1, horizon + 1)).sum())
    return split, value, mip.bound(solver, constant), time.perf_counter() - began


def minimise_waiting(
    search: CompletionSearch,
    options: SolveOptions,
    cpsat: dict[str, object],
    limit: float,
    reporter: Reporter,
) -> tuple[HorizonModel, Values, LevelResult]:
    data = search.data
    hm = HorizonModel(data, search.level.value)
    served0 = fill_earliest(data, search.split, search.away, hm.horizon)
    scope = "global" if search.level.status == "OPTIMAL" else "given the completion day found"
    if not any(len(s) > 1 for s in data.sites):
        found = waiting_mip(data, hm.horizon, search.split, limit)
        if found is not None:
            split, value, bound, secs = found
            served = fill_earliest(data, split, {}, hm.horizon)
            status = claimed(value, bound)
            level = LevelResult("waiting", value, min(bound, value), status, secs, scope=scope)
            return hm, (split, served, {}), level
    hm.hint(search.split, served0, search.away)
    hm.model.minimize(objectives.total_waiting(data, hm.vars))
    solver, status, secs = hm.solve(options, cpsat, limit, reporter, "waiting")
    if status not in ("OPTIMAL", "FEASIBLE"):
        # Only on a tiny limit, since the hint is feasible: keep the level-1 solution.
        weights = np.arange(1, hm.horizon + 1)
        value = int((served0 * weights).sum())
        level = LevelResult(
            "waiting",
            value,
            0,
            "FEASIBLE",
            secs,
            scope=scope,
            note="time limit before any improvement",
        )
        return hm, (search.split, served0, search.away), level
    value = int(solver.objective_value)
    bound = int(np.ceil(solver.best_objective_bound - 1e-6))
    return hm, hm.values(solver), LevelResult("waiting", value, bound, status, secs, scope=scope)


class UniquenessCheck:
    """Is the level-2 service profile the only one with the optimal waiting value? Started as a
    one-worker CP-SAT search in the background (it runs beside compaction and seating, on the core
    they leave free); ``answer`` is True/False when CP-SAT proves it either way, None when it ran
    out of time or was not run.

    Without overflow a site's profile is its fill-earliest profile, fixed by the pool split, so
    it is enough to ask for a different split (a few dozen literals); with overflow the profile
    itself must differ."""

    def __init__(
        self,
        hm: HorizonModel,
        waiting_value: int,
        values: Values,
        options: SolveOptions,
        cpsat: dict[str, object],
        limit: float,
    ) -> None:
        split, served, _away = values
        m = hm.model
        m.clear_objective()
        m.clear_hints()
        m.add(objectives.total_waiting(hm.data, hm.vars) <= waiting_value)
        pairs: list[tuple[LinearLike, int]] = []
        if hm.vars.away:
            pairs = [(var, int(served[k, d])) for k, row in enumerate(hm.vars.served) for d, var in enumerate(row)]
        else:
            pairs = [(var, int(split[p, k])) for p, row in enumerate(hm.vars.pool_split) for k, var in enumerate(row)]
        differs: list[cp_model.IntVar] = []
        for n, (var, target) in enumerate(pairs):
            if isinstance(var, int):
                continue
            lo, hi = m.new_bool_var(f"below_{n}"), m.new_bool_var(f"above_{n}")
            m.add(var <= target - 1).only_enforce_if(lo)
            m.add(var >= target + 1).only_enforce_if(hi)
            differs += [lo, hi]
        self.search: Search | None = None
        if differs:
            m.add_bool_or(differs)
            solver = make_solver(dataclasses.replace(options, workers=1), cpsat, limit)  # type: ignore[arg-type]
            self.search = Search(solver, m)

    def answer(self) -> bool | None:
        if self.search is None:
            return True  # no other profile exists at all
        status = cp_status_of(self.search.wait())
        if status == "INFEASIBLE":
            return True
        if status in ("OPTIMAL", "FEASIBLE"):
            return False
        return None

    def stop(self) -> None:
        if self.search is not None:
            self.search.stop()


def solve_aggregate(
    data: ProblemData,
    options: SolveOptions,
    cpsat: dict[str, object],
    budget: dict[str, float],
    reporter: Reporter,
) -> tuple[AggregateSolution, UniquenessCheck | None]:
    """Levels 1 and 2, proven in turn; then the uniqueness check of the level-2 profile, started
    in the background (the caller collects it, or stops it)."""
    start = time.perf_counter()

    def left(share: float) -> float:
        spent = time.perf_counter() - start
        return max(0.5, min(share * options.time_limit, options.time_limit - spent))

    with reporter.stage("solve: completion"):
        search = search_completion(data, options, cpsat, left(budget["completion"]), reporter)
    with reporter.stage("solve: waiting"):
        hm, (split, served, away), waiting = minimise_waiting(
            search, options, cpsat, left(budget["completion"] + budget["waiting"]), reporter
        )
    uniqueness = None
    if waiting.status == "OPTIMAL" and search.level.status == "OPTIMAL":
        uniqueness = UniquenessCheck(
            hm, waiting.value, (split, served, away), options, cpsat, left(budget["uniqueness"])
        )
    return AggregateSolution(split, served, away, search.level, waiting, None), uniqueness

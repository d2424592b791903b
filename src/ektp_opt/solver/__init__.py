"""The planner: aggregate CP-SAT levels, then KK-level assignment (models/FORMULATION.md).

``solve`` is the library entry point; the CLI is a thin layer over it.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from ektp_opt.inputs.households import Households
from ektp_opt.problem import ProblemData
from ektp_opt.problem.homevisit import advance_mobile_days
from ektp_opt.progress import Reporter
from ektp_opt.solver.aggregate import AggregateSolution, solve_aggregate
from ektp_opt.solver.assign import Assignment, assign_households
from ektp_opt.solver.compact import CompactResult, compact_home_only, compact_with_overflow, plan_pairs_bound
from ektp_opt.solver.metrics import plan_objectives
from ektp_opt.solver.params import SolveOptions, cpsat_parameters, load_preset
from ektp_opt.solver.repair import exact_assignment
from ektp_opt.solver.result import LevelResult, Status, Timings, claimed, overall_status

__all__ = ["Result", "SolveOptions", "solve"]


@dataclass
class Result:
    """Status, each level's measured value and proven bound, runtime, and the plan itself."""

    status: Status
    levels: list[LevelResult]
    assignment: Assignment
    problem: ProblemData
    aggregate: AggregateSolution | None  # None for a re-plan, which keeps most of an old plan
    runtime: float
    options: SolveOptions
    timings: Timings = field(default_factory=Timings)

    def level(self, name: str) -> LevelResult:
        return next(lv for lv in self.levels if lv.name == name)


def _measured(level: LevelResult, value: int) -> LevelResult:
    """The plan's own value replaces the model's; OPTIMAL only if it meets the proven bound."""
    if value < level.bound:
        if value != 0:
            raise RuntimeError(f"{level.name}: the plan's {value} is below the proven bound {level.bound}")
        # No office appointment at all (every KK visited at home): nothing is left to bound.
        level = LevelResult(level.name, value, 0, level.status, level.seconds, level.scope, level.note)
    status = claimed(value, level.bound, level.status == "OPTIMAL")
    note = level.note
    if value != level.value:
        note = (note + "; " if note else "") + f"model value {level.value}, plan value {value}"
    return LevelResult(level.name, value, level.bound, status, level.seconds, level.scope, note)


REPAIR_SECONDS = 20.0  # the exact seating is small; if it has no answer in this time, it has none soon


def _measure(assignment: Assignment, households: Households, data: ProblemData) -> dict[str, int]:
    """The objective values of an assignment, measured on its office appointments."""
    office = assignment.site >= 0  # KK visited at home have no office appointment
    return plan_objectives(
        assignment.day[office],
        households.members[office],
        households.kelurahan[office],
        assignment.site[office],
        data.kelurahan_kecamatan[households.kelurahan[office]],
    )


def _level_3_of_plan(
    level: LevelResult,
    assignment: Assignment,
    households: Households,
    data: ProblemData,
    agg: AggregateSolution,
    overflow: bool,
) -> LevelResult:
    """Level 3 as the plan can claim it. Its bound holds for plans that serve the level-2 profile;
    a seating that left it (families that did not fit their day) need not respect it
    (national-2012, 96.04: 234 pairs against a bound of 235). Then the bound becomes the component
    bound of the plan's own amounts (with overflow: one day per kelurahan seated), scoped so.
    Without overflow the plan's residents per (kecamatan, day) are compared with the profile itself,
    so a move that leaves completion and waiting as they were is caught too."""
    office = assignment.site >= 0
    kel, day, members = households.kelurahan[office], assignment.day[office], households.members[office]
    if overflow:  # the profile counts sites, not homes: completion and waiting tell
        left = _measure(assignment, households, data)
        off = left["completion"] != agg.completion.value or left["waiting"] != agg.waiting.value
    else:
        served = np.zeros_like(agg.served)
        inside = day < agg.served.shape[-1]
        np.add.at(served, (data.kelurahan_kecamatan[kel[inside]], day[inside]), members[inside])
        off = not inside.all() or not np.array_equal(served, agg.served)
    if not off:
        return level
    # with overflow a kecamatan's amounts mix homes and sites: one day per kelurahan seated
    own = len(set(kel.tolist())) if overflow else plan_pairs_bound(kel, day, members, data.kelurahan_kecamatan)
    note = (level.note + "; " if level.note else "") + "the seating left the level-2 profile: its own bound"
    return LevelResult(
        level.name,
        level.value,
        min(level.bound, own),
        "FEASIBLE",
        level.seconds,
        "given the plan's own service profile",
        note,
    )


def _reaches(
    assignment: Assignment, households: Households, data: ProblemData, agg: AggregateSolution
) -> dict[str, bool]:
    """Which of the aggregate's first two levels the greedy seating reached."""
    got = _measure(assignment, households, data)
    return {
        "completion": got["completion"] <= agg.completion.value,
        "waiting": got["waiting"] <= agg.waiting.value,
    }


def _compact_and_seat(
    data: ProblemData,
    households: Households,
    agg: AggregateSolution,
    options: SolveOptions,
    cpsat: dict[str, object],
    budget: dict[str, float],
    reporter: Reporter,
    start: float,
    timings: Timings,
    beside_check: bool,
    search: bool = True,
) -> tuple[CompactResult, Assignment]:
    """Levels 3-4 on the level-2 profile, then every KK seated. With the uniqueness check running
    in the background (``beside_check``) compaction leaves it one worker."""
    horizon = agg.completion.value
    overflow = any(len(s) > 1 for s in data.sites)
    t = time.perf_counter()
    left = max(1.0, options.time_limit - (t - start))
    share = budget["compactness"] + (budget["overflow"] if overflow else 0.0)
    scope = "(set once the uniqueness check is in)"
    with reporter.stage("solve: compactness"):
        compact: CompactResult
        if overflow:
            compact = compact_with_overflow(
                data, agg.served, agg.away, options, cpsat, min(left, share * options.time_limit), reporter, scope
            )
        else:
            threads = max(1, options.workers - 1) if beside_check else options.workers
            compact = compact_home_only(
                data,
                agg.served,
                options,
                cpsat,
                min(left, share * options.time_limit),
                reporter,
                scope,
                threads,
                search,
            )
    timings.add("solve", time.perf_counter() - t)

    t = time.perf_counter()
    with reporter.stage("assign"):
        assignment = assign_households(data, households, agg.pool_split, compact.quotas, horizon)
    timings.add("assign", time.perf_counter() - t)
    reached = _reaches(assignment, households, data, agg)
    if not all(reached.values()):
        # Level 1 missed: the exact seating may also move families between days. Only waiting
        # missed: it tries the compactness level's own quotas, which is quick either way.
        t = time.perf_counter()
        with reporter.stage("assign: exact"):
            left = min(REPAIR_SECONDS, max(2.0, options.time_limit - (time.perf_counter() - start)))
            exact = exact_assignment(
                data, households, agg.pool_split, compact.quotas, options, left, relax=not reached["completion"]
            )
        if exact is not None:
            assignment = exact
        timings.add("assign", time.perf_counter() - t)
    return compact, assignment


def solve(
    data: ProblemData,
    households: Households,
    options: SolveOptions | None = None,
    reporter: Reporter | None = None,
) -> Result:
    """Plan every KK. Raises InfeasibleError when the deadline cannot be met."""
    options = options or SolveOptions()
    reporter = reporter or Reporter()
    preset = load_preset(options.preset)
    cpsat, budget = cpsat_parameters(preset), preset.budget.model_dump()
    start = time.perf_counter()
    timings = Timings()

    agg, uniqueness = solve_aggregate(data, options, cpsat, budget, reporter)
    timings.add("solve", time.perf_counter() - start)
    unique: bool | None = None
    try:
        if uniqueness is not None and options.workers < 2:
            unique, uniqueness = uniqueness.answer(), None  # one worker: one search at a time
        compact, assignment = _compact_and_seat(
            data,
            households,
            agg,
            options,
            cpsat,
            budget,
            reporter,
            start,
            timings,
            uniqueness is not None,
            preset.compaction.search,
        )
        if uniqueness is not None:
            unique = uniqueness.answer()
    except BaseException:
        if uniqueness is not None:
            uniqueness.stop()  # no search outlives an interrupt or an error
        raise
    agg = dataclasses.replace(agg, profile_unique=unique)
    if agg.completion.status == "OPTIMAL" and agg.waiting.status == "OPTIMAL":
        scope = "global" if unique else "given the level-2 service profile"
    else:
        scope = "given the level-1 and level-2 values found"
    compact = dataclasses.replace(
        compact,
        compactness=dataclasses.replace(compact.compactness, scope=scope),
        overflow=dataclasses.replace(compact.overflow, scope=scope) if compact.overflow is not None else None,
    )
    planned = data  # the problem as solved; with home visits, a copy whose mobile days came forward
    if data.home_visits is not None:
        busy = {(int(dv), int(d)) for dv, d in zip(assignment.device, assignment.day, strict=True) if dv >= 0}
        visits = advance_mobile_days(
            data.home_visits,
            [dv.kecamatan for dv in assignment.devices],
            [dv.first_day for dv in assignment.devices],
            busy,
        )
        # Mobile days moved onto days their device is idle anyway change no office seat, so every
        # bound proven on ``data`` holds for the plan; ``data`` itself is never written into.
        planned = dataclasses.replace(data, mobile=visits.mobile, home_visits=visits)

    measured = _measure(assignment, households, data)
    compactness = _level_3_of_plan(compact.compactness, assignment, households, data, agg, compact.overflow is not None)
    levels = [
        _measured(agg.completion, measured["completion"]),
        _measured(agg.waiting, measured["waiting"]),
        _measured(compactness, measured["compactness"]),
    ]
    if compact.overflow is not None:
        levels.append(_measured(compact.overflow, measured["overflow"]))
    return Result(
        status=overall_status(levels),
        levels=levels,
        assignment=assignment,
        problem=planned,
        aggregate=agg,
        runtime=time.perf_counter() - start,
        options=options,
        timings=timings,
    )

"""Size the backlog: the smallest reserve and catch-up days that absorb the late arrivals.

Both knobs take seats away from regular appointments, so each candidate is planned again with the
real planner (same model as ``solve``) and then simulated. For each number of catch-up days, the
reserve is raised one seat at a time until the target probability is reached or the deadline can
no longer be met: the probability does not fall as the reserve grows (more seats for late KK),
and the completion date does not move earlier (fewer regular seats), so the first reserve that
reaches the target is the smallest one for that number of catch-up days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from ektp_opt.analysis.simulate import DEFAULT_MEAN_DELAY, campaign_from_result, simulate
from ektp_opt.errors import InfeasibleError, InputError, NoSolutionError
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.problem import build_problem
from ektp_opt.solver import SolveOptions, solve

DEFAULT_CATCH_UP = (0, 2, 4, 6, 8)


@dataclasses.dataclass(frozen=True)
class Candidate:
    catch_up_days: int
    reserve_per_shift: int | None  # None: no reserve reaches the target on this calendar
    probability: float | None
    completion: dt.date | None  # regular appointments end
    last_regular_day: dt.date | None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for key in ("completion", "last_regular_day"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def with_backlog(ls: LoadedScenario, reserve: int, catch_up: int) -> LoadedScenario:
    sc = ls.scenario
    backlog = sc.backlog.model_copy(update={"reserve_per_shift": reserve, "catch_up_days": catch_up})
    return dataclasses.replace(ls, scenario=sc.model_copy(update={"backlog": backlog}))


def recommend(
    ls: LoadedScenario,
    households: Households,
    options: SolveOptions,
    late_rate: float,
    runs: int,
    seed: int,
    target: float,
    mean_delay: float = DEFAULT_MEAN_DELAY,
    catch_up: Sequence[int] = DEFAULT_CATCH_UP,
    idle_seats: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> tuple[Candidate | None, list[Candidate]]:
    """Return the recommended setting (earliest completion of regular appointments among those
    reaching the target; fewer catch-up days on a tie) and the whole trade-off table."""
    seats = min(ls.scenario.seats_per_device_shift(k.code) for k in ls.admin.kecamatan)
    seats += ls.scenario.backlog.reserve_per_shift  # seats per device-shift before any reserve
    table: list[Candidate] = []
    for c in catch_up:
        found: Candidate | None = None
        last_prob: float | None = None
        for r in range(seats):
            trial = with_backlog(ls, r, c)
            if on_step:
                on_step(f"catch-up {c}, reserve {r}: planning")
            try:
                data = build_problem(trial, households)
                result = solve(data, households, options)
            except (
                InfeasibleError,
                InputError,
                NoSolutionError,
            ):  # no regular day left, families no longer fit, or no plan in time
                break
            if on_step:
                on_step(f"catch-up {c}, reserve {r}: simulating")
            sim = simulate(
                campaign_from_result(result, households, trial, idle_seats), late_rate, runs, seed, mean_delay
            )
            last_prob = sim.probability
            if sim.probability >= target:
                completion = data.days[result.level("completion").value - 1]
                found = Candidate(c, r, sim.probability, completion, data.last_regular_day)
                break
        table.append(
            found
            or Candidate(c, None, last_prob, None, None, "the deadline cannot be met before the target is reached")
        )
    ok = [x for x in table if x.completion is not None]
    best = min(ok, key=lambda x: (x.completion, x.catch_up_days)) if ok else None
    return best, table

"""A library user's script: it must type-check under ``mypy --strict`` through the front door alone."""

from __future__ import annotations

from pathlib import Path

from ektp_opt import (
    InfeasibleError,
    LoadedScenario,
    PlannedCity,
    PlanSummary,
    SolveOptions,
    load_scenario,
    plan_city,
    verify_plan,
    write_plan,
)


def plan(scenario: Path, out: Path) -> int:
    ls: LoadedScenario = load_scenario(scenario)
    try:
        planned: PlannedCity = plan_city(ls, options=SolveOptions(workers=1))
    except InfeasibleError as exc:
        print(exc.message)
        return 4
    summary: PlanSummary = write_plan(planned, out)
    completion: int = planned.result.level("completion").value
    print(summary.completion_date, completion)
    report = verify_plan(out, ls, planned.households)
    return 0 if report.ok else 5

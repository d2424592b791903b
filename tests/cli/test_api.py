"""The library works without the CLI: plan, write (verified), read back, re-plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

import ektp_opt
from ektp_opt import InfeasibleError, SolveOptions, load_scenario, plan_city, replan_city, write_plan, write_replan


def test_every_public_name_resolves() -> None:
    for name in ektp_opt.__all__:
        assert getattr(ektp_opt, name) is not None


def test_plan_write_and_replan_from_the_library(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    ls = load_scenario(tiny_city())
    planned = plan_city(ls, options=SolveOptions(workers=1))
    info = write_plan(planned, tmp_path / "plan")
    assert info.households == len(planned.households)
    assert ektp_opt.verify_plan(tmp_path / "plan", ls, planned.households).ok
    again = replan_city(tmp_path / "plan", ls, dt.date(2011, 8, 22), options=SolveOptions(workers=1))
    new = write_replan(again, tmp_path / "new")
    assert new.resolve is not None and new.resolve.moved_kk == 0  # nothing changed


def test_infeasible_carries_the_diagnosis_and_allow_late_plans(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    short = tiny_city(households="[households]\nseed = 7\nresidents = 3000\nhouseholds = 1000\n")
    ls = load_scenario(short)
    with pytest.raises(InfeasibleError) as exc:
        plan_city(ls, options=SolveOptions(workers=1))
    assert exc.value.diagnosis.meets_deadline is False
    late = plan_city(ls, options=SolveOptions(workers=1), allow_late=True)
    assert write_plan(late, tmp_path / "late").late is True


def test_summary_json_is_the_typed_summary_as_written(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """summary.json is PlanSummary serialised in one place; reading it back gives the same model."""
    import json

    from ektp_opt.plan.read import read_plan_summary

    ls = load_scenario(tiny_city())
    info = write_plan(plan_city(ls, options=SolveOptions(workers=1)), tmp_path / "plan")
    text = (tmp_path / "plan" / "summary.json").read_text()
    assert json.loads(text) == info.to_json()
    assert read_plan_summary(tmp_path / "plan" / "summary.json") == info
    assert "resolve" not in json.loads(text)  # absent, not null, for a plan that is no re-plan


def test_plan_reads_back_with_the_measured_objectives(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    ls = load_scenario(tiny_city())
    planned = plan_city(ls, options=SolveOptions(workers=1))
    info = planned.write(tmp_path / "plan")
    plan = ektp_opt.Plan.read(tmp_path / "plan")
    measured = plan.objectives()
    for name, level in info.objectives.items():
        assert measured[name] == level.value, name

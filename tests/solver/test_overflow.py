"""Overflow cities: the written plan reaches the proven completion (issue 15.1), checked on the
tiny Makassar case whose exact optimum an independent exact model found (tests/data/tiny-overflow,
README there), and overflow compactness has a real bound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ektp_opt.cli.main import main
from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import load_scenario
from ektp_opt.problem import build_problem
from ektp_opt.solver import SolveOptions, solve
from ektp_opt.solver.compact import days_needed_bound

CASE = Path(__file__).parents[1] / "data" / "tiny-overflow"
SCENARIO = CASE / "tiny-2012-overflow.toml"


@pytest.mark.parametrize(("workers", "seed"), [(1, 0), (2, 0), (2, 1), (2, 2)])
def test_overflow_plan_reaches_the_exact_optimum(tmp_path: Path, workers: int, seed: int) -> None:
    out = tmp_path / "plan"
    args = ["solve", str(SCENARIO), "--out", str(out), "--workers", str(workers), "--seed", str(seed), "--quiet"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.stderr
    levels = json.loads((out / "summary.json").read_text())["objectives"]
    assert levels["completion"]["value"] == 6 == levels["completion"]["bound"]  # the exact model's day 6
    assert levels["waiting"]["value"] == 5_746  # the exact model's proven least waiting
    for lv in levels.values():
        assert lv["bound"] <= lv["value"]


def test_exact_plan_of_the_case_verifies() -> None:
    r = CliRunner().invoke(main, ["verify", str(CASE / "exact-plan"), "--scenario", str(SCENARIO)])
    assert r.exit_code == 0, r.stdout


def test_overflow_compactness_bound_is_real_and_valid() -> None:
    ls = load_scenario(SCENARIO)
    h = load_population(ls)
    data = build_problem(ls, h)
    result = solve(data, h, SolveOptions(workers=1))
    compact = result.level("compactness")
    nonempty = len(set(h.kelurahan.tolist()))
    assert compact.bound >= nonempty  # every kelurahan with residents needs a day
    assert compact.bound <= compact.value
    served = result.aggregate.served
    assert days_needed_bound(data, served, result.level("completion").value) <= compact.value

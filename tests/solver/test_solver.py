"""The decomposition against the monolithic model, on tiny seeded cities."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import load_scenario
from ektp_opt.problem import build_problem
from ektp_opt.solver import SolveOptions, solve
from tests.monolithic import solve_monolithic

SMALL = "[households]\nseed = {seed}\nresidents = 40\nhouseholds = 16\n"
VARIANTS = {
    "pool": {},
    "holidays+late-pool": {
        "deliveries": "[[deliveries]]\ndate = 2011-08-15\nper_kecamatan = 1\n\n"
        "[[deliveries]]\ndate = 2011-08-25\npool = 1\n"
    },
    "operators": {"extra": "[operators]\nper_kecamatan = 1\nshifts_per_operator = 2\n"},
    "overflow": {
        "head": 'name = "t"\ncity = "t"\nstart = 2011-08-18\ndeadline = 2011-09-10\n'
        'shifts_per_day = 4\noverflow_km = 3.0\nkecamatan = "kecamatan.csv"\nkelurahan = "kelurahan.csv"\n',
        "deliveries": '[[deliveries]]\ndate = 2011-08-15\nkecamatan = "12.71.01"\ncount = 1\n\n'
        '[[deliveries]]\ndate = 2011-08-15\nkecamatan = "12.71.03"\ncount = 1\n\n'
        '[[deliveries]]\ndate = 2011-08-15\nkecamatan = "12.71.02"\ncount = 1\n',
    },
}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_decomposition_matches_monolithic(tiny_city: Callable[..., Path], variant: str, seed: int) -> None:
    path = tiny_city(households=SMALL.format(seed=seed), **VARIANTS[variant])
    ls = load_scenario(path)
    h = load_population(ls, use_cache=False)
    data = build_problem(ls, h)
    result = solve(data, h, SolveOptions(time_limit=20, workers=1, preset="fast"))
    ref = solve_monolithic(data, h)
    ours = {lv.name: lv for lv in result.levels}
    for name, best in ref.items():
        lv = ours[name]
        assert lv.bound <= best, f"{name}: bound {lv.bound} claims more than the true optimum {best}"
        assert lv.value >= best, f"{name}: plan value {lv.value} beats the true optimum {best}?"
        if lv.status == "OPTIMAL" and lv.scope == "global":
            assert lv.value == best, name
    assert ours["completion"].value == ref["completion"]
    assert ours["waiting"].value == ref["waiting"]


def test_solving_does_not_change_the_problem(tiny_city: Callable[..., Path]) -> None:
    """Issue 16: solving the same ProblemData twice leaves it as it was and gives the same plan
    (one worker); with home visits, whose mobile days the planner brings forward."""
    import copy

    import numpy as np

    path = tiny_city(
        extra="[home_visits]\nportable_per_kecamatan = 1\nvisits_per_day = 3\n",
        households="[households]\nseed = 5\nresidents = 120\nhouseholds = 40\nhome_visit_share = 0.2\n",
    )
    ls = load_scenario(path)
    h = load_population(ls, use_cache=False)
    data = build_problem(ls, h)
    assert data.home_visits is not None and data.home_visits.days
    before = copy.deepcopy(data)
    first = solve(data, h, SolveOptions(time_limit=20, workers=1))
    second = solve(data, h, SolveOptions(time_limit=20, workers=1))
    assert data.mobile is not None and before.mobile is not None
    assert np.array_equal(data.mobile, before.mobile)
    assert data.home_visits.days == before.home_visits.days  # type: ignore[union-attr]
    for name in ("site", "day", "shift", "device"):
        assert np.array_equal(getattr(first.assignment, name), getattr(second.assignment, name)), name
    one, two = first.problem.home_visits, second.problem.home_visits
    assert one is not None and two is not None
    assert one.days == two.days and np.array_equal(one.mobile, two.mobile)
    with pytest.raises(ValueError):
        data.seats[0] = 1  # frozen arrays

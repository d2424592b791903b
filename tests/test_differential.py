"""A sample of the random tiny cities of ``tests/differential.py`` (the full 500 run is a script)."""

from __future__ import annotations

import os

import pytest

from tests.differential import check_city

N = int(os.environ.get("EKTP_DIFF_CITIES", "10"))


@pytest.mark.parametrize("seed", range(N))
def test_random_city_agrees_with_the_exact_model(seed: int) -> None:
    assert check_city(seed).startswith(("ok", "infeasible"))


@pytest.mark.parametrize("seed", [0, 3])
def test_tight_city_plans_or_proves(seed: int) -> None:
    """Two of the tight family (tests/tight.py): resolve plans, or exits 4 with a proof that the
    exact model with the past fixed confirms."""
    from tests.tight import check as check_tight

    assert check_tight(seed).startswith("resolve")

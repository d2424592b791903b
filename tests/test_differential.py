"""A sample of the random tiny cities of ``tests/differential.py`` (the full 500 run is a script)."""

from __future__ import annotations

import os

import pytest

from tests.differential import check_city

N = int(os.environ.get("EKTP_DIFF_CITIES", "10"))


@pytest.mark.parametrize("seed", range(N))
def test_random_city_agrees_with_the_exact_model(seed: int) -> None:
    assert check_city(seed).startswith(("ok", "infeasible"))

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ektp_opt.errors import InputError
from ektp_opt.inputs.admin import AdminData, load_admin
from ektp_opt.inputs.generate import generate_population
from ektp_opt.inputs.households import households_csv_text, load_households_csv
from ektp_opt.inputs.scenario import GeneratorSpec, load_scenario
from tests.conftest import MEDAN

GOOD = "kk_id,kelurahan_code,members,lingkungan,needs_home_visit\nK1,12.71.01.1001,3,1,0\nK2,12.71.02.1001,1,2,1\n"


@pytest.fixture
def admin(tiny_city: Callable[..., Path]):  # type: ignore[no-untyped-def]
    return load_scenario(tiny_city()).admin


def test_roundtrip(admin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "h.csv"
    p.write_text(GOOD)
    h = load_households_csv(p, admin)
    assert h.kk_id.tolist() == ["K1", "K2"] and h.residents == 4 and h.home_visit.tolist() == [False, True]
    assert households_csv_text(h, admin) == GOOD


@pytest.mark.parametrize(
    ("text", "where", "why"),
    [
        (GOOD + "K3,12.71.09.9999,2,1,0\n", "row 4, column kelurahan_code", "unknown kelurahan"),
        (GOOD + "K3,12.71.01.1001,two,1,0\n", "row 4, column members", "not an integer"),
        (
            GOOD + "K1,12.71.01.1001,2,1,0\n",
            "row 4, column kk_id",
            "duplicate kk_id K1 (first on row 2)",
        ),
        (GOOD + "K3,12.71.01.1001,0,1,0\n", "row 4, column members", "outside the range"),
        (
            GOOD + "K3,12.71.01.1001,99999999999999999999,1,0\n",
            "row 4, column members",
            "outside the range",
        ),
        (GOOD + "K3,12.71.01.1001\n", "row 4", "has 2 cells"),
        ("kk_id,members\nK1,2\n", "header", "missing column(s): kelurahan_code"),
        ("", None, "file is empty"),
        (GOOD + "K3,12.71.01.1001,2,1,maybe\n", "row 4, column needs_home_visit", "not 0/1"),
    ],
)
def test_broken_households(admin, tmp_path: Path, text: str, where: str | None, why: str) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "h.csv"
    p.write_text(text)
    with pytest.raises(InputError) as exc:
        load_households_csv(p, admin)
    assert exc.value.where == where
    assert why in exc.value.reason


def test_non_utf8(admin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "h.csv"
    p.write_bytes(GOOD.encode() + b"K3,12.71.01.1001,\xff,1,0\n")
    with pytest.raises(InputError, match="line 4: not valid UTF-8"):
        load_households_csv(p, admin)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_households_fail_cleanly(admin, tmp_path: Path, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    """Any mutation of a good file either loads or raises InputError naming the file."""
    raw = bytearray(GOOD.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[pos] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del raw[pos:]
        else:
            raw[pos:pos] = data.draw(st.binary(max_size=6))
    p = tmp_path / "fuzz.csv"
    p.write_bytes(bytes(raw))
    try:
        h = load_households_csv(p, admin)
    except InputError as exc:
        assert str(p) in exc.message and "\n" not in exc.message
    else:
        assert len(h) >= 1 and (h.members >= 1).all()


def test_medan_population_exact_and_deterministic() -> None:
    ls = load_scenario(MEDAN / "medan-2011.toml")
    spec = ls.scenario.households
    assert isinstance(spec, GeneratorSpec)
    a = generate_population(spec, ls.admin)
    b = generate_population(spec, ls.admin)
    assert len(a) == 650_000 and a.residents == 2_100_000
    assert np.array_equal(a.members, b.members) and np.array_equal(a.kk_id, b.kk_id)
    assert len(np.unique(a.kk_id)) == 650_000
    assert 0.08 < (a.members == 1).mean() < 0.15
    assert 0 < a.home_visit.mean() < 0.02
    other = generate_population(spec.model_copy(update={"seed": 1}), ls.admin)
    assert not np.array_equal(a.members, other.members)


@settings(max_examples=int(os.environ.get("EKTP_FUZZ_EXAMPLES", "60")), deadline=None)
@given(households=st.integers(1, 40_000), per_kk=st.floats(1.0, 10.0), seed=st.integers(0, 2**32))
def test_generator_hits_every_valid_spec_exactly(households: int, per_kk: float, seed: int) -> None:
    """Every spec that passes validation (households <= residents <= 10 x households) gives
    exactly that many KK and residents, 1..10 members each (issue: 50/51 and 1/10 failed)."""
    residents = min(10 * households, max(households, round(households * per_kk)))
    spec = GeneratorSpec(seed=seed, households=households, residents=residents)
    h = generate_population(spec, _medan_admin())
    assert len(h) == households and h.residents == residents
    assert h.members.min() >= 1 and h.members.max() <= 10


@cache
def _medan_admin() -> AdminData:
    return load_admin(MEDAN / "kecamatan.csv", MEDAN / "kelurahan.csv")

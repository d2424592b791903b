"""The national master alone (national/master.py): against a brute force over every split of
tiny nations, whose completion and waiting are counted here resident by resident (SPEC.md,
"National": each kecamatan serves its residents earliest first, seats per device per working
day), never with the module's own helpers; and against the proportional split on national-small."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest

from ektp_opt.national.master import MasterInput, master_input, proportional_split, solve_master

SEATS, FIXED = 10, 1


def _tiny(waves: list[int], first: list[list[int]], residents: list[int], regular: int = 12) -> MasterInput:
    return MasterInput(
        days=[dt.date(2011, 8, 1) + dt.timedelta(days=i) for i in range(regular)],
        regular=regular,
        kecamatan=[f"99.01.{i + 1:02d}" for i in range(len(residents))],
        city_of=["99.01"] * len(residents),
        residents=np.array(residents, dtype=np.int64),
        seats=SEATS,
        fixed=FIXED,
        fixed_first=np.zeros(len(residents), dtype=np.int64),
        wave_first=np.array(first, dtype=np.int64),
        wave_count=waves,
    )


def _served(residents: int, devices_on: list[int]) -> tuple[int | None, int]:
    """A kecamatan's residents served earliest first, ``devices_on[d]`` devices on working day d:
    the 1-based day its last resident is served (None: not within these days) and the sum of
    every resident's 1-based day."""
    left, waiting = residents, 0
    for day, devices in enumerate(devices_on, start=1):
        served = min(left, SEATS * devices)
        waiting += served * day
        left -= served
        if left == 0:
            return day, waiting
    return None, waiting


def _counted(residents: list[int], first: list[list[int]], split: list[list[int]], days: int) -> tuple[int, int] | None:
    """(completion, waiting) of a split, counted resident by resident; None if some kecamatan is
    not done within ``days``. Waiting counts everyone, as the master's level 2 does."""
    done, total = 0, 0
    for k, people in enumerate(residents):
        devices_on = [FIXED + sum(n for n, f in zip(split[k], first[k], strict=True) if d >= f) for d in range(days)]
        day, waiting = _served(people, devices_on)
        if day is None:
            return None
        done, total = max(done, day), total + waiting
    return done, total


@pytest.mark.parametrize(
    "case",
    [
        ([2, 1], [[2, 5], [2, 5], [3, 6]], [150, 90, 60]),
        ([1, 2], [[1, 4], [3, 4], [1, 7]], [110, 100, 40]),
        ([3], [[2], [2], [2]], [200, 60, 100]),
    ],
)
def test_master_equals_the_brute_force_optimum_on_tiny_nations(
    case: tuple[list[int], list[list[int]], list[int]],
) -> None:
    """Every split of every wave over the kecamatan, tried: the master's completion is the least
    any split reaches, and its waiting the least among the splits that reach it."""
    waves, first, residents = case
    mi = _tiny(waves, first, residents)
    n_k, n_w = len(residents), len(waves)
    best: tuple[int, int] | None = None
    for flat in itertools.product(*[range(c + 1) for c in waves for _k in range(n_k)]):
        split = [[flat[w * n_k + k] for w in range(n_w)] for k in range(n_k)]
        if any(sum(split[k][w] for k in range(n_k)) > waves[w] for w in range(n_w)):
            continue
        counted = _counted(residents, first, split, mi.regular)
        if counted is not None and (best is None or counted < best):
            best = counted
    assert best is not None
    plan = solve_master(mi, limit=30)
    assert (plan.completion.value, plan.waiting.value) == best
    assert plan.completion.bound <= best[0] and plan.waiting.bound <= best[1]
    assert plan.completion.status == plan.waiting.status == "OPTIMAL"
    split = plan.split.tolist()
    assert all(sum(split[k][w] for k in range(n_k)) <= waves[w] for w in range(n_w))
    assert _counted(residents, first, split, mi.regular) == best  # the split it gives is that optimum
    per_kecamatan = [
        _served(
            people,
            [FIXED + sum(n for n, f in zip(split[k], first[k], strict=True) if d >= f) for d in range(mi.regular)],
        )[1]
        for k, people in enumerate(residents)
    ]
    assert plan.waiting_per_kecamatan.tolist() == per_kecamatan


def test_master_is_never_worse_than_the_proportional_split() -> None:
    """On national-small: completion no later than the proportional split's, counted here."""
    pytest.importorskip("ray")
    from ektp_opt.national.cities import make_city
    from ektp_opt.national.scenario import load_national
    from tests.national.test_national import SMALL

    ln = load_national(SMALL)
    mi = master_input(ln, [make_city(ln, k.code) for k in ln.kabkota])
    plan = solve_master(mi, limit=60)
    simple = proportional_split(mi).tolist()
    first = mi.wave_first.tolist()
    fixed_first = mi.fixed_first.tolist()
    done, total = 0, 0
    for k, people in enumerate(mi.residents.tolist()):
        devices_on = [
            mi.fixed * (d >= fixed_first[k]) + sum(n for n, f in zip(simple[k], first[k], strict=True) if d >= f)
            for d in range(mi.regular)
        ]
        left, day = people, 0
        for day, devices in enumerate(devices_on, start=1):
            served = min(left, mi.seats * devices)
            total += served * day
            left -= served
            if left == 0:
                break
        if left:
            return  # the proportional split does not finish: nothing to compare
        done = max(done, day)
    assert plan.horizon <= done
    if plan.horizon == done:
        assert plan.waiting.value <= total

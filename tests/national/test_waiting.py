"""Level 2's decomposition alone (national/waiting.py): the closed-form waiting against residents
counted day by day, and the pricing against every vector a kecamatan could take, tried and
counted here (SPEC.md, "National": each kecamatan serves its residents earliest first)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ektp_opt.national import waiting
from tests.national.test_master import FIXED, SEATS, _devices_on, _random_nation, _tiny


def _waiting_by_day(people: int, devices_on: list[int]) -> int:
    """Residents still waiting at the start of each day, summed over the days given."""
    left, total = people, 0
    for devices in devices_on:
        total += left
        left = max(0, left - SEATS * devices)
    return total


def _nation(seed: int) -> tuple[list[int], list[list[int]], list[int], list[int], int]:
    """1-3 kecamatan, 1-3 waves of up to 6 devices, residents enough to want several."""
    rng = np.random.default_rng(seed)
    waves, first, residents, fixed_first = _random_nation(rng, (1, 4), (1, 7), 9, (10, 500))
    return waves, first, residents, fixed_first, int(rng.integers(4, 12))


@pytest.mark.parametrize("seed", range(40))
def test_closed_form_waiting_is_the_waiting_counted_day_by_day(seed: int) -> None:
    """Every vector of every kecamatan, served in time or not."""
    waves, first, residents, ff, horizon = _nation(seed)
    mi = _tiny(waves, first, residents, regular=12, fixed_first=ff)
    vectors = list(itertools.product(*[range(c + 1) for c in waves]))
    rows = np.repeat(np.arange(len(residents)), len(vectors))
    x = np.array(vectors * len(residents), dtype=np.int64).reshape(len(rows), len(waves))
    got = waiting.waiting_at(mi, horizon, rows, x).tolist()
    want = [
        _waiting_by_day(residents[k], _devices_on(list(v), first[k], horizon, ff[k]))
        for k in range(len(residents))
        for v in vectors
    ]
    assert got == want


@pytest.mark.parametrize("seed", range(60))
def test_pricing_finds_the_cheapest_covering_vector_of_all(seed: int) -> None:
    """At prices from nothing to dear, each kecamatan's cheapest vector (waiting + prices·devices,
    among those that serve it by the horizon) is the least of every vector up to each wave's
    count, tried here; a kecamatan no vector covers is a broken level 1, not a price."""
    waves, first, residents, ff, horizon = _nation(seed)
    mi = _tiny(waves, first, residents, regular=12, fixed_first=ff)
    rng = np.random.default_rng(1000 + seed)
    vectors = list(itertools.product(*[range(c + 1) for c in waves]))

    def covers(k: int, v: tuple[int, ...]) -> bool:
        return SEATS * sum(_devices_on(list(v), first[k], horizon, ff[k])) >= residents[k]

    if not all(any(covers(k, v) for v in vectors) for k in range(len(residents))):
        need, days = waiting.shortfall(mi, horizon)
        with pytest.raises(AssertionError, match="no covering vector"):
            waiting.price(mi, horizon, np.zeros(len(waves)), need, days)
        return
    for scale in (0.0, 1.0, 10.0, 100.0, 1000.0):
        prices = scale * rng.random(len(waves))
        need, days = waiting.shortfall(mi, horizon)
        priced = waiting.price(mi, horizon, prices, need, days)
        assert priced is not None
        least, chosen = priced
        for k in range(len(residents)):
            costs = {
                v: _waiting_by_day(residents[k], _devices_on(list(v), first[k], horizon, ff[k]))
                + float(np.dot(v, prices))
                for v in vectors
                if covers(k, v)
            }
            assert least[k] == pytest.approx(min(costs.values()), rel=1e-12, abs=1e-9)
            v = tuple(chosen[k].tolist())
            assert v in costs and costs[v] == pytest.approx(least[k], rel=1e-12, abs=1e-9)


def test_a_device_is_worth_its_price_only_while_it_saves_more() -> None:
    """One kecamatan of 40 residents, 10 seats a device-day, its own device from day 0 (enough to
    serve everyone in 5 days), a wave of 5 devices from day 1: waiting by day 40+30+20+10 with
    none, 40+30+10 with one, 40+30 with two or more, so the devices save 20, 10, 0, 0, 0. At a
    price of 5 its box holds the 2 devices that save more; at 21, none; and a kecamatan its own
    device cannot serve in time holds at least the wave devices that cover it."""
    mi = _tiny([5], [[1]], [40], regular=5, fixed_first=[0])
    need, days = waiting.shortfall(mi, 5)
    assert FIXED == 1 and need.tolist() == [0] and days.tolist() == [[4]]
    cost = [_waiting_by_day(40, _devices_on([n], [1], 5, 0)) for n in range(6)]
    assert cost == [100, 80, 70, 70, 70, 70]
    assert waiting.boxes(mi, 5, np.array([5.0]), need, days).tolist() == [[2]]
    assert waiting.boxes(mi, 5, np.array([21.0]), need, days).tolist() == [[0]]
    assert waiting.boxes(mi, 5, np.array([0.0]), need, days).tolist() == [[2]]  # saving 0 is no gain
    short = _tiny([5], [[1]], [90], regular=5, fixed_first=[0])  # 40 device-days short: 2 wave devices
    need, days = waiting.shortfall(short, 5)
    assert need.tolist() == [4] and waiting.boxes(short, 5, np.array([1e9]), need, days).tolist() == [[1]]

"""Rule 3's delivery count (verify/rules.py ``_delivery_excess``) on device lists written here:
deliveries that share a day add up, a named delivery gives only its kecamatan, pool devices are
whatever a day's placements exceed its fixed deliveries by, a device listed twice is counted once
(issue #26). Each expected message is written from the scenario's deliveries by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from ektp_opt.inputs.scenario import load_scenario
from ektp_opt.verify.rules import _delivery_excess

A, B, C = "12.71.01", "12.71.02", "12.71.03"
DAY = dt.date(2011, 8, 15)
LATER = dt.date(2011, 8, 22)

DELIVERIES = (
    # 15 Aug: one per kecamatan, twice over, a named one for Alpha, and two pools (2 + 3)
    "[[deliveries]]\ndate = 2011-08-15\nper_kecamatan = 1\n\n"
    "[[deliveries]]\ndate = 2011-08-15\nper_kecamatan = 1\n\n"
    '[[deliveries]]\ndate = 2011-08-15\nkecamatan = "12.71.01"\ncount = 1\n\n'
    "[[deliveries]]\ndate = 2011-08-15\npool = 2\n\n"
    "[[deliveries]]\ndate = 2011-08-15\npool = 3\n\n"
    # 22 Aug: a named one for Beta only, and a pool of 1
    '[[deliveries]]\ndate = 2011-08-22\nkecamatan = "12.71.02"\ncount = 1\n\n'
    "[[deliveries]]\ndate = 2011-08-22\npool = 1\n"
)


def _devices(*placed: tuple[str, dt.date, int]) -> list[tuple[str, str, dt.date, dt.date]]:
    out = []
    for kec, day, n in placed:
        start = sum(1 for d in out if d[1] == kec)
        out += [(f"{kec}-D{start + i + 1:03d}", kec, day, day) for i in range(n)]
    return out


def test_deliveries_of_one_day_add_up(tiny_city: Callable[..., Path]) -> None:
    """15 Aug gives Alpha 3 (two per-kecamatan, one named), Beta and Gamma 2 each, and 5 pool
    devices: 3+2+2 fixed plus 5 anywhere is what may be placed, one more is one too many."""
    ls = load_scenario(tiny_city(deliveries=DELIVERIES))
    fits = _devices((A, DAY, 3 + 5), (B, DAY, 2), (C, DAY, 2))
    assert _delivery_excess(ls, fits) == []
    assert _delivery_excess(ls, _devices((A, DAY, 3), (B, DAY, 2 + 3), (C, DAY, 2 + 2))) == []
    over = _devices((A, DAY, 3 + 5), (B, DAY, 2), (C, DAY, 2 + 1))
    assert _delivery_excess(ls, over) == ["2011-08-15: 6 pool devices placed, 5 delivered"]


def test_a_named_delivery_serves_its_kecamatan_only(tiny_city: Callable[..., Path]) -> None:
    """22 Aug: Beta's named device and one pool device. Two at Beta fit; two at Alpha (no fixed
    delivery that day) are both pool devices, one too many; Beta's third is also one too many."""
    ls = load_scenario(tiny_city(deliveries=DELIVERIES))
    assert _delivery_excess(ls, _devices((B, LATER, 2))) == []
    assert _delivery_excess(ls, _devices((B, LATER, 1), (A, LATER, 1))) == []
    assert _delivery_excess(ls, _devices((B, LATER, 1), (A, LATER, 2))) == [
        "2011-08-22: 2 pool devices placed, 1 delivered"
    ]
    assert _delivery_excess(ls, _devices((B, LATER, 3))) == ["2011-08-22: 2 pool devices placed, 1 delivered"]


def test_a_device_listed_twice_is_counted_once_and_every_day_is_checked(tiny_city: Callable[..., Path]) -> None:
    """A device listed a second time (its own rule) neither counts twice nor stops the count of
    the devices after it; every day without a delivery is named, not only the first."""
    ls = load_scenario(tiny_city(deliveries=DELIVERIES))
    devices = _devices((A, DAY, 3 + 5), (B, DAY, 2))
    devices.insert(1, devices[0])
    devices += _devices((C, DAY, 3))  # Gamma: 2 fixed and one pool device too many
    assert _delivery_excess(ls, devices) == ["2011-08-15: 6 pool devices placed, 5 delivered"]
    stray = [("X1", A, dt.date(2011, 8, 16), DAY), ("X2", B, dt.date(2011, 8, 17), DAY)]
    assert _delivery_excess(ls, stray) == [
        "2011-08-16: 1 devices, no such delivery",
        "2011-08-17: 1 devices, no such delivery",
    ]

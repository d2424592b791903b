"""What a violation says, beyond its name (issue #26): which KK or device, how many, and a late
plan told as a warning, and rule 3's delivery count. Each case breaks a copy of the office plan of
test_every_rule.py, or writes its device list by hand; the counts and ids are taken here from the
rows the test wrote, not from the verifier."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from ektp_opt.inputs.scenario import load_scenario
from ektp_opt.verify import verify_plan
from ektp_opt.verify.rules import _delivery_excess
from tests.verify.test_every_rule import Base, Plan, _build_office, _fixture, _seats_left, listed_twice, split_family


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return _fixture("office", _build_office, tmp_path_factory)


def _said(p: Plan) -> dict[str, tuple[int, list[str]]]:
    p.save_files()
    return {v.rule: (v.count, v.examples) for v in verify_plan(p.dir, p.ls, p.h).violations}


def test_a_split_family_and_a_repeated_kk_are_named_by_their_kk_id(office: Base, tmp_path: Path) -> None:
    p = Plan(office, tmp_path / "split")
    split_family(p)
    (kk,) = [k for k in {r["kk_id"] for r in p.appts} if sum(r["kk_id"] == k for r in p.appts) == 2]
    assert _said(p) == {"family split across device-shifts": (1, [kk])}
    q = Plan(office, tmp_path / "twice")
    listed_twice(q)
    (kk,) = [k for k in {r["kk_id"] for r in q.appts} if sum(r["kk_id"] == k for r in q.appts) == 2]
    assert _said(q) == {"KK listed more than once": (1, [kk])}


def test_an_unknown_kk_listed_twice_is_also_listed_more_than_once(office: Base, tmp_path: Path) -> None:
    """One unknown KK on one line is unknown only; on two lines it is also a repeated KK."""
    p = Plan(office, tmp_path / "once")
    dev, date, shift = next(k for k, n in sorted(_seats_left(p).items()) if n >= 2)
    row = next(r for r in p.appts if (r["device_id"], r["date"], r["shift"]) == (dev, date, shift))
    stranger = {**row, "kk_id": "KK-NOBODY", "members": "1"}
    p.appts.append(stranger)
    p.summarise()
    assert set(_said(p)) == {"unknown KK"}
    p.appts.append(dict(stranger))
    p.summarise()
    said = _said(p)
    assert set(said) == {"unknown KK", "KK listed more than once"}
    assert said["unknown KK"][0] == 2 and said["KK listed more than once"] == (1, ["KK-NOBODY"])


def test_every_device_listed_twice_is_named(office: Base, tmp_path: Path) -> None:
    """Two devices each listed a second time, at another kecamatan: both are named, each once."""
    p = Plan(office, tmp_path / "devices")
    twice = [p.devices[0], next(d for d in p.devices if d["device_id"] != p.devices[0]["device_id"])]
    for d in twice:
        p.devices.append({**d, "kecamatan": "12.71.03" if d["kecamatan"] != "12.71.03" else "12.71.01"})
    assert _said(p) == {"device listed twice (two kecamatan)": (2, [d["device_id"] for d in twice])}


def test_a_plan_made_late_on_purpose_is_warned_about_not_broken(office: Base, tmp_path: Path) -> None:
    """A plan whose summary says it was made with --allow-late: appointments after the last
    regular day are one warning with their count, and no violation; without the flag the same
    rows break the window rule."""
    last = Plan(office, tmp_path / "probe").last_regular()
    after = dt.date.fromisoformat(last) + dt.timedelta(1)
    p = Plan(office, tmp_path / "late")
    while not p.working(after):
        after += dt.timedelta(1)
    moved = sorted(p.appts, key=lambda r: (int(r["members"]), r["kk_id"]))[:2]
    for r in moved:  # two small KK moved onto the first catch-up day, on the device-shift they had
        r["date"] = str(after)
    p.summarise()
    assert set(_said(p)) == {"appointment after the last regular day (catch-up days or later)"}
    p.info["late"] = True
    assert _said(p) == {}
    report = verify_plan(p.dir, p.ls, p.h)
    assert report.ok and report.warnings == ["late plan: 2 appointments after the last regular day"]


# --- rule 3's delivery count (``_delivery_excess``) on device lists written here: deliveries that
# share a day add up, a named delivery gives only its kecamatan, pool devices are whatever a day's
# placements exceed its fixed deliveries by, a device listed twice is counted once. Each expected
# message is written from the scenario's deliveries by hand.

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

"""What a violation says, beyond its name (issue #26): which KK or device, how many, and a late
plan told as a warning. Each case breaks a copy of the office plan of test_every_rule.py; the
counts and ids are taken here from the rows the test wrote, not from the verifier."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ektp_opt.verify import verify_plan
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

"""Forged plans (issue #25): every consumer refuses a plan that `verify` refuses, before using it.

Each case changes a real plan the way a hand in a spreadsheet would; `verify` must exit 5, and so
must (or 3, for a file it cannot read at all) report, roster, invitations and simulate: none of
them may print letters or sheets for families that do not exist.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.test_cli import run


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    path.write_text(buf.getvalue())


def _edit_appointments(fn: Callable[[list[str], list[list[str]]], None]) -> Callable[[Path], None]:
    def edit(plan: Path) -> None:
        header, rows = _rows(plan / "appointments.csv")
        fn(header, rows)
        _write(plan / "appointments.csv", header, rows)

    return edit


def _members_plus_one(header: list[str], rows: list[list[str]]) -> None:
    rows[0][header.index("members")] = str(int(rows[0][header.index("members")]) + 1)


def _members_and_summary(plan: Path) -> None:
    _edit_appointments(_members_plus_one)(plan)
    info = json.loads((plan / "summary.json").read_text())
    info["residents"] += 1
    (plan / "summary.json").write_text(json.dumps(info))


def _summary(**change: object) -> Callable[[Path], None]:
    def edit(plan: Path) -> None:
        info = json.loads((plan / "summary.json").read_text())
        info.update(change)
        (plan / "summary.json").write_text(json.dumps(info))

    return edit


def _overfill(header: list[str], rows: list[list[str]]) -> None:
    """Every KK of one kecamatan into one device-shift."""
    first = rows[0]
    for r in rows:
        if r[header.index("site_kecamatan")] == first[header.index("site_kecamatan")]:
            for col in ("date", "shift", "device_id"):
                r[header.index(col)] = first[header.index(col)]


def _other_kecamatan(header: list[str], rows: list[list[str]]) -> None:
    other = next(r for r in rows if r[header.index("site_kecamatan")] != rows[0][header.index("site_kecamatan")])
    for col in ("site_kecamatan", "device_id"):
        rows[0][header.index(col)] = other[header.index(col)]


def _devices(fn: Callable[[list[str], list[list[str]]], None]) -> Callable[[Path], None]:
    def edit(plan: Path) -> None:
        header, rows = _rows(plan / "devices.csv")
        fn(header, rows)
        _write(plan / "devices.csv", header, rows)

    return edit


def _duplicate_device(header: list[str], rows: list[list[str]]) -> None:
    rows.append(list(rows[0]))


def _earlier(header: list[str], rows: list[list[str]]) -> None:
    rows[0][header.index("available_from")] = "2011-08-01"


def _set_kk(value: str) -> Callable[[list[str], list[list[str]]], None]:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        rows[0][header.index("kk_id")] = value

    return edit


def _hash(plan: Path) -> None:
    info = json.loads((plan / "summary.json").read_text())
    info["inputs"]["households_sha256"] = "0" * 64
    (plan / "summary.json").write_text(json.dumps(info))


def _residents_huge(plan: Path) -> None:
    text = (plan / "summary.json").read_text()
    info = json.loads(text)
    (plan / "summary.json").write_text(text.replace(f'"residents": {info["residents"]}', '"residents": 1' + "0" * 400))


def _stray_home_visits(plan: Path) -> None:
    (plan / "home_visits.csv").write_text("this,is\nnot,a plan\n")


TAMPERS = {
    "members changed": _edit_appointments(_members_plus_one),
    "members changed, summary adjusted": _members_and_summary,
    "kk_id unknown": _edit_appointments(_set_kk("1271999999999999")),
    "kk_id emptied": _edit_appointments(_set_kk("")),
    "kk_id a formula": _edit_appointments(_set_kk("=HYPERLINK(1)")),
    "shift overfilled": _edit_appointments(_overfill),
    "KK moved to another kecamatan": _edit_appointments(_other_kecamatan),
    "device listed twice": _devices(_duplicate_device),
    "available_from earlier": _devices(_earlier),
    "residents 10^400": _residents_huge,
    "households hash changed": _hash,
    "status MAYBE": _summary(status="MAYBE"),
    "late on a plan that is not": _summary(late=True),
    "objectives empty": _summary(objectives={}),
    "garbage home_visits.csv": _stray_home_visits,
}


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_every_consumer_refuses_what_verify_refuses(medan_10k_plan: Path, tmp_path: Path, name: str) -> None:
    plan = tmp_path / "plan"
    shutil.copytree(medan_10k_plan, plan)
    TAMPERS[name](plan)
    code, out, _err = run("verify", str(plan))
    assert code == 5, out
    header, rows = _rows(medan_10k_plan / "appointments.csv")
    kec, kel, day = rows[0][header.index("site_kecamatan")], rows[0][header.index("kelurahan_code")], rows[0][4]
    for args in (
        ["report", str(plan), "--out", str(tmp_path / "r.html")],
        ["roster", str(plan), "--kecamatan", kec, "--date", day],
        ["invitations", str(plan), "--kelurahan", kel, "--out", str(tmp_path / "letters.pdf")],
        ["simulate", str(plan), "--runs", "5", "--quiet"],
    ):
        code, _o, err = run(*args)
        assert code in (3, 5), f"{args[0]} exit {code} on {name}: {err}"
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "letters.pdf").exists()

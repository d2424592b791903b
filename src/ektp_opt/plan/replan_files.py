"""The files a re-plan adds to a plan folder, and diagnosis.json, both directions (SPEC.md,
"Planning again after a change"): typed rows in, the file out; the file in, typed rows out.

The re-planner (``resolve/output.py``) turns its result into these rows; the campaign and the
consumers read them back here. (The verifier reads the files on its own, on purpose.)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from ektp_opt.errors import InputError
from ektp_opt.inputs.csvread import iter_rows, parse_int, read_text
from ektp_opt.plan.files import (
    BACKLOG,
    BACKLOG_COLUMNS,
    CHANGE_COLUMNS,
    CHANGES,
    DIAGNOSIS,
    REINVITE,
    REINVITE_COLUMNS,
)
from ektp_opt.plan.read import parse_date
from ektp_opt.safety.csvwrite import csv_text


class ChangeRow(NamedTuple):
    """One line of changes.csv: a KK whose appointment changed, from what to what, and why."""

    kk_id: str
    old_date: dt.date | None
    old_shift: int | None
    old_device: str
    new_date: dt.date | None
    new_shift: int | None
    new_device: str | None
    reason: str


class BacklogRow(NamedTuple):
    """One line of backlog.csv: a KK that missed its slot and its new seat (none: no seat left)."""

    kk_id: str
    kelurahan_code: str
    site_kecamatan: str
    missed_date: dt.date
    date: dt.date | None
    shift: int | None
    device_id: str | None
    members: int


class ReinviteRow(NamedTuple):
    """One line of reinvite.csv: invitation letters a kelurahan office sends again for a new date."""

    kelurahan_code: str
    new_date: str
    kk: int
    residents: int


def changes_text(rows: Iterable[ChangeRow]) -> str:
    return csv_text(CHANGE_COLUMNS, rows)


def backlog_text(rows: Iterable[BacklogRow]) -> str:
    return csv_text(BACKLOG_COLUMNS, rows)


def reinvite_text(rows: Iterable[ReinviteRow]) -> str:
    return csv_text(REINVITE_COLUMNS, rows)


def write_replan_rows(
    folder: Path, changes: list[ChangeRow], reinvite: list[ReinviteRow], backlog: list[BacklogRow]
) -> None:
    """changes.csv and reinvite.csv always; backlog.csv when some KK missed their slot."""
    (folder / CHANGES).write_text(changes_text(changes), encoding="utf-8")
    (folder / REINVITE).write_text(reinvite_text(reinvite), encoding="utf-8")
    if backlog:
        (folder / BACKLOG).write_text(backlog_text(backlog), encoding="utf-8")


def _date_or_none(path: Path, row: int, column: str, value: str) -> dt.date | None:
    return parse_date(path, row, column, value) if value else None


def _int_or_none(path: Path, row: int, column: str, value: str) -> int | None:
    return parse_int(path, row, column, value, 1, 1000) if value else None


def read_changes(path: Path) -> list[ChangeRow]:
    """changes.csv, strictly (a bad cell names file, row and column); [] when there is none."""
    if not path.exists():
        return []
    return [
        ChangeRow(
            r["kk_id"],
            _date_or_none(path, n, "old_date", r["old_date"]),
            _int_or_none(path, n, "old_shift", r["old_shift"]),
            r["old_device"],
            _date_or_none(path, n, "new_date", r["new_date"]),
            _int_or_none(path, n, "new_shift", r["new_shift"]),
            r["new_device"] or None,
            r["reason"],
        )
        for n, r in iter_rows(path, CHANGE_COLUMNS)
    ]


def read_backlog(path: Path) -> list[BacklogRow]:
    """backlog.csv, strictly; [] when there is none."""
    if not path.exists():
        return []
    return [
        BacklogRow(
            r["kk_id"],
            r["kelurahan_code"],
            r["site_kecamatan"],
            parse_date(path, n, "missed_date", r["missed_date"]),
            _date_or_none(path, n, "date", r["date"]),
            _int_or_none(path, n, "shift", r["shift"]),
            r["device_id"] or None,
            parse_int(path, n, "members", r["members"], 1, 10_000),
        )
        for n, r in iter_rows(path, BACKLOG_COLUMNS)
    ]


def read_reinvite(path: Path) -> list[ReinviteRow]:
    if not path.exists():
        return []
    return [
        ReinviteRow(
            r["kelurahan_code"],
            parse_date(path, n, "new_date", r["new_date"]).isoformat(),
            parse_int(path, n, "kk", r["kk"], 0, 100_000_000),
            parse_int(path, n, "residents", r["residents"], 0, 1_000_000_000),
        )
        for n, r in iter_rows(path, REINVITE_COLUMNS)
    ]


def diagnosis_text(figures: dict[str, Any]) -> str:
    return json.dumps(figures, indent=2) + "\n"


def write_diagnosis_file(folder: Path, figures: dict[str, Any]) -> Path:
    (folder / DIAGNOSIS).write_text(diagnosis_text(figures), encoding="utf-8")
    return folder / DIAGNOSIS


def read_diagnosis(folder: Path) -> dict[str, Any]:
    """A "cannot" folder's diagnosis.json (a JSON object), or an InputError naming it."""
    path = folder / DIAGNOSIS
    try:
        data = json.loads(read_text(path))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(path, None, f"not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a JSON object")
    return data

"""The four kinds of field record (SPEC.md, "Campaign records"), read strictly.

Each file is CSV with a header (UTF-8, a BOM and CRLF line ends accepted); its kind is told by its
header. A bad cell is an InputError naming the file, the row and the column (exit 3); household
rows never appear in a message beyond their kk_id.

- ``enrolments.csv``: ``kk_id,date,shift,device_id,residents``
- ``device_shifts.csv``: ``device_id,date,shift,status,reason``
- ``deliveries.csv``: ``date,kecamatan,count``
- ``invitations.csv``: ``kk_id,date,status``
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ektp_opt.errors import InputError
from ektp_opt.inputs.csvread import iter_rows, parse_int, read_text
from ektp_opt.plan.read import parse_date

KINDS: dict[str, tuple[str, ...]] = {
    "enrolments": ("kk_id", "date", "shift", "device_id", "residents"),
    "device_shifts": ("device_id", "date", "shift", "status", "reason"),
    "deliveries": ("date", "kecamatan", "count"),
    "invitations": ("kk_id", "date", "status"),
}
STATUS = {"device_shifts": ("up", "down"), "invitations": ("delivered", "returned")}


@dataclass
class RecordFile:
    """One file's rows, parsed (not yet checked against the campaign)."""

    path: Path
    kind: str
    sha256: str
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)  # (row number, typed row)


def kind_of(path: Path, text: str) -> str:
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    header = tuple(c.strip() for c in first.split(","))
    for kind, columns in KINDS.items():
        if header == columns:
            return kind
    known = "; ".join(",".join(c) for c in KINDS.values())
    raise InputError(path, "header", f"not a campaign record (expected one of: {known})")


def read_record(path: Path) -> RecordFile:
    text = read_text(path)
    kind = kind_of(path, text)
    out = RecordFile(path, kind, hashlib.sha256(text.encode("utf-8")).hexdigest())
    for row_no, row in iter_rows(path, KINDS[kind]):
        typed: dict[str, object] = {}
        for column, value in row.items():
            typed[column] = _cell(path, row_no, kind, column, value)
        out.rows.append((row_no, typed))
    return out


def _cell(path: Path, row_no: int, kind: str, column: str, value: str) -> object:
    if column == "date":
        return parse_date(path, row_no, column, value)
    if column == "shift":
        return parse_int(path, row_no, column, value, 1, 24)
    if column == "residents":
        return parse_int(path, row_no, column, value, 1, 10_000)
    if column == "count":
        return parse_int(path, row_no, column, value, 0, 100_000)
    if column == "status":
        allowed = STATUS[kind]
        if value not in allowed:
            raise InputError(path, f"row {row_no}, column status", f"{value!r} is not {' or '.join(allowed)}")
        return value
    if column in ("kk_id", "device_id", "kecamatan") and not value:
        raise InputError(path, f"row {row_no}, column {column}", "empty")
    return value


PREPARATION = dt.timedelta(days=90)  # letters go out and devices arrive before the first day


def date_in(path: Path, row_no: int, kind: str, day: object, start: dt.date, as_of: dt.date) -> None:
    """A recorded fact lies inside the campaign and not after ``as_of``; deliveries and letters
    may come up to ``PREPARATION`` before the first day. A campaign that runs past its deadline
    goes on being recorded (Medan 2011's ran four months late): the deadline is no limit here."""
    assert isinstance(day, dt.date)
    if kind in ("deliveries", "invitations"):
        start -= PREPARATION
    if day > as_of:
        raise InputError(path, f"row {row_no}, column date", f"{day} is after --as-of {as_of}: not yet happened")
    if day < start:
        raise InputError(path, f"row {row_no}, column date", f"{day} is before the campaign (from {start})")

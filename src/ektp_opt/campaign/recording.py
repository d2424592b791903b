"""``campaign record``: field records into the store, all files of one call in one transaction.

Every file is read and every row checked before anything is written; a bad row anywhere is exit
3 naming file, row and field, and nothing of the call is stored. A file whose content was
recorded before is stored once (its sha256 is in the audit trail): the call says so and goes on.
A row equal to a fact already recorded is not stored twice; one that contradicts it is exit 3.
Calls from two offices at once both land, one after the other (SQLite: one writer at a time;
PostgreSQL: an advisory lock held for the transaction).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, text

from ektp_opt.campaign import schema as t
from ektp_opt.campaign.records import RecordFile, date_in, read_record
from ektp_opt.campaign.start import default_user, insert_batches
from ektp_opt.campaign.store import _reachable, connect, is_sqlite, parse_url
from ektp_opt.errors import InputError

CHUNK = 5_000
LOCK = 0x454B5450  # "EKTP": the advisory lock that makes PostgreSQL record calls take turns


@dataclass(frozen=True)
class Recorded:
    path: str
    kind: str
    rows: int
    new_rows: int
    before: str | None  # when the same content was recorded already: when and by whom


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def _where(row_no: int, column: str) -> str:
    return f"row {row_no}, column {column}"


class _Campaign:
    """What the checks need from the store, read once per call (households only for the KK named)."""

    def __init__(self, conn: Connection, kk_ids: set[str]) -> None:
        c = conn.execute(select(t.campaign)).one()
        self.start, self.deadline = c.start, c.deadline
        self.shifts = dict(conn.execute(select(t.kecamatan.c.code, t.kecamatan.c.shifts)).all())
        self.device_kec = dict(
            conn.execute(select(t.plan_devices.c.device_id, t.plan_devices.c.kecamatan).distinct()).all()
        )
        self.members: dict[str, int] = {}
        ids = sorted(kk_ids)
        for part in _chunks(ids):
            q = select(t.households.c.kk_id, t.households.c.members).where(t.households.c.kk_id.in_(part))
            self.members.update(conn.execute(q).all())


def _existing(conn: Connection, table: Any, key: list[str], keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
    """Rows of ``table`` already stored under the given natural keys (looked up by their first column)."""
    out: dict[tuple[Any, ...], Any] = {}
    firsts = sorted({k[0] for k in keys})
    cols = [table.c[k] for k in key]
    for part in _chunks(firsts):
        for row in conn.execute(select(table).where(cols[0].in_(part))):
            out[tuple(getattr(row, k) for k in key)] = row
    return out


KEYS = {
    "enrolments": ["kk_id", "date", "shift", "device_id"],
    "device_shifts": ["device_id", "date", "shift"],
    "deliveries": ["date", "kecamatan"],
    "invitations": ["kk_id", "date"],
}
VALUES = {
    "enrolments": ["residents"],
    "device_shifts": ["status", "reason"],
    "deliveries": ["count"],
    "invitations": ["status"],
}
TABLES = {
    "enrolments": t.enrolments,
    "device_shifts": t.device_shifts,
    "deliveries": t.deliveries,
    "invitations": t.invitations,
}


def _check_rows(f: RecordFile, camp: _Campaign, as_of: dt.date) -> None:
    for row_no, row in f.rows:
        date_in(f.path, row_no, f.kind, row["date"], camp.start, as_of)
        if "kk_id" in row and row["kk_id"] not in camp.members:
            raise InputError(f.path, _where(row_no, "kk_id"), f"{row['kk_id']} is not a household of the campaign")
        if "device_id" in row:
            kec = camp.device_kec.get(str(row["device_id"]))
            if kec is None:
                raise InputError(
                    f.path,
                    _where(row_no, "device_id"),
                    f"{row['device_id']} is not a device of any plan of the campaign",
                )
            if int(row["shift"]) > camp.shifts[kec]:  # type: ignore[call-overload]
                raise InputError(
                    f.path,
                    _where(row_no, "shift"),
                    f"{row['shift']} is beyond the {camp.shifts[kec]} shifts of {kec}",
                )
        if f.kind == "deliveries" and row["kecamatan"] not in camp.shifts:
            raise InputError(
                f.path, _where(row_no, "kecamatan"), f"{row['kecamatan']} is not a kecamatan of the campaign"
            )


def record_files(paths: Sequence[Path], db: str, as_of: dt.date | None = None, by: str | None = None) -> list[Recorded]:
    """Record ``paths`` into the store at ``db`` in one transaction (see the module's docstring)."""
    url = parse_url(db)
    as_of = as_of or dt.date.today()
    who = by or default_user()
    files = [read_record(p) for p in paths]  # every cell parsed before the store is touched
    kk_ids = {str(r["kk_id"]) for f in files for _n, r in f.rows if "kk_id" in r}
    out: list[Recorded] = []
    with connect(url) as engine, _reachable(url), engine.begin() as conn:
        if not is_sqlite(url):
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
        camp = _Campaign(conn, kk_ids)
        seen_in_call: dict[str, Path] = {}
        for f in files:
            prior = conn.execute(select(t.imports).where(t.imports.c.sha256 == f.sha256)).first()
            if prior is not None or f.sha256 in seen_in_call:
                when = (
                    f"{prior.recorded_at:%Y-%m-%d %H:%M} by {prior.recorded_by} as {prior.file_name}"
                    if prior is not None
                    else f"in this call as {seen_in_call[f.sha256]}"
                )
                out.append(Recorded(str(f.path), f.kind, len(f.rows), 0, when))
                continue
            seen_in_call[f.sha256] = f.path
            _check_rows(f, camp, as_of)
            new = _new_facts(conn, f)
            if f.kind == "enrolments":
                _check_members(conn, f, camp, new)  # earlier files of this call are stored already
            key = conn.execute(
                t.imports.insert().values(
                    kind=f.kind,
                    file_name=str(f.path),
                    sha256=f.sha256,
                    rows=len(f.rows),
                    new_rows=len(new),
                    recorded_at=dt.datetime.now(dt.UTC),
                    recorded_by=who,
                    as_of=as_of,
                )
            ).inserted_primary_key
            assert key is not None
            import_id = key[0]
            insert_batches(conn, TABLES[f.kind], [{**r, "import_id": import_id} for _n, r in new])
            out.append(Recorded(str(f.path), f.kind, len(f.rows), len(new), None))
    return out


def _new_facts(conn: Connection, f: RecordFile) -> list[tuple[int, dict[str, object]]]:
    """The rows of ``f`` not yet stored; a row whose key is stored with other values is exit 3."""
    key, values, table = KEYS[f.kind], VALUES[f.kind], TABLES[f.kind]
    stored = _existing(conn, table, key, [tuple(r[k] for k in key) for _n, r in f.rows])
    mine: dict[tuple[Any, ...], int] = {}
    new = []
    for row_no, row in f.rows:
        k = tuple(row[c] for c in key)
        if k in mine:
            raise InputError(f.path, f"row {row_no}", f"the same {', '.join(key)} as row {mine[k]}")
        mine[k] = row_no
        old = stored.get(k)
        if old is None:
            new.append((row_no, row))
        elif any(getattr(old, v) != row[v] for v in values):
            raise InputError(
                f.path,
                f"row {row_no}, column {values[0]}",
                f"contradicts a fact recorded before (import {old.import_id})",
            )
    return new


def _check_members(conn: Connection, f: RecordFile, camp: _Campaign, new: list[tuple[int, dict[str, object]]]) -> None:
    """No KK enrolled beyond its members, over every record of the campaign."""
    ids = sorted({str(r["kk_id"]) for _n, r in new})
    done: dict[str, int] = {}
    for part in _chunks(ids):
        q = select(t.enrolments.c.kk_id, t.enrolments.c.residents).where(t.enrolments.c.kk_id.in_(part))
        for kk, n in conn.execute(q):
            done[kk] = done.get(kk, 0) + int(n)
    here: dict[str, int] = defaultdict(int)
    for row_no, row in new:
        kk = str(row["kk_id"])
        here[kk] += int(row["residents"])  # type: ignore[call-overload]
        total = done.get(kk, 0) + here[kk]
        if total > camp.members[kk]:
            raise InputError(
                f.path,
                f"row {row_no}, column residents",
                f"{kk} would have {total} residents enrolled, more than its {camp.members[kk]} members",
            )

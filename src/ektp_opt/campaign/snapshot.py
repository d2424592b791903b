"""The campaign as the store holds it on a day: the plan in force and what was recorded up to then,
as numpy arrays that ``status``, ``replan``, ``simulate-field`` and ``forecast`` read.

Each table is read with one query through the driver's own cursor (rows as plain tuples, dates as
the database gives them), so that Medan's 650 k households and their appointments load in a second
or two rather than row object by row object.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, func, select

from ektp_opt.campaign import arrays
from ektp_opt.campaign import schema as t
from ektp_opt.campaign.store import describe
from ektp_opt.errors import InputError

IntArray = npt.NDArray[np.int64]
DayArray = npt.NDArray[np.datetime64]
StrArray = npt.NDArray[np.str_]
NAT = np.datetime64("NaT", "D")


def days(values: list[Any]) -> DayArray:
    """Dates from the database (``date`` objects, ISO strings or None) as datetime64[D], NaT for none."""
    return np.array(values, dtype="datetime64[D]")  # ISO strings, dates and None (NaT) alike, at C speed


@dataclass(frozen=True)
class DeviceShifts:
    """Per device-shift facts: parallel arrays."""

    device: StrArray
    day: DayArray
    shift: IntArray
    value: npt.NDArray[Any]  # residents (served) or status (recorded)


@dataclass(frozen=True)
class Snapshot:
    as_of: dt.date
    name: str
    start: dt.date
    deadline: dt.date
    version: int  # the plan in force on as_of
    in_force_from: dt.date
    kecamatan: dict[str, int]  # code -> shifts per day
    # households, in kk_id order, and the plan in force aligned with them ("" / NaT / 0: none)
    kk: StrArray
    kelurahan: StrArray
    home: StrArray
    members: IntArray
    appt_day: DayArray
    appt_shift: IntArray
    appt_device: StrArray
    appt_site: StrArray
    devices: list[tuple[str, str, dt.date, dt.date]]  # (device, kecamatan, delivery, available_from)
    # records up to as_of
    enrolled: IntArray  # residents enrolled per KK
    first_enrolled: DayArray  # each KK's first enrolment day (NaT: none)
    last_enrolled: DayArray  # each KK's last enrolment day (NaT: none)
    served: DeviceShifts  # residents enrolled per device-shift
    enrolled_per_day: dict[dt.date, int]
    recorded: DeviceShifts  # device-shifts recorded up or down
    returned: npt.NDArray[np.bool_]  # the KK's latest letter came back
    lettered: npt.NDArray[np.bool_]  # the KK has a letter recorded (delivered or returned)
    invitations: int
    deliveries: list[tuple[dt.date, str, int]]
    down_reasons: list[tuple[str, str, int]]  # (device, reason, device-shifts down) up to as_of
    scenario_files: list[tuple[str, str, str]]  # (name, role, content)
    versions: list[dict[str, Any]]
    records: dict[str, int]  # rows per kind up to as_of
    # kelurahan, home and appt_site as (distinct values sorted, each household's position in them):
    # grouping 650 k households by a text column without sorting it again
    groups: arrays.Coded


def _raw(conn: Connection, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Rows as the driver's own tuples (no row objects: Medan's 650 k rows in about a second).
    Dates are asked for as text (CAST AS TEXT: ISO in SQLite and PostgreSQL alike), which numpy
    reads at C speed where a date object each costs a Python call."""
    import re

    names = re.findall(r":(\w+)", sql)
    style = "?" if conn.dialect.name == "sqlite" else "%s"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(re.sub(r":\w+", style, sql), [params[n] for n in names])
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _archive(conn: Connection, name: str) -> bytes:
    blob = conn.execute(select(t.arrays.c.content).where(t.arrays.c.name == name)).scalar()
    if blob is None:
        raise InputError(describe(conn.engine.url), None, f"the store has no {name} archive (was it made by hand?)")
    return bytes(blob)


def household_columns(conn: Connection, version: int) -> tuple[arrays.Columns, arrays.Columns, arrays.Coded]:
    """The households (kk, kelurahan, home, members) and the plan version's appointments aligned
    with them (day, shift, device, site), from the store's archives; their text columns coded."""
    coded: arrays.Coded = {}
    hh = arrays.unpack(_archive(conn, arrays.HOUSEHOLDS), coded)
    plan = arrays.unpack(_archive(conn, arrays.plan_name(version)), coded)
    return hh, plan, coded


def household_rows(conn: Connection, version: int) -> tuple[arrays.Columns, arrays.Columns]:
    """The same columns read from the rows themselves (the archives' source; a test compares them)."""
    rows = _raw(
        conn,
        "SELECT h.kk_id, h.kelurahan_code, h.kecamatan, h.members, a.date, a.shift, a.device_id, a.site_kecamatan "
        "FROM households h LEFT JOIN appointments a ON a.kk_id = h.kk_id AND a.version = :v",
        {"v": version},
    )
    rows.sort(key=lambda r: r[0])  # numpy's order (the database's collation may differ)
    cols = list(zip(*rows, strict=True)) if rows else [()] * 8
    hh = {
        "kk": np.array(cols[0], dtype=str),
        "kelurahan": np.array(cols[1], dtype=str),
        "home": np.array(cols[2], dtype=str),
        "members": np.array(cols[3], dtype=np.int64),
    }
    plan = {
        "day": days(list(cols[4])),
        "shift": np.array([s or 0 for s in cols[5]], dtype=np.int64),
        "device": np.array([d or "" for d in cols[6]], dtype=str),
        "site": np.array([s or "" for s in cols[7]], dtype=str),
    }
    return hh, plan


def load_snapshot(conn: Connection, as_of: dt.date) -> Snapshot:
    c = conn.execute(select(t.campaign)).one()
    version = conn.execute(
        select(func.max(t.plan_versions.c.version)).where(t.plan_versions.c.in_force_from <= as_of)
    ).scalar()
    version = 1 if version is None else int(version)
    v = conn.execute(select(t.plan_versions).where(t.plan_versions.c.version == version)).one()
    shifts = {str(code): int(n) for code, n in conn.execute(select(t.kecamatan.c.code, t.kecamatan.c.shifts)).all()}
    p = {"v": version, "d": as_of}
    hh, plan, coded = household_columns(conn, version)
    kk = hh["kk"]
    n = len(kk)
    devices = [
        (str(r.device_id), str(r.kecamatan), r.delivery_date, r.available_from)
        for r in conn.execute(select(t.plan_devices).where(t.plan_devices.c.version == version))
    ]
    per_kk = _raw(
        conn,
        "SELECT kk_id, SUM(residents), CAST(MIN(date) AS TEXT), CAST(MAX(date) AS TEXT) FROM enrolments "
        "WHERE date <= :d GROUP BY kk_id",
        p,
    )
    enrolled = np.zeros(n, dtype=np.int64)
    first = np.full(n, NAT, dtype="datetime64[D]")
    last = np.full(n, NAT, dtype="datetime64[D]")
    if per_kk:
        ids = np.array([r[0] for r in per_kk], dtype=str)
        pos = np.searchsorted(kk, ids)
        enrolled[pos] = [int(r[1]) for r in per_kk]
        first[pos] = days([r[2] for r in per_kk])
        last[pos] = days([r[3] for r in per_kk])
    served_rows = _raw(
        conn,
        "SELECT device_id, CAST(date AS TEXT), shift, SUM(residents) FROM enrolments WHERE date <= :d "
        "GROUP BY device_id, date, shift",
        p,
    )
    recorded_rows = _raw(
        conn, "SELECT device_id, CAST(date AS TEXT), shift, status FROM device_shifts WHERE date <= :d", p
    )
    per_day: dict[dt.date, int] = {}
    for _dev, day, _s, m in served_rows:
        d = dt.date.fromisoformat(day) if isinstance(day, str) else day
        per_day[d] = per_day.get(d, 0) + int(m)
    letters = _raw(conn, "SELECT kk_id, CAST(date AS TEXT), status FROM invitations WHERE date <= :d", p)
    latest: dict[str, tuple[str, str]] = {}
    for k, day, status in letters:
        key = str(day)
        if k not in latest or key >= latest[k][0]:
            latest[k] = (key, status)
    returned = np.zeros(n, dtype=bool)
    lettered = np.zeros(n, dtype=bool)
    if latest:
        lettered[np.searchsorted(kk, np.array(list(latest), dtype=str))] = True
    gone = np.array([k for k, (_d, s) in latest.items() if s == "returned"], dtype=str)
    if len(gone):
        returned[np.searchsorted(kk, gone)] = True
    dlv = [
        (r[0] if isinstance(r[0], dt.date) else dt.date.fromisoformat(r[0]), str(r[1]), int(r[2]))
        for r in _raw(conn, 'SELECT date, kecamatan, "count" FROM deliveries WHERE date <= :d', p)
    ]
    down_reasons = [
        (str(r[0]), str(r[1]), int(r[2]))
        for r in _raw(
            conn,
            "SELECT device_id, reason, COUNT(*) FROM device_shifts WHERE status = 'down' AND date <= :d "
            "GROUP BY device_id, reason",
            p,
        )
    ]
    files = [(str(r.name), str(r.role), str(r.content)) for r in conn.execute(select(t.scenario_files))]
    versions = [
        {
            "version": r.version,
            "in_force_from": r.in_force_from,
            "made_at": r.made_at,
            "made_by": r.made_by,
            "source": r.source,
            "folder": r.folder,
            "summary": r.summary,
        }
        for r in conn.execute(select(t.plan_versions).order_by(t.plan_versions.c.version))
    ]
    return Snapshot(
        as_of=as_of,
        name=str(c.name),
        start=c.start,
        deadline=c.deadline,
        version=version,
        in_force_from=v.in_force_from,
        kecamatan=shifts,
        kk=kk,
        kelurahan=hh["kelurahan"],
        home=hh["home"],
        members=hh["members"],
        appt_day=plan["day"],
        appt_shift=plan["shift"],
        appt_device=plan["device"],
        appt_site=plan["site"],
        devices=devices,
        enrolled=enrolled,
        first_enrolled=first,
        last_enrolled=last,
        served=_device_shifts(served_rows, np.int64),
        enrolled_per_day=per_day,
        recorded=_device_shifts(recorded_rows, str),
        returned=returned,
        lettered=lettered,
        invitations=len(letters),
        deliveries=dlv,
        down_reasons=down_reasons,
        scenario_files=files,
        versions=versions,
        records={
            "enrolled_residents": sum(per_day.values()),
            "device_shifts": len(recorded_rows),
            "invitations": len(letters),
            "deliveries": len(dlv),
        },
        groups={"kelurahan": coded["kelurahan"], "home": coded["home"], "site": coded["site"]},
    )


def _device_shifts(rows: list[tuple[Any, ...]], kind: Any) -> DeviceShifts:
    return DeviceShifts(
        device=np.array([r[0] for r in rows], dtype=str),
        day=days([r[1] for r in rows]),
        shift=np.array([int(r[2]) for r in rows], dtype=np.int64),
        value=np.array([r[3] for r in rows], dtype=kind),
    )


def read_snapshot(db: str, as_of: dt.date) -> Snapshot:
    """The store at ``db`` on ``as_of`` (a store that cannot be used is exit 3, naming it)."""
    from ektp_opt.campaign.store import _reachable, connect, parse_url

    url = parse_url(db)
    with connect(url) as engine, _reachable(url), engine.connect() as conn:
        return load_snapshot(conn, as_of)

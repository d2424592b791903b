"""Starting a campaign from a verified plan: the store's first plan version.

The store keeps the scenario's own files (so that a re-plan can lay them out again without the
folder they came from), every household (kk_id, kelurahan, members), the kecamatan with their
shifts, and the plan (its appointments and devices) as version 1, in force from the campaign's
start.
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, insert

from ektp_opt.campaign import schema as t
from ektp_opt.campaign.arrays import HOUSEHOLDS, households_archive, plan_archive, plan_name
from ektp_opt.campaign.store import create, describe, parse_url
from ektp_opt.errors import InputError
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario

BATCH = 50_000


@dataclass(frozen=True)
class Started:
    store: str  # as messages name it (no credentials)
    households: int
    residents: int
    appointments: int
    devices: int


def default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def scenario_files(ls: LoadedScenario) -> list[dict[str, str]]:
    """The scenario's TOML and the files it names, by the names it uses for them."""
    sc = ls.scenario
    files = [
        {"name": ls.path.name, "role": "scenario", "content": ls.path.read_text(encoding="utf-8")},
        {"name": str(sc.kecamatan), "role": "kecamatan", "content": (ls.path.parent / sc.kecamatan).read_text("utf-8")},
        {"name": str(sc.kelurahan), "role": "kelurahan", "content": (ls.path.parent / sc.kelurahan).read_text("utf-8")},
    ]
    hh = ls.households_path
    if hh is not None:
        files.append(
            {
                "name": hh.name if hh.parent == ls.path.parent else str(hh),
                "role": "households",
                "content": hh.read_text(encoding="utf-8"),
            }
        )
    return files


def insert_batches(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Rows into ``table`` inside the caller's transaction: PostgreSQL's COPY (one stream, not one
    statement per row: Medan's 185 k records in seconds), elsewhere executemany in batches."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        finally:
            cursor.close()
        return
    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[i : i + BATCH])


def plan_rows(
    plan_dir: Path, version: int, households_kk: npt.NDArray[np.str_]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """A plan folder's appointments and devices as rows of the store, and the row of ``arrays``
    holding its appointments aligned with ``households_kk`` (the households in kk_id order)."""
    from ektp_opt.plan.files import APPOINTMENTS, DEVICES
    from ektp_opt.plan.read import read_appointments, read_devices

    appt = read_appointments(plan_dir / APPOINTMENTS)
    dates = appt.date.astype("datetime64[D]").astype(object).tolist()
    rows = [
        {
            "version": version,
            "kk_id": k,
            "date": d,
            "shift": int(s),
            "device_id": dev,
            "site_kecamatan": site,
            "members": int(m),
        }
        for k, d, s, dev, site, m in zip(
            appt.kk_ids,
            dates,
            appt.shift.tolist(),
            appt.device.tolist(),
            appt.site.tolist(),
            appt.members.tolist(),
            strict=True,
        )
    ]
    devices = [
        {"version": version, "device_id": d, "kecamatan": k, "delivery_date": deliv, "available_from": avail}
        for d, k, deliv, avail in read_devices(plan_dir / DEVICES)
    ]
    archive = plan_archive(
        households_kk, list(appt.kk_ids), appt.date, appt.shift.tolist(), appt.device.tolist(), appt.site.tolist()
    )
    return rows, devices, {"name": plan_name(version), "content": archive}


SCENARIO_TOML = "scenario.toml"  # in plan_files: the scenario text a version was planned for


def folder_files(plan_dir: Path, version: int, scenario_text: str) -> list[dict[str, Any]]:
    """A plan folder's files (the marker aside) and its scenario's text, as rows of plan_files."""
    rows = [{"version": version, "name": SCENARIO_TOML, "content": scenario_text}]
    for path in sorted(plan_dir.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            rows.append({"version": version, "name": path.name, "content": path.read_text(encoding="utf-8")})
    return rows


def start_campaign(
    plan_dir: Path, ls: LoadedScenario, households: Households, db: str, by: str | None = None
) -> Started:
    """Create the store at ``db`` holding the campaign of the verified plan in ``plan_dir``."""
    from ektp_opt.plan.files import SUMMARY

    url = parse_url(db)
    sc = ls.scenario
    who = by or default_user()
    now = dt.datetime.now(dt.UTC)
    kel_kec = {k.code: k.kecamatan_code for k in ls.admin.kelurahan}
    kel_codes = [k.code for k in ls.admin.kelurahan]
    hh_rows = [
        {"kk_id": k, "kelurahan_code": kel_codes[kel], "kecamatan": kel_kec[kel_codes[kel]], "members": int(m)}
        for k, kel, m in zip(
            households.kk_id.tolist(), households.kelurahan.tolist(), households.members.tolist(), strict=True
        )
    ]
    hh_archive = households_archive(
        [r["kk_id"] for r in hh_rows],
        [r["kelurahan_code"] for r in hh_rows],
        [r["kecamatan"] for r in hh_rows],
        [r["members"] for r in hh_rows],
    )
    appts, devices, plan_arrays = plan_rows(plan_dir, 1, np.sort(households.kk_id.astype(str)))
    summary = (plan_dir / SUMMARY).read_text(encoding="utf-8")
    if not appts:
        raise InputError(plan_dir, None, "the plan has no appointments to run a campaign on")

    def fill(conn: Connection) -> None:
        conn.execute(
            insert(t.campaign).values(
                id=1,
                name=sc.name,
                city=sc.city,
                start=sc.start,
                deadline=sc.deadline,
                scenario_sha256=ls.sha256,
                households_sha256=households.sha256,
                created_at=now,
                created_by=who,
            )
        )
        conn.execute(insert(t.scenario_files), scenario_files(ls))
        conn.execute(
            insert(t.kecamatan),
            [{"code": k.code, "name": k.name, "shifts": sc.shifts_for(k.code)} for k in ls.admin.kecamatan],
        )
        insert_batches(conn, t.households, hh_rows)
        conn.execute(
            insert(t.plan_versions).values(
                version=1,
                in_force_from=sc.start,
                made_at=now,
                made_by=who,
                source="init",
                folder=str(plan_dir.resolve()),
                summary=summary,
            )
        )
        conn.execute(insert(t.plan_files), folder_files(plan_dir, 1, ls.path.read_text(encoding="utf-8")))
        insert_batches(conn, t.plan_devices, devices)
        insert_batches(conn, t.appointments, appts)
        conn.execute(insert(t.arrays), [{"name": HOUSEHOLDS, "content": hh_archive}, plan_arrays])

    create(url, fill)
    return Started(describe(url), len(hh_rows), int(households.members.sum()), len(appts), len(devices))

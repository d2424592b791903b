"""The campaign as the store holds it on a day: the plan in force and what was recorded up to then,
as arrays that ``status``, ``replan`` and ``forecast`` read (one query per table)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, func, select

from ektp_opt.campaign import schema as t

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Snapshot:
    as_of: dt.date
    name: str
    start: dt.date
    deadline: dt.date
    version: int  # the plan in force on as_of
    in_force_from: dt.date
    kecamatan: dict[str, int]  # code -> shifts per day
    # households, in kk_id order
    kk: list[str]
    kelurahan: list[str]
    home: list[str]
    members: IntArray
    # the plan in force, aligned with ``kk`` (-1 / "" where a KK has no office appointment)
    appt_date: list[dt.date | None]
    appt_shift: IntArray
    appt_device: list[str]
    appt_site: list[str]
    devices: list[tuple[str, str, dt.date, dt.date]]  # (device, kecamatan, delivery, available_from)
    # records up to as_of
    enrolments: list[tuple[str, dt.date, int, str, int]]
    device_shifts: list[tuple[str, dt.date, int, str, str]]
    invitations: list[tuple[str, dt.date, str]]
    deliveries: list[tuple[dt.date, str, int]]
    scenario_files: list[tuple[str, str, str]]  # (name, role, content)
    versions: list[dict[str, Any]]

    def enrolled(self) -> IntArray:
        """Residents enrolled per KK (aligned with ``kk``)."""
        pos = {k: i for i, k in enumerate(self.kk)}
        out = np.zeros(len(self.kk), dtype=np.int64)
        for k, _d, _s, _dev, n in self.enrolments:
            out[pos[k]] += n
        return out

    def returned(self) -> set[str]:
        """KK whose latest invitation letter came back."""
        last: dict[str, tuple[dt.date, str]] = {}
        for k, d, s in self.invitations:
            if k not in last or d >= last[k][0]:
                last[k] = (d, s)
        return {k for k, (_d, s) in last.items() if s == "returned"}


def load_snapshot(conn: Connection, as_of: dt.date) -> Snapshot:
    c = conn.execute(select(t.campaign)).one()
    version = conn.execute(
        select(func.max(t.plan_versions.c.version)).where(t.plan_versions.c.in_force_from <= as_of)
    ).scalar()
    if version is None:
        version = 1
    v = conn.execute(select(t.plan_versions).where(t.plan_versions.c.version == version)).one()
    shifts = dict(conn.execute(select(t.kecamatan.c.code, t.kecamatan.c.shifts)).all())
    hh = conn.execute(select(t.households).order_by(t.households.c.kk_id)).all()
    kk = [r.kk_id for r in hh]
    pos = {k: i for i, k in enumerate(kk)}
    n = len(kk)
    date: list[dt.date | None] = [None] * n
    shift = np.zeros(n, dtype=np.int64)
    device = [""] * n
    site = [""] * n
    for r in conn.execute(select(t.appointments).where(t.appointments.c.version == version)):
        i = pos[r.kk_id]
        date[i], shift[i], device[i], site[i] = r.date, r.shift, r.device_id, r.site_kecamatan
    devices = [
        (r.device_id, r.kecamatan, r.delivery_date, r.available_from)
        for r in conn.execute(select(t.plan_devices).where(t.plan_devices.c.version == version))
    ]
    enr = [
        (r.kk_id, r.date, r.shift, r.device_id, r.residents)
        for r in conn.execute(select(t.enrolments).where(t.enrolments.c.date <= as_of))
    ]
    ds = [
        (r.device_id, r.date, r.shift, r.status, r.reason)
        for r in conn.execute(select(t.device_shifts).where(t.device_shifts.c.date <= as_of))
    ]
    inv = [
        (r.kk_id, r.date, r.status) for r in conn.execute(select(t.invitations).where(t.invitations.c.date <= as_of))
    ]
    dlv = [
        (r.date, r.kecamatan, int(r._mapping["count"]))
        for r in conn.execute(select(t.deliveries).where(t.deliveries.c.date <= as_of))
    ]
    files = [(r.name, r.role, r.content) for r in conn.execute(select(t.scenario_files))]
    versions = [
        {
            "version": r.version,
            "in_force_from": r.in_force_from,
            "made_at": r.made_at,
            "made_by": r.made_by,
            "source": r.source,
            "folder": r.folder,
        }
        for r in conn.execute(select(t.plan_versions).order_by(t.plan_versions.c.version))
    ]
    return Snapshot(
        as_of=as_of,
        name=c.name,
        start=c.start,
        deadline=c.deadline,
        version=version,
        in_force_from=v.in_force_from,
        kecamatan=shifts,
        kk=kk,
        kelurahan=[r.kelurahan_code for r in hh],
        home=[r.kecamatan for r in hh],
        members=np.array([r.members for r in hh], dtype=np.int64),
        appt_date=date,
        appt_shift=shift,
        appt_device=device,
        appt_site=site,
        devices=devices,
        enrolments=enr,
        device_shifts=ds,
        invitations=inv,
        deliveries=dlv,
        scenario_files=files,
        versions=versions,
    )

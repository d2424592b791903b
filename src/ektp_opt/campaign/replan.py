"""``campaign replan``: the next plan version, from the records, through the existing re-planner.

What it changes, and nothing else (the rules, the notice window, ``--max-delay`` and the verifier
are the re-planner's own):

- **Who is done**: a KK whose residents are all enrolled attended; a KK booked before as-of that is
  not (a no-show, partly enrolled, or its letter came back) missed its slot and goes to the back of
  the queue, as ``resolve --attendance`` does: backlog seats, then free seats, then catch-up days.
- **The pace**: from as-of on, the regular seats of a device-day are the residents a device really
  enrols in a day when up, times the share of device-shifts up, each taken at the pessimistic
  ``confidence`` quantile of its interval (normal approximation from the 90 % interval), with the
  backlog reserve on top; never above the nominal ``capacity_per_day``. When at least one filled
  device-shift in ten enrolled all its regular seats, the devices keep up and the nominal capacity
  stays: a pace measured then is how many families came, which the no-shows already account for. The days before as-of
  keep the capacity they were planned with (``device.earlier``, SPEC.md). The city's figures are
  used (per-kecamatan pace is measured and reported by ``status``, but the scenario has one
  capacity).
- **The devices**: deliveries recorded replace the scenario's for that date and kecamatan (a
  ``per_kecamatan`` wave is written out per kecamatan; a recorded count on a pool's date comes out
  of that pool).

The plan in force and its scenario are laid out from the store exactly as they were written; the
new plan is verified, written to ``out`` with a ``campaign`` section in summary.json (the records
and the calibration), and stored as the next version, in force from as-of.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, func, insert, select

from ektp_opt.campaign import schema as t
from ektp_opt.campaign.measure import Z90, Estimate, devices_keep_up
from ektp_opt.campaign.scenario import laid_out
from ektp_opt.campaign.snapshot import Snapshot, load_snapshot
from ektp_opt.campaign.start import SCENARIO_TOML, default_user, folder_files, insert_batches, plan_rows
from ektp_opt.campaign.status import campaign_status
from ektp_opt.campaign.store import _reachable, connect, parse_url
from ektp_opt.inputs.scenario import LoadedScenario, load_scenario


@dataclass(frozen=True)
class Calibration:
    confidence: float
    residents_per_device_day: float
    up_share: float
    capacity_per_day: int
    nominal_capacity_per_day: int
    raised_to_seat_the_largest_family: int | None = None
    devices_keep_up: bool = False  # filled device-shifts served whole often enough: nominal pace kept

    def json(self) -> dict[str, Any]:
        return {
            "devices_keep_up": self.devices_keep_up,
            "raised_to_seat_the_largest_family": self.raised_to_seat_the_largest_family,
            "confidence": self.confidence,
            "residents_per_device_day": round(self.residents_per_device_day, 2),
            "up_share": round(self.up_share, 4),
            "capacity_per_day": self.capacity_per_day,
            "nominal_capacity_per_day": self.nominal_capacity_per_day,
        }


def pessimistic(est: Estimate, confidence: float, low_is_bad: bool) -> float | None:
    """The estimate moved to the ``confidence`` quantile on the bad side (None: nothing observed)."""
    if est.observations == 0 or math.isnan(est.estimate):
        return None
    se = (est.high - est.low) / (2 * Z90)
    z = NormalDist().inv_cdf(confidence)
    return est.estimate - z * se if low_is_bad else est.estimate + z * se


def calibrate(city: dict[str, Estimate], nominal: int, reserve_per_day: int, confidence: float) -> Calibration:
    """The capacity a device-day is planned with from as-of on. The measured pace counts everyone
    a device enrolled, the backlog's walk-ins included, while the plan books only its regular seats
    (capacity less the backlog reserve): so the regular seats are set to the pace at which devices
    really enrol, and the reserve stays on top, for the families who come back."""
    pace = pessimistic(city["residents_per_device_day"], confidence, low_is_bad=True)
    down = pessimistic(city["down_share"], confidence, low_is_bad=False)
    keep_up = devices_keep_up(city["filled_shifts_served_whole"])
    if keep_up:
        pace = None  # the devices enrol every booked seat often enough: the families, not the devices, are short
    pace = nominal if pace is None else min(float(nominal), max(pace, 0.0))
    up = 1.0 if down is None else min(1.0, max(0.0, 1.0 - down))
    capacity = max(1, min(nominal, math.floor(pace * up) + reserve_per_day))
    return Calibration(confidence, pace, up, capacity, nominal, devices_keep_up=keep_up)


def _seat_the_largest(ls: LoadedScenario, cal: Calibration, largest: int) -> Calibration:
    """Every family must still fit one device-shift (SPEC.md rule 1): where the measured pace
    leaves fewer regular seats than the largest family, the capacity is raised just enough (a
    slow device takes longer over a big family; the plan cannot split it). Said in the summary."""
    sc = ls.scenario
    shifts = max(sc.shifts_for(k.code) for k in ls.admin.kecamatan)
    floor = (largest + sc.backlog.reserve_per_shift) * shifts
    if cal.capacity_per_day >= floor:
        return cal
    return dataclasses.replace(
        cal, capacity_per_day=min(cal.nominal_capacity_per_day, floor), raised_to_seat_the_largest_family=floor
    )


def _toml_date(d: dt.date) -> str:
    return d.isoformat()


def measured_scenario(text: str, ls: LoadedScenario, cal: Calibration, as_of: dt.date, snap: Snapshot) -> str:
    """The scenario's TOML with the measured capacity from as-of on and the recorded deliveries."""
    device = ls.scenario.device
    earlier = [(e.until, e.capacity_per_day) for e in device.earlier if e.until < as_of - dt.timedelta(days=1)]
    if cal.capacity_per_day != device.capacity_per_day or earlier:
        earlier.append((as_of - dt.timedelta(days=1), device.capacity_on(as_of - dt.timedelta(days=1))))
    inline = ", ".join(f"{{until = {_toml_date(u)}, capacity_per_day = {c}}}" for u, c in earlier)
    lines = text.splitlines()
    out: list[str] = []
    section = ""
    for line in lines:
        head = re.match(r"^\s*\[\[?\s*([A-Za-z_.]+)\s*\]\]?", line)
        if head:
            section = head.group(1)
        if section == "device" and re.match(r"^\s*earlier\s*=", line):
            continue
        if section == "device" and re.match(r"^\s*capacity_per_day\s*=", line):
            out.append(f"capacity_per_day = {cal.capacity_per_day}")
            if earlier:
                out.append(f"earlier = [{inline}]")
            continue
        out.append(line)
    if snap.deliveries:
        out = _without_deliveries(out)
        out += _deliveries_toml(ls, snap.deliveries)
    return "\n".join(out) + "\n"


def _without_deliveries(lines: list[str]) -> list[str]:
    out, skipping = [], False
    for line in lines:
        if re.match(r"^\s*\[\[\s*deliveries\s*\]\]", line):
            skipping = True
            continue
        if skipping and re.match(r"^\s*\[", line):
            skipping = False
        if not skipping:
            out.append(line)
    return out


def _deliveries_toml(ls: LoadedScenario, recorded: list[tuple[dt.date, str, int]]) -> list[str]:
    codes = [k.code for k in ls.admin.kecamatan]
    fixed: dict[tuple[dt.date, str], int] = {}
    pools: dict[dt.date, int] = {}
    for d in ls.scenario.deliveries:
        if d.per_kecamatan is not None:
            for c in codes:
                fixed[(d.date, c)] = fixed.get((d.date, c), 0) + d.per_kecamatan
        elif d.kecamatan is not None and d.count is not None:
            fixed[(d.date, d.kecamatan)] = fixed.get((d.date, d.kecamatan), 0) + d.count
        elif d.pool is not None:
            pools[d.date] = pools.get(d.date, 0) + d.pool
    for date, kec, count in recorded:
        if (date, kec) not in fixed and date in pools:
            pools[date] = max(0, pools[date] - count)
        fixed[(date, kec)] = count
    lines = ["", "# deliveries as recorded in the campaign store, the scenario's elsewhere"]
    for (date, kec), count in sorted(fixed.items()):
        if count:
            lines += ["[[deliveries]]", f"date = {_toml_date(date)}", f'kecamatan = "{kec}"', f"count = {count}", ""]
    for date, count in sorted(pools.items()):
        if count:
            lines += ["[[deliveries]]", f"date = {_toml_date(date)}", f"pool = {count}", ""]
    return lines


def _lay_out_plan(conn: Connection, version: int, root: Path) -> tuple[Path, str]:
    """The plan version's folder as written, and its scenario's text."""
    folder = root / f"plan-v{version}"
    folder.mkdir()
    scenario_text = ""
    for name, content in conn.execute(
        select(t.plan_files.c.name, t.plan_files.c.content).where(t.plan_files.c.version == version)
    ):
        if name == SCENARIO_TOML:
            scenario_text = content
        else:
            (folder / name).write_text(content, encoding="utf-8")
    return folder, scenario_text


@dataclass(frozen=True)
class CampaignReplan:
    version: int
    summary: Any
    calibration: Calibration
    missed: int
    seconds: dict[str, float]


def replan_from_records(
    db: str,
    as_of: dt.date,
    out: Path,
    confidence: float = 0.8,
    notice_days: int = 3,
    max_delay: int | None = None,
    options: Any = None,
    reporter: Any = None,
    by: str | None = None,
) -> CampaignReplan:
    import time

    from ektp_opt.api import replan_city, write_replan
    from ektp_opt.progress import Reporter

    reporter = reporter or Reporter()
    url = parse_url(db)
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    with connect(url) as engine, _reachable(url), tempfile.TemporaryDirectory(prefix="ektp-replan-") as tmp:
        root = Path(tmp)
        with reporter.stage("read the store"), engine.connect() as conn:
            snap = load_snapshot(conn, as_of)
            old_plan, old_text = _lay_out_plan(conn, snap.version, root)
            imports = conn.execute(
                select(func.count(), func.max(t.imports.c.id)).where(t.imports.c.as_of <= as_of)
            ).one()
        seconds["read the store"] = time.perf_counter() - began
        with laid_out(snap.scenario_files) as toml:
            if old_text:
                toml.write_text(old_text, encoding="utf-8")
            ls_old = load_scenario(toml)
            status = campaign_status(snap, ls_old.scenario)
            sc_old = ls_old.scenario
            reserve = sc_old.backlog.reserve_per_shift * sc_old.shifts_per_day
            cal = calibrate(status.field.city, sc_old.device.capacity_per_day, reserve, confidence)
            cal = _seat_the_largest(ls_old, cal, int(snap.members.max()))
            new_text = measured_scenario(old_text or toml.read_text("utf-8"), ls_old, cal, as_of, snap)
            measured = root / "scenario" / toml.name
            measured.parent.mkdir()
            for p in toml.parent.iterdir():
                if p.is_file() and p != toml:
                    (measured.parent / p.name).write_bytes(p.read_bytes())
            measured.write_text(new_text, encoding="utf-8")
            ls = load_scenario(measured)
        # who attended: booked before as-of and wholly enrolled (a returned letter and no enrolment: missed)
        booked = ~np.isnat(snap.appt_day) & (snap.appt_day < np.datetime64(as_of))
        came = snap.enrolled >= snap.members
        missed = int((booked & ~came).sum())
        sheet = root / "attendance.csv"
        sheet.write_text(
            "kk_id,attended\n"
            + "".join(f"{k},{int(c)}\n" for k, c in zip(snap.kk[booked].tolist(), came[booked].tolist(), strict=True)),
            encoding="utf-8",
        )
        t0 = time.perf_counter()
        replanned = replan_city(old_plan, ls, as_of, notice_days, sheet, options, reporter, max_delay)
        seconds["re-plan"] = time.perf_counter() - t0
        record = {
            "store_version": snap.version + 1,
            "replaces_version": snap.version,
            "as_of": as_of.isoformat(),
            "records": {"imports": int(imports[0]), "last_import_id": imports[1], **snap.records},
            "calibration": cal.json(),
            "missed_kk": missed,
        }
        t0 = time.perf_counter()
        with reporter.stage("write and verify"):
            files = {p.name: p.read_bytes() for p in measured.parent.iterdir() if p.is_file()}
            summary = write_replan(replanned, out, record, files)
        seconds["write and verify"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        with reporter.stage("store the version"):
            _store_version(engine, out, snap.version + 1, as_of, new_text, by or default_user(), snap.kk)
        seconds["store the version"] = time.perf_counter() - t0
    return CampaignReplan(snap.version + 1, summary, cal, missed, seconds)


def _store_version(
    engine: Any,
    plan_dir: Path,
    version: int,
    as_of: dt.date,
    scenario_text: str,
    who: str,
    households_kk: npt.NDArray[np.str_],
) -> None:
    """The new version's rows and archive; ``households_kk``: the store's households in archive order
    (the snapshot's, read already: households never change)."""
    from ektp_opt.plan.files import SUMMARY

    appts, devices, plan_arrays = plan_rows(plan_dir, version, households_kk)  # before the write lock
    with engine.begin() as conn:
        if conn.execute(select(func.max(t.plan_versions.c.version))).scalar_one() >= version:
            from ektp_opt.errors import InputError

            raise InputError(plan_dir, None, "another re-plan was stored meanwhile; re-plan again from it")
        conn.execute(
            insert(t.plan_versions).values(
                version=version,
                in_force_from=as_of,
                made_at=dt.datetime.now(dt.UTC),
                made_by=who,
                source="replan",
                folder=str(plan_dir.resolve()),
                summary=(plan_dir / SUMMARY).read_text(encoding="utf-8"),
            )
        )
        conn.execute(insert(t.plan_files), folder_files(plan_dir, version, scenario_text))
        insert_batches(conn, t.plan_devices, devices)
        insert_batches(conn, t.appointments, appts)
        conn.execute(insert(t.arrays), [plan_arrays])

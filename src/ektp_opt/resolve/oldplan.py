"""The plan in force and where a re-plan starts: reading it back (``read_old``), the notice
window and what is past (``window_of``), who attended, and the checks that the changed scenario
does not contradict what already happened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ektp_opt.errors import InputError
from ektp_opt.inputs.calendar import index_on_or_after
from ektp_opt.inputs.csvread import iter_rows
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.plan.files import APPOINTMENTS, DEVICES, HOME_VISITS
from ektp_opt.plan.read import read_appointments, read_devices, read_home_visits
from ektp_opt.problem import ProblemData
from ektp_opt.resolve.records import IntArray
from ektp_opt.solver.assign import Device


def read_attendance(path: Path, households: Households) -> dict[int, bool]:
    """``kk_id,attended`` with attended 1/0 (or yes/no, true/false)."""
    index = {k: i for i, k in enumerate(households.kk_id.tolist())}
    truth = {"1": True, "yes": True, "true": True, "0": False, "no": False, "false": False}
    out: dict[int, bool] = {}
    for row_no, row in iter_rows(path, ["kk_id", "attended"]):
        kk = index.get(row["kk_id"])
        if kk is None:
            raise InputError(path, f"row {row_no}, column kk_id", f"{row['kk_id']} is not in the population")
        value = truth.get(row["attended"].lower())
        if value is None:
            raise InputError(path, f"row {row_no}, column attended", f"{row['attended']!r} is not 1/0 or yes/no")
        if kk in out:
            raise InputError(path, f"row {row_no}, column kk_id", f"{row['kk_id']} is listed twice")
        out[kk] = value
    return out


@dataclass
class OldPlan:
    day: IntArray  # index into the new regular days, -1 when not bookable any more
    date: list[dt.date]
    shift: IntArray
    device: list[str]
    site: IntArray
    devices: dict[str, tuple[int, dt.date, dt.date]]  # id -> kecamatan, delivery, available_from
    visited: npt.NDArray[np.bool_]  # KK visited at home (no office seat); updated to the new plan's
    visit_days: list[tuple[str, dt.date]]  # (device, date) of the plan's mobile days
    visit_rows: list[tuple[int, dt.date | None, str]] = field(default_factory=list)  # home_visits.csv of the old plan
    why: dict[int, str] = field(default_factory=dict)  # KK that need an office seat for a reason of their own


def check_old_plan(plan_dir: Path) -> None:
    """The plan in force must keep every hard rule for the scenario it was made for, or a re-plan
    that keeps its past appointments would inherit the breakage and blame itself (exit 5). A
    broken old plan is an input error naming it (exit 3). Skipped, with nothing claimed, when the
    scenario named in its summary.json is no longer there."""
    from ektp_opt.inputs.population import load_population
    from ektp_opt.inputs.scenario import load_scenario
    from ektp_opt.plan.read import check_plan_dir, scenario_of
    from ektp_opt.verify import verify_plan

    check_plan_dir(plan_dir)
    try:
        old_scenario = scenario_of(plan_dir, None)
    except InputError:
        raise InputError(plan_dir, None, "not a plan folder (no summary.json naming its scenario)") from None
    if not old_scenario.is_file():
        return
    ls_old = load_scenario(old_scenario)
    report = verify_plan(plan_dir, ls_old, load_population(ls_old))
    if not report.ok:
        names = ", ".join(v.rule for v in report.violations[:3])
        raise InputError(plan_dir, None, f"the plan to re-plan breaks hard rules ({names}); see `ektp-opt verify`")


def read_old(plan_dir: Path, data: ProblemData, households: Households) -> OldPlan:
    path = plan_dir / APPOINTMENTS
    appt = read_appointments(path)
    index = {k: i for i, k in enumerate(households.kk_id.tolist())}
    kec = {c: i for i, c in enumerate(data.kecamatan_codes)}
    rows = np.array([index.get(k, -1) for k in appt.kk_id.tolist()], dtype=np.int64)
    if (rows < 0).any():
        i = int(np.flatnonzero(rows < 0)[0])
        raise InputError(path, f"row {i + 2}, column kk_id", f"{appt.kk_id[i]} is not in the scenario's population")
    n = len(households)
    visited = np.zeros(n, dtype=bool)
    visit_days: list[tuple[str, dt.date]] = []
    visit_rows: list[tuple[int, dt.date | None, str]] = []
    hv_path = plan_dir / HOME_VISITS
    for row_no, visit in enumerate(read_home_visits(hv_path), 2):
        hh = index.get(visit.kk_id)
        if hh is None:
            raise InputError(hv_path, f"row {row_no}, column kk_id", f"{visit.kk_id} is not in the population")
        visited[hh] = True
        visit_rows.append((hh, visit.date, visit.device_id))
        if visit.date is not None:
            visit_days.append((visit.device_id, visit.date))
    if len(rows) + int(visited.sum()) != n or len(np.unique(rows)) != len(rows) or visited[rows].any():
        raise InputError(path, None, "with home_visits.csv, must list every KK of the population exactly once")
    dates: list[dt.date] = [dt.date.min] * n
    for r, d in zip(rows.tolist(), appt.date.astype(object).tolist(), strict=True):
        dates[r] = d
    day_of = {d: i for i, d in enumerate(data.days[: data.regular_days])}
    day = np.array([day_of.get(d, -1) for d in dates], dtype=np.int64)
    shift = np.zeros(n, dtype=np.int64)
    shift[rows] = appt.shift
    device = [""] * n
    for r, d in zip(rows.tolist(), appt.device.tolist(), strict=True):
        device[r] = d
    site = np.zeros(n, dtype=np.int64)
    site[rows] = [kec.get(s, -1) for s in appt.site.tolist()]
    devices = {}
    for dev, k, delivered, avail in read_devices(plan_dir / DEVICES):
        if k not in kec:
            raise InputError(plan_dir / DEVICES, f"device {dev}", f"kecamatan {k} is not in the scenario")
        devices[dev] = (kec[k], delivered, avail)
    return OldPlan(day, dates, shift, device, site, devices, visited, visit_days, visit_rows)


@dataclass
class Window:
    """Where the re-plan starts: the as-of day, the notice window, what is past, who missed."""

    a: int  # index of the first working day on or after as-of
    w_end: int  # first day after the notice window
    notice_end: dt.date | None  # last day of the notice window
    past: npt.NDArray[np.bool_]
    missed: list[int]


def check_history(ls: LoadedScenario, data: ProblemData, old: OldPlan, devices: list[Device], win: Window) -> None:
    """What happened before as-of cannot be re-planned: a changed scenario in which a device used
    then was not yet there (or is somewhere else) contradicts the record. An input error naming
    the device and the first appointment it contradicts (exit 3), never a plan that breaks a rule."""
    by_id = {d.device_id: d for d in devices}
    for i in np.flatnonzero(win.past).tolist():
        dev = by_id.get(old.device[i])
        if dev is None:
            why = "has no such device"
        elif dev.kecamatan != int(old.site[i]):
            why = f"places {dev.device_id} in {data.kecamatan_codes[dev.kecamatan]}"
        elif dev.available_from > old.date[i]:
            why = f"makes {dev.device_id} available only from {dev.available_from}"
        else:
            continue
        raise InputError(
            ls.path,
            "deliveries",
            f"contradicts what already happened: device {old.device[i]} enrolled KK on {old.date[i]} "
            f"(before as-of), but the changed scenario {why}",
        )


def window_of(
    old_plan: Path,
    data: ProblemData,
    households: Households,
    old: OldPlan,
    as_of: dt.date,
    notice_days: int,
    attendance: dict[int, bool],
) -> Window:
    """The as-of day and the notice window; what is past; the input errors a re-plan can meet."""
    n_days = data.regular_days
    if as_of > data.last_regular_day:
        raise InputError(
            "--as-of",
            None,
            f"{as_of} is after the last regular day {data.last_regular_day}: nothing is left to re-plan",
        )
    a = index_on_or_after(data.days[:n_days], as_of)
    w_end = min(n_days, a + notice_days)
    notice_end = data.days[w_end - 1] if w_end > a else None  # last day of the notice window
    past = np.array([d < as_of for d in old.date]) & ~old.visited
    if (past & (old.day < 0)).any():
        i = int(np.flatnonzero(past & (old.day < 0))[0])
        raise InputError(
            old_plan / APPOINTMENTS,
            f"kk_id {households.kk_id[i]}",
            f"past appointment on {old.date[i]} is not a regular working day of the changed scenario",
        )
    if (old.site < 0).any():
        raise InputError(old_plan / APPOINTMENTS, "site_kecamatan", "names a kecamatan not in the scenario")
    missed = sorted(k for k, ok in attendance.items() if not ok)
    for k in missed:
        if not past[k]:
            raise InputError(
                "--attendance", f"kk_id {households.kk_id[k]}", f"appointment on {old.date[k]} is not before as-of"
            )
    return Window(a, w_end, notice_end, past, missed)

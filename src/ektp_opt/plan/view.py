"""The plan type: a plan folder indexed against its scenario (``Plan.read``), every appointment
as integer indices (office, working day, kelurahan, device), so reports and the simulator can
count with numpy; ``objectives()`` measures it.

A date, office, kelurahan or device the scenario does not know is an InputError naming the row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ektp_opt.errors import InputError, VerificationError
from ektp_opt.inputs.calendar import working_days
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.plan.files import APPOINTMENTS, DEVICES, HOME_VISITS, SUMMARY
from ektp_opt.plan.read import (
    HomeVisit,
    check_plan_dir,
    read_appointments,
    read_devices,
    read_home_visits,
    read_plan_summary,
)
from ektp_opt.results import PlanSummary
from ektp_opt.solver.metrics import plan_objectives

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Plan:
    days: tuple[dt.date, ...]  # every working day from start to the deadline
    regular_days: int  # the first ``regular_days`` of ``days`` are regular; the rest catch-up
    kecamatan: tuple[str, ...]
    kelurahan: tuple[str, ...]
    kk_id: npt.NDArray[np.str_]
    site: IntArray  # per appointment: index into kecamatan
    day: IntArray  # index into days
    shift: IntArray  # 1-based
    members: IntArray
    kel: IntArray  # index into kelurahan
    device: IntArray  # index into device_ids
    device_ids: tuple[str, ...]
    device_kec: IntArray
    device_from: tuple[dt.date, ...]
    summary: PlanSummary
    home_visits: list[HomeVisit]  # home_visits.csv (empty when the plan has none)

    @classmethod
    def read(cls, folder: str | Path, ls: LoadedScenario | None = None) -> Plan:
        """Read a plan folder, after checking that it is whole and made for its scenario (the
        one given, else the one its summary.json names)."""
        from ektp_opt.inputs.scenario import load_scenario
        from ektp_opt.plan.read import scenario_of

        folder = Path(folder)
        return load_plan_view(folder, ls or load_scenario(scenario_of(folder, None)))

    def objectives(self) -> dict[str, int]:
        """The objective values measured on this plan's office appointments (solver/metrics.py)."""
        home = np.array([self.kecamatan.index(code[:8]) for code in self.kelurahan], dtype=np.int64)
        return plan_objectives(self.day, self.members, self.kel, self.site, home[self.kel])

    def devices_in_service(self) -> IntArray:
        """(kecamatan, day): devices whose available_from has come."""
        out = np.zeros((len(self.kecamatan), len(self.days)), dtype=np.int64)
        dates = np.array(self.days, dtype="datetime64[D]")
        for k, avail in zip(self.device_kec.tolist(), self.device_from, strict=True):
            out[k] += dates >= np.datetime64(avail, "D")
        return out


def calendar_of(ls: LoadedScenario) -> tuple[tuple[dt.date, ...], int]:
    sc = ls.scenario
    days = tuple(working_days(sc.start, sc.deadline, ls.workdays, ls.holidays))
    return days, len(days) - sc.backlog.catch_up_days


def _lookup(
    path: Path, column: str, values: npt.NDArray[Any], table: dict[Any, int], known_in: str = "the scenario"
) -> IntArray:
    uniq, inverse = np.unique(values, return_inverse=True)
    mapped = np.array([table.get(u, -1) for u in uniq.tolist()], dtype=np.int64)
    bad = np.flatnonzero(mapped < 0)
    if bad.size:
        row = int(np.flatnonzero(inverse == bad[0])[0]) + 2
        raise InputError(path, f"row {row}, column {column}", f"{uniq[bad[0]]} is not in the scenario")
    return mapped[inverse]


def load_plan_view(plan_dir: Path, ls: LoadedScenario) -> Plan:
    """Read a plan folder for the reports and the simulator, after the quick checks that it is
    whole and was made for this scenario (``check_whole``); the full rules are ``verify``'s."""
    check_plan_dir(plan_dir)
    path = plan_dir / APPOINTMENTS
    appt = read_appointments(path)
    days, regular = calendar_of(ls)
    kec = tuple(k.code for k in ls.admin.kecamatan)
    kel = tuple(k.code for k in ls.admin.kelurahan)
    devices = read_devices(plan_dir / DEVICES)
    ids = tuple(d[0] for d in devices)
    kec_index = {c: i for i, c in enumerate(kec)}
    dev_kec = []
    for dev, code, _delivered, _avail in devices:
        if code not in kec_index:
            raise InputError(plan_dir / DEVICES, f"device {dev}", f"kecamatan {code} is not in the scenario")
        dev_kec.append(kec_index[code])
    view = Plan(
        days=days,
        regular_days=regular,
        kecamatan=kec,
        kelurahan=kel,
        kk_id=appt.kk_id,
        site=_lookup(path, "site_kecamatan", appt.site, kec_index),
        day=_lookup(
            path, "date", appt.date.astype("datetime64[D]"), {d: i for i, d in enumerate(days)}, "the working days"
        ),
        shift=appt.shift,
        members=appt.members,
        kel=_lookup(path, "kelurahan_code", appt.kelurahan, {c: i for i, c in enumerate(kel)}),
        device=_lookup(path, "device_id", appt.device, {d: i for i, d in enumerate(ids)}, DEVICES),
        device_ids=ids,
        device_kec=np.array(dev_kec, dtype=np.int64),
        device_from=tuple(d[3] for d in devices),
        summary=read_plan_summary(plan_dir / SUMMARY),
        home_visits=read_home_visits(plan_dir / HOME_VISITS),
    )
    check_whole(plan_dir, view, ls)
    return view


def check_whole(plan_dir: Path, view: Plan, ls: LoadedScenario) -> None:
    """Quick checks before a plan is used: made for this scenario (its hash in summary.json), as
    many KK as summary.json says, and every shift and family size possible. A plan cut in half
    or edited by hand is refused (exit 5), a plan of another scenario is an input error (exit 3)."""
    summary_path = plan_dir / SUMMARY
    s = view.summary  # typed: its fields were checked when it was read
    if s.inputs.scenario_sha256 != ls.sha256:
        raise InputError(summary_path, "inputs.scenario_sha256", f"the plan was made for another version of {ls.path}")
    expected = s.households
    visited = len(view.home_visits)
    if len(view.kk_id) + visited != expected:
        raise VerificationError(
            f"{plan_dir}: not whole: appointments.csv and home_visits.csv hold {len(view.kk_id) + visited:,} KK, "
            f"summary.json says {expected:,}; run `ektp-opt verify` on it"
        )
    shifts = np.array([ls.scenario.shifts_for(k) for k in view.kecamatan], dtype=np.int64)
    bad = np.flatnonzero((view.shift < 1) | (view.shift > shifts[view.site]) | (view.members < 1))
    if bad.size:
        row = int(bad[0]) + 2
        raise VerificationError(
            f"{plan_dir / 'appointments.csv'}: row {row}: shift {view.shift[bad[0]]} or members "
            f"{view.members[bad[0]]} is not possible; run `ektp-opt verify` on it"
        )
    if len(np.unique(view.kk_id)) != len(view.kk_id):
        raise VerificationError(f"{plan_dir / 'appointments.csv'}: a kk_id appears twice; run `ektp-opt verify`")


def check_population(plan_dir: Path, view: Plan, households: Households) -> None:
    """The plan was made for this population (the households hash in summary.json)."""
    if view.summary.inputs.households_sha256 != households.sha256:
        raise InputError(
            plan_dir / SUMMARY,
            "inputs.households_sha256",
            "the plan was made for other households than the scenario's",
        )

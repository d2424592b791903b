"""The plan folder (SPEC.md, "Output: a plan folder"): appointments.csv, devices.csv and
summary.json, written together and atomically."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from ektp_opt import __version__
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.plan.files import (
    APPOINTMENT_COLUMNS,
    APPOINTMENTS,
    DEVICE_COLUMNS,
    DEVICES,
    HOME_VISIT_COLUMNS,
    HOME_VISITS,
    SUMMARY,
)
from ektp_opt.problem import ProblemData
from ektp_opt.results import PlanSummary
from ektp_opt.solver import Result


def appointments_csv(result: Result, households: Households) -> str:
    """One line per KK with an office seat, ordered by day, site, shift, device. Each column is
    formatted once per distinct value (a kecamatan, a date, a device) and spread to the rows by
    index, so 650 k rows take well under a second."""
    data, a = result.problem, result.assignment
    order = np.lexsort((np.arange(len(households)), a.device, a.shift, a.site, a.day))
    order = order[a.site[order] >= 0]  # KK visited at home are in home_visits.csv instead

    def spread(labels: list[str], index: np.ndarray) -> list[str]:
        return np.array(labels, dtype=object)[index].tolist()  # type: ignore[no-any-return]

    kel = households.kelurahan[order]
    shift = a.shift[order].astype(np.int64)
    members = households.members[order].astype(np.int64)
    cols = [
        households.kk_id[order].tolist(),
        spread(list(data.kelurahan_codes), kel),
        spread(list(data.kecamatan_codes), data.kelurahan_kecamatan[kel]),
        spread(list(data.kecamatan_codes), a.site[order]),
        spread([d.isoformat() for d in data.days], a.day[order]),
        spread([str(i) for i in range(int(shift.max(initial=0)) + 1)], shift),
        spread([d.device_id for d in a.devices], a.device[order]),
        spread([str(i) for i in range(int(members.max(initial=0)) + 1)], members),
    ]
    body = "\n".join(map(",".join, zip(*cols, strict=True)))
    return ",".join(APPOINTMENT_COLUMNS) + "\n" + (body + "\n" if body else "")


def devices_csv(result: Result) -> str:
    data = result.problem
    lines = [",".join(DEVICE_COLUMNS)]
    for dev in result.assignment.devices:
        lines.append(
            f"{dev.device_id},{data.kecamatan_codes[dev.kecamatan]},"
            f"{dev.delivery.isoformat()},{dev.available_from.isoformat()}"
        )
    return "\n".join(lines) + "\n"


def summary(result: Result, ls: LoadedScenario, households: Households) -> PlanSummary:
    data, a = result.problem, result.assignment
    sc = ls.scenario
    office = a.site >= 0
    last = np.full(data.n_kec, -1)
    np.maximum.at(last, a.site[office], a.day[office])
    per_kec = {
        code: (data.days[int(d)].isoformat() if d >= 0 else None)
        for code, d in zip(data.kecamatan_codes, last.tolist(), strict=True)
    }
    devices = np.bincount([d.kecamatan for d in a.devices], minlength=data.n_kec)
    per_site = np.bincount(a.site[office], weights=households.members[office], minlength=data.n_kec).astype(int)
    # Every KK visited at home: no office appointment, so the office campaign ends before it starts
    # (level 1 is 0) and the completion date is the start day.
    last_day = int(a.day[office].max()) if office.any() else -1
    completion = data.days[max(last_day, 0)]
    seats = 0
    for dev in a.devices:
        open_days = max(0, min(data.regular_days, last_day + 1) - dev.first_day)
        seats += open_days * int(data.seats[dev.kecamatan] * data.shifts[dev.kecamatan])
    return PlanSummary.model_validate({
        "scenario": sc.name,
        "scenario_file": str(ls.path.resolve()),
        "city": sc.city,
        "status": result.status,
        "late": completion > data.last_regular_day,
        "objectives": {lv.name: lv.as_dict() for lv in result.levels},
        "completion_date": completion.isoformat(),
        "kecamatan_completion": per_kec,
        "start": sc.start.isoformat(),
        "deadline": sc.deadline.isoformat(),
        "last_regular_day": data.last_regular_day.isoformat(),
        "residents": households.residents,
        "households": len(households),
        "devices": len(a.devices),
        "devices_per_kecamatan": dict(zip(data.kecamatan_codes, (int(x) for x in devices), strict=True)),
        "residents_per_site": dict(zip(data.kecamatan_codes, (int(x) for x in per_site), strict=True)),
        "seat_utilisation": round(int(households.members[office].sum()) / seats, 6) if seats else None,
        "home_visits": home_visit_summary(data, households),
        "solve_seconds": round(result.runtime, 3),
        "stage_seconds": {k: round(v, 3) for k, v in result.timings.stages.items()},
        "workers": result.options.workers,
        "seed": result.options.seed,
        "time_limit": result.options.time_limit,
        "preset": result.options.preset,
        "inputs": {"scenario_sha256": ls.sha256, "households_sha256": households.sha256},
        "versions": {"ektp_opt": __version__, "ortools": version("ortools")},
    })  # fmt: skip


def home_visit_summary(data: ProblemData, households: Households) -> dict[str, Any]:
    flagged = int(households.home_visit.sum())
    hv = data.home_visits
    if hv is None:
        return {
            "planned": False,
            "flagged_kk": flagged,
            "note": "the scenario has no [home_visits] section: flagged KK were given office seats",
        }
    unserved = sum(len(v) for v in hv.unserved.values())
    seats = sum(int(data.seats[m.kecamatan] * data.shifts[m.kecamatan]) for m in hv.days)
    return {
        "planned": True,
        "flagged_kk": flagged,
        "visited_kk": hv.visited,
        "unserved_kk": unserved,
        "mobile_device_days": len(hv.days),
        "office_seats_lost": seats,
        "fix": {
            data.kecamatan_codes[k]: f"{len(hv.unserved[k])} KK unserved: {n} portable device(s) would serve them"
            for k, n in hv.portable_needed.items()
        },
    }


def home_visits_csv(result: Result, households: Households) -> str:
    """kk_id,date,device_id,kelurahan_code,order; KK no portable device reaches are listed with
    an empty date, so that none is silently dropped."""
    data, a = result.problem, result.assignment
    hv = data.home_visits
    lines = [",".join(HOME_VISIT_COLUMNS)]
    if hv is None:
        return "\n".join(lines) + "\n"
    for m in hv.days:
        assert m.device >= 0, "mobile days get their device when the plan's devices are placed"
        device = a.devices[m.device].device_id
        for n, i in enumerate(m.kk, start=1):
            kel = data.kelurahan_codes[households.kelurahan[i]]
            lines.append(f"{households.kk_id[i]},{data.days[m.day].isoformat()},{device},{kel},{n}")
    for kks in hv.unserved.values():
        for i in kks:
            lines.append(f"{households.kk_id[i]},,,{data.kelurahan_codes[households.kelurahan[i]]},")
    return "\n".join(lines) + "\n"


def write_plan_files(folder: Path, result: Result, ls: LoadedScenario, households: Households) -> PlanSummary:
    """Write the plan files into ``folder`` (a staging folder from ``atomic_folder``)."""
    info = summary(result, ls, households)
    (folder / APPOINTMENTS).write_text(appointments_csv(result, households), encoding="utf-8")
    if result.problem.home_visits is not None:
        (folder / HOME_VISITS).write_text(home_visits_csv(result, households), encoding="utf-8")
    (folder / DEVICES).write_text(devices_csv(result), encoding="utf-8")
    write_summary(folder, info)
    return info


def write_summary(folder: Path, info: PlanSummary) -> None:
    """summary.json: the one place a plan's summary is serialised."""
    (folder / SUMMARY).write_text(json.dumps(info.to_json(), indent=2) + "\n", encoding="utf-8")

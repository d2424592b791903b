"""The verifier names every way a valid plan can be broken."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ektp_opt.inputs.households import Households
from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import LoadedScenario, load_scenario
from ektp_opt.plan.write import write_plan_files
from ektp_opt.problem import build_problem
from ektp_opt.solver import SolveOptions, solve
from ektp_opt.verify import verify_plan

Rows = list[dict[str, str]]


@pytest.fixture
def planned(tiny_city: Callable[..., Path], tmp_path: Path) -> tuple[LoadedScenario, Households, Path]:
    busy = "[households]\nseed = 7\nresidents = 1500\nhouseholds = 500\n"
    ls = load_scenario(tiny_city(households=busy))
    h = load_population(ls)
    result = solve(build_problem(ls, h), h, SolveOptions(time_limit=10, workers=1))
    out = tmp_path / "plan"
    out.mkdir()
    write_plan_files(out, result, ls, h)
    return ls, h, out


def _read(path: Path) -> Rows:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def _write(path: Path, rows: Rows) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue())


def test_clean_plan_passes(planned: tuple[LoadedScenario, Households, Path]) -> None:
    ls, h, out = planned
    report = verify_plan(out, ls, h)
    assert report.ok, report.violations
    assert len(report.checked) >= 15


def _split(rows: Rows, devices: Rows, ls: LoadedScenario) -> None:
    big = next(r for r in rows if int(r["members"]) >= 2)
    twin = dict(big)
    big["members"] = str(int(big["members"]) - 1)
    twin["members"] = "1"
    twin["shift"] = "1" if big["shift"] != "1" else "2"
    rows.append(twin)


def _overfill(rows: Rows, devices: Rows, ls: LoadedScenario) -> None:
    seats = ls.scenario.seats_per_device_shift(rows[0]["site_kecamatan"])
    r = rows[0]
    others = sum(
        int(x["members"])
        for x in rows[1:]
        if (x["device_id"], x["date"], x["shift"]) == (r["device_id"], r["date"], r["shift"])
    )
    r["members"] = str(seats - others + 1)


def _move_date(day: str) -> Callable[[Rows, Rows, LoadedScenario], None]:
    def mutate(rows: Rows, devices: Rows, ls: LoadedScenario) -> None:
        rows[0]["date"] = day

    return mutate


def _early_device(rows: Rows, devices: Rows, ls: LoadedScenario) -> None:
    import datetime as dt

    dev = next(d for d in devices if d["delivery_date"] != "2011-08-15")
    r = next(r for r in rows if r["device_id"] == dev["device_id"])
    r["date"] = (dt.date.fromisoformat(dev["available_from"]) - dt.timedelta(days=1)).isoformat()


def _drop(rows: Rows, devices: Rows, ls: LoadedScenario) -> None:
    rows.pop()


def _duplicate(rows: Rows, devices: Rows, ls: LoadedScenario) -> None:
    rows.append(dict(rows[-1]))


def _members(rows: Rows, devices: Rows, ls: LoadedScenario) -> None:
    rows[0]["members"] = str(int(rows[0]["members"]) + 1) if rows[0]["members"] == "1" else "1"


def _far_site(rows: Rows, devices: Rows, ls: LoadedScenario) -> None:
    r = next(r for r in rows if r["home_kecamatan"] != "12.71.03")
    r["site_kecamatan"] = "12.71.03"


def _two_kecamatan(rows: Rows, devices: Rows, ls: LoadedScenario) -> None:
    devices.append(
        {
            **devices[0],
            "kecamatan": "12.71.03" if devices[0]["kecamatan"] != "12.71.03" else "12.71.01",
        }
    )


def _extra_pool(rows: Rows, devices: Rows, ls: LoadedScenario) -> None:
    pooled = next(d for d in devices if d["delivery_date"] == "2011-08-22")
    for n in range(5):
        devices.append({**pooled, "device_id": f"{pooled['kecamatan']}-X{n}"})


MUTATIONS = {
    "split a family": (_split, "family split across device-shifts"),
    "overfill a device-shift": (_overfill, "device-shift over its regular seats"),
    "book on a holiday": (_move_date("2011-08-30"), "appointment on a non-working day"),
    "book on a Sunday": (_move_date("2011-08-21"), "appointment on a non-working day"),
    "book on a catch-up day": (
        _move_date("2011-09-10"),
        "appointment after the last regular day (catch-up days or later)",
    ),
    "device before available": (_early_device, "device used before available_from"),
    "drop a KK": (_drop, "KK missing from the plan"),
    "duplicate a KK": (_duplicate, "KK listed more than once"),
    "change members": (_members, "members differ from the household"),
    "far kecamatan": (_far_site, "served away from home beyond overflow_km"),
    "device in two kecamatan": (_two_kecamatan, "device listed twice (two kecamatan)"),
    "too many pool devices": (_extra_pool, "more devices placed than delivered"),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_is_named(planned: tuple[LoadedScenario, Households, Path], tmp_path: Path, name: str) -> None:
    ls, h, out = planned
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    rows = _read(broken / "appointments.csv")
    devices = _read(broken / "devices.csv")
    mutate, rule = MUTATIONS[name]
    mutate(rows, devices, ls)
    _write(broken / "appointments.csv", rows)
    _write(broken / "devices.csv", devices)
    report = verify_plan(broken, ls, h)
    assert rule in {v.rule for v in report.violations}, [v.rule for v in report.violations]

"""Home visits: every flagged KK visited (or listed with its fix), mobile devices out of the
office all day, the verifier's new rules, and the office plan paying only for the lost seats."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import HomeVisitSpec, load_scenario
from ektp_opt.problem import build_problem
from ektp_opt.problem.homevisit import plan_home_visits
from tests.cli.test_cli import run

HH = "[households]\nseed = 5\nresidents = 900\nhouseholds = 300\nhome_visit_share = 0.1\n"
HV = "[home_visits]\nportable_per_kecamatan = {n}\nvisits_per_day = 4\ncluster_km = {km}\n"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def visited_plan(tiny_city: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    scenario = tiny_city("hv.toml", households=HH, extra=HV.format(n=1, km=0.0))
    out = tmp_path / "plan"
    code, _o, err = run("solve", str(scenario), "--out", str(out), "--workers", "1", "--quiet")
    assert code == 0, err
    return scenario, out


def test_every_flagged_kk_is_visited_and_has_no_office_seat(visited_plan: tuple[Path, Path]) -> None:
    scenario, plan = visited_plan
    ls = load_scenario(scenario)
    h = load_population(ls)
    flagged = set(h.kk_id[h.home_visit].tolist())
    assert len(flagged) > 10
    visits = rows(plan / "home_visits.csv")
    assert {v["kk_id"] for v in visits} == flagged and all(v["date"] for v in visits)
    office = rows(plan / "appointments.csv")
    assert not flagged & {a["kk_id"] for a in office}
    busy = {(a["device_id"], a["date"]) for a in office}
    per_day = Counter((v["device_id"], v["date"]) for v in visits)
    assert not busy & set(per_day) and max(per_day.values()) <= 4
    kel_per_day = {key: {v["kelurahan_code"] for v in visits if (v["device_id"], v["date"]) == key} for key in per_day}
    assert all(len(k) == 1 for k in kel_per_day.values())  # cluster_km = 0: one kelurahan a day
    assert run("verify", str(plan))[0] == 0
    info = json.loads((plan / "summary.json").read_text())["home_visits"]
    assert info["visited_kk"] == len(flagged) and info["unserved_kk"] == 0


def test_office_completion_pays_only_for_the_lost_seats(tiny_city: Callable[..., Path]) -> None:
    """Level 1 is proven on the office capacity left after the mobile days, so the office plan
    finishes as early as any plan with those visits can; never earlier than without visits
    minus the residents who no longer come."""
    with_visits = load_scenario(tiny_city("hv.toml", households=HH, extra=HV.format(n=1, km=0.0)))
    h = load_population(with_visits)
    data = build_problem(with_visits, h)
    assert data.home_visits is not None and data.mobile is not None
    lost_device_days = int(data.mobile.sum())
    assert lost_device_days == len(data.home_visits.days) > 0
    before = data.fixed_devices().sum() + lost_device_days
    plain = build_problem(load_scenario(tiny_city("plain.toml", households=HH)), h)
    assert plain.fixed_devices().sum() == before  # exactly the mobile device-days are taken out
    assert plain.kelurahan_residents.sum() - data.kelurahan_residents.sum() == int(h.members[h.home_visit].sum())


def test_no_portable_devices_lists_every_flagged_kk_with_the_fix(
    tiny_city: Callable[..., Path], tmp_path: Path
) -> None:
    scenario = tiny_city("none.toml", households=HH, extra=HV.format(n=0, km=0.0))
    out = tmp_path / "plan"
    code, _o, err = run("solve", str(scenario), "--out", str(out), "--workers", "1", "--quiet")
    assert code == 0, err
    h = load_population(load_scenario(scenario))
    visits = rows(out / "home_visits.csv")
    assert len(visits) == int(h.home_visit.sum()) and not any(v["date"] for v in visits)  # listed, never dropped
    info = json.loads((out / "summary.json").read_text())["home_visits"]
    assert info["unserved_kk"] == len(visits) and info["fix"]
    assert all("portable device" in why for why in info["fix"].values())
    code, stdout, _e = run("verify", str(out))
    assert code == 0 and "no home visit" in stdout


def test_cluster_days_join_near_kelurahan_only(tiny_city: Callable[..., Path]) -> None:
    ls = load_scenario(tiny_city("hv.toml", households=HH, extra=HV.format(n=1, km=0.0)))
    h = load_population(ls)
    data = build_problem(ls, h)
    fixed = data.fixed_devices() + (data.mobile if data.mobile is not None else 0)
    alone = plan_home_visits(
        HomeVisitSpec(portable_per_kecamatan=1, visits_per_day=4), h, ls.admin, fixed, data.regular_days
    )
    joined = plan_home_visits(
        HomeVisitSpec(portable_per_kecamatan=1, visits_per_day=4, cluster_km=5.0), h, ls.admin, fixed, data.regular_days
    )
    assert joined.visited == alone.visited == int(h.home_visit.sum())
    assert len(joined.days) <= len(alone.days)
    assert all(m.day >= data.regular_days - len(alone.days) for m in alone.days)  # latest regular days first


@pytest.mark.parametrize("breakage", ["office seat too", "too many visits", "device also in office"])
def test_verifier_catches_broken_home_visits(visited_plan: tuple[Path, Path], tmp_path: Path, breakage: str) -> None:
    _scenario, plan = visited_plan
    broken = tmp_path / "broken"
    shutil.copytree(plan, broken)
    visits, office = rows(broken / "home_visits.csv"), rows(broken / "appointments.csv")
    if breakage == "office seat too":
        first = office[0]
        office.append({**first, "kk_id": visits[0]["kk_id"], "members": "1"})
    elif breakage == "too many visits":
        key = (visits[0]["device_id"], visits[0]["date"])
        for n, v in enumerate(visits, start=1):
            v["device_id"], v["date"], v["order"] = key[0], key[1], str(n)
    else:
        office[0]["device_id"], office[0]["date"] = visits[0]["device_id"], visits[0]["date"]
    for name, data in (("home_visits.csv", visits), ("appointments.csv", office)):
        with (broken / name).open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(data[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(data)
    code, stdout, _e = run("verify", str(broken))
    assert code == 5, stdout


def test_capacity_counts_home_visits(tiny_city: Callable[..., Path]) -> None:
    from ektp_opt.analysis.capacity import diagnose
    from ektp_opt.solver import SolveOptions

    with_visits = load_scenario(tiny_city("hv.toml", households=HH, extra=HV.format(n=1, km=0.0)))
    plain = load_scenario(tiny_city("plain.toml", households=HH))
    a = diagnose(with_visits, load_population(with_visits), SolveOptions(workers=1))
    b = diagnose(plain, load_population(plain), SolveOptions(workers=1))
    seats = "seats_by_last_regular_day_upper_bound"
    assert getattr(a.seat_arithmetic, seats) < getattr(b.seat_arithmetic, seats)
    assert a.home_visits is not None and a.home_visits.mobile_device_days > 0 and b.home_visits is None


def test_resolve_keeps_home_visits(tmp_path: Path) -> None:
    from tests.conftest import MEDAN

    scenario = MEDAN / "medan-10k-homevisits.toml"
    old, new = tmp_path / "old", tmp_path / "new"
    assert run("solve", str(scenario), "--out", str(old), "--workers", "1", "--quiet")[0] == 0
    args = ["resolve", "--plan", str(old), "--scenario", str(scenario), "--as-of", "2011-08-22", "--out", str(new)]
    code, _o, err = run(*args, "--workers", "1", "--quiet")
    assert code == 0, err
    assert (new / "home_visits.csv").read_text() == (old / "home_visits.csv").read_text()
    assert json.loads((new / "summary.json").read_text())["resolve"]["moved_kk"] == 0
    assert run("verify", str(new))[0] == 0

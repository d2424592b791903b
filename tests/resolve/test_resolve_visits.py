"""Home visits in a re-plan (issue #18): a visit whose portable device is gone is re-planned, the
others kept; a scenario may add or drop its [home_visits] section."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from tests.cli.test_cli import run

HH = "[households]\nseed = 5\nresidents = 900\nhouseholds = 300\nhome_visit_share = 0.1\n"
HV = "[home_visits]\nportable_per_kecamatan = 2\nvisits_per_day = 4\n"
# two named devices per kecamatan; the second is delivered on 25 Aug (before the change) ...
TWO = (
    "[[deliveries]]\ndate = 2011-08-15\nper_kecamatan = 1\n\n[[deliveries]]\ndate = 2011-08-25\nper_kecamatan = 1\n\n"
    "[[deliveries]]\ndate = 2011-08-22\npool = 2\n"
)
# ... and after the change it comes only after the campaign: its mobile days lose their device.
LATE = TWO.replace("2011-08-25", "2011-09-08")
AS_OF = "2011-08-22"


def visits(plan: Path) -> dict[str, tuple[str, str]]:
    with (plan / "home_visits.csv").open() as fh:
        return {r["kk_id"]: (r["date"], r["device_id"]) for r in csv.DictReader(fh)}


def changes(plan: Path) -> dict[str, dict[str, str]]:
    with (plan / "changes.csv").open() as fh:
        return {r["kk_id"]: r for r in csv.DictReader(fh)}


def replan(old: Path, scenario: Path, out: Path) -> tuple[int, str, str]:
    args = ["resolve", "--plan", str(old), "--scenario", str(scenario), "--as-of", AS_OF, "--out", str(out)]
    return run(*args, "--workers", "1", "--quiet")


def test_visits_whose_device_is_gone_are_replanned_the_rest_kept(
    tiny_city: Callable[..., Path], tmp_path: Path
) -> None:
    before = tiny_city("before.toml", deliveries=TWO, households=HH, extra=HV)
    after = tiny_city("after.toml", deliveries=LATE, households=HH, extra=HV)
    old = tmp_path / "old"
    assert run("solve", str(before), "--out", str(old), "--workers", "1", "--quiet")[0] == 0
    with (old / "devices.csv").open() as fh:
        late = {r["device_id"] for r in csv.DictReader(fh) if r["delivery_date"] == "2011-08-25"}
    was = visits(old)
    lost = {kk for kk, (date, dev) in was.items() if dev in late}
    assert lost, "the second device of some kecamatan had mobile days"
    out = tmp_path / "new"
    code, _o, err = replan(old, after, out)
    assert code == 0, err
    assert run("verify", str(out))[0] == 0
    now, why = visits(out), changes(out)
    assert now.keys() == was.keys()
    for kk, (date, dev) in was.items():
        if kk in lost:
            assert now[kk][1] not in late and "home visit" in why[kk]["reason"] and "not" in why[kk]["reason"]
        else:
            assert now[kk] == (date, dev) and kk not in why


def test_adding_and_dropping_home_visits(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    plain = tiny_city("plain.toml", households=HH)
    with_visits = tiny_city("visits.toml", households=HH, extra=HV.replace("= 2", "= 1"))
    old = tmp_path / "old"
    assert run("solve", str(plain), "--out", str(old), "--workers", "1", "--quiet")[0] == 0
    added = tmp_path / "added"
    code, _o, err = replan(old, with_visits, added)
    assert code == 0, err
    assert run("verify", str(added))[0] == 0
    now = visits(added)
    assert now and all("now plans home visits" in changes(added)[kk]["reason"] for kk in now)
    with (old / "appointments.csv").open() as fh:
        office = {r["kk_id"]: r["date"] for r in csv.DictReader(fh)}
    assert all(changes(added)[kk]["old_date"] == office[kk] for kk in now)  # the seat they leave
    dropped = tmp_path / "dropped"
    code, _o, err = replan(added, plain, dropped)
    assert code == 0, err
    assert run("verify", str(dropped))[0] == 0
    assert not (dropped / "home_visits.csv").exists()
    why = changes(dropped)
    assert all("home visits dropped" in why[kk]["reason"] for kk in now)


def test_the_device_placement_sees_each_mobile_device_day_once(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """home_visits.csv has a line per home; the placement must count a device-day out once (it
    counted one per home, and a Medan re-plan of an unchanged scenario became infeasible)."""
    from ektp_opt.inputs.population import load_population
    from ektp_opt.inputs.scenario import load_scenario
    from ektp_opt.problem import build_problem
    from ektp_opt.resolve.oldplan import read_old
    from ektp_opt.resolve.placement import devices_away

    scenario = tiny_city("hv.toml", deliveries=TWO, households=HH, extra=HV)
    old = tmp_path / "old"
    assert run("solve", str(scenario), "--out", str(old), "--workers", "1", "--quiet")[0] == 0
    ls = load_scenario(scenario)
    h = load_population(ls)
    full = build_problem(ls, h)
    plan = read_old(old, full, h)
    away = devices_away(ls, full, plan, full, added=False)
    device_days = set(visits(old).values()) - {("", "")}
    assert len(plan.visit_days) > len(device_days) > 0  # several homes a day
    assert int(away.sum()) == len(device_days) and int(away.max()) <= 2  # two portable devices at most


def test_dropping_visits_counts_their_kk_as_moves_and_returns_their_devices(
    tiny_city: Callable[..., Path], tmp_path: Path
) -> None:
    with_visits = tiny_city("visits.toml", households=HH, extra=HV.replace("= 2", "= 1"))
    plain = tiny_city("plain.toml", households=HH)
    old = tmp_path / "old"
    assert run("solve", str(with_visits), "--out", str(old), "--workers", "1", "--quiet")[0] == 0
    out = tmp_path / "dropped"
    code, _o, err = replan(old, plain, out)
    assert code == 0, err
    import json

    info = json.loads((out / "summary.json").read_text())
    moves = info["objectives"]["moves"]
    visited = [kk for kk, (date, _dev) in visits(old).items() if date]
    assert info["resolve"]["moved_kk"] == moves["value"] >= len(visited)
    assert moves["bound"] >= len(visited)  # the placement counted them: they move whatever it does
    # the portable devices serve the office again on their old mobile days
    with (out / "appointments.csv").open() as fh:
        busy = {(r["device_id"], r["date"]) for r in csv.DictReader(fh)}
    assert busy & {(dev, date) for date, dev in visits(old).values() if date} or len(visited) == 0

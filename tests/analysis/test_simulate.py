"""The late-arrival simulator: hand-computed queues, edge rates, seeds, and the command."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ektp_opt.analysis.simulate import Campaign, campaign_from_plan, queue, served_day, simulate
from ektp_opt.inputs.scenario import load_scenario
from ektp_opt.plan.read import read_appointments
from tests.cli.test_cli import run
from tests.conftest import MEDAN

DAYS = tuple(dt.date(2011, 9, 1) + dt.timedelta(days=i) for i in range(6))


def tiny_campaign(free: list[list[int]], regular: int = 4) -> Campaign:
    """Two offices, five KK on days 0-2 (members 2, 3, 1, 2, 4)."""
    return Campaign(
        days=DAYS,
        regular_days=regular,
        kecamatan=("12.71.01", "12.71.02"),
        site=np.array([0, 0, 0, 1, 1]),
        day=np.array([0, 0, 1, 0, 2]),
        members=np.array([2, 3, 1, 2, 4]),
        free_seats=np.array(free, dtype=np.int64),
    )


def test_queue_matches_a_hand_trace() -> None:
    # arrivals 5,1,2,0 against seats 2,0,3,1: backlog 3, 4, 3, 2
    assert queue(np.array([5, 1, 2, 0]), np.array([2, 0, 3, 1])).tolist() == [3, 4, 3, 2]
    # A(2) and B(3) arrive day 0, C(1) day 1, D(2) day 2: A served day 0 (2 seats), B day 2
    # (cumulative seats 5), C day 3 (6), D never (needs 8, only 6 seats in all).
    days = served_day(np.array([0, 0, 1, 2]), np.array([2, 3, 1, 2]), np.array([2, 0, 3, 1]))
    assert days.tolist() == [0, 2, 3, -1]
    # nobody is served before arriving, even with seats to spare
    assert served_day(np.array([2]), np.array([1]), np.array([9, 9, 9])).tolist() == [2]


def test_everyone_late_back_next_day_is_hand_computable() -> None:
    """late_rate 1 and mean delay 1: every KK returns exactly one working day later."""
    c = tiny_campaign([[0, 2, 1, 3, 0, 0], [0, 1, 1, 1, 1, 9]])
    r = simulate(c, 1.0, runs=3, seed=5, mean_delay=1.0)
    # office 1: arrivals day1 5 (A+B), day2 1 (C); seats 2,1,3 -> backlog 3, 3, 0: clears day 3
    # office 2: arrivals day1 2 (D), day3 4 (E); seats 1,1,1,1,9 -> 1, 0, 3, 2, 0: clears day 5
    assert r.clear_day.tolist() == [[3, 5]] * 3
    assert r.citywide_backlog[0].tolist() == [0, 4, 3, 3, 2, 0]
    assert r.finished.all() and r.probability == 1.0
    assert r.late_residents.tolist() == [12, 12, 12]


def test_no_late_arrivals_no_backlog() -> None:
    r = simulate(tiny_campaign([[1] * 6, [1] * 6]), 0.0, runs=20, seed=1)
    assert not r.citywide_backlog.any() and (r.clear_day == -1).all() and r.probability == 1.0
    assert r.summary().citywide_clear_date_expected == "no backlog"


def test_all_late_and_no_free_seats_nobody_is_served() -> None:
    r = simulate(tiny_campaign([[0] * 6, [0] * 6]), 1.0, runs=20, seed=1)
    assert r.probability == 0.0
    back_in_time = r.late_residents - r.returned_after_deadline
    assert (r.waiting_at_deadline.sum(axis=1) == back_in_time).all()


def test_same_seed_same_result_other_seed_differs() -> None:
    c = tiny_campaign([[1, 1, 1, 1, 5, 5], [1, 0, 1, 0, 5, 5]])
    a, b = simulate(c, 0.4, 200, seed=11), simulate(c, 0.4, 200, seed=11)
    assert np.array_equal(a.citywide_backlog, b.citywide_backlog) and a.summary() == b.summary()
    assert not np.array_equal(a.citywide_backlog, simulate(c, 0.4, 200, seed=12).citywide_backlog)


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_rate_outside_zero_one_is_refused(rate: float) -> None:
    with pytest.raises(ValueError):
        simulate(tiny_campaign([[1] * 6, [1] * 6]), rate, 1, 0)


def test_free_seats_from_a_real_plan(medan_10k_plan: Path) -> None:
    """Regular days: the reserve seats of every device-shift in service (plus, with idle seats,
    whatever the plan left unbooked); catch-up days: whole devices."""
    ls = load_scenario(MEDAN / "medan-10k.toml")
    sc = ls.scenario
    c = campaign_from_plan(medan_10k_plan, ls)
    idle = campaign_from_plan(medan_10k_plan, ls, idle_seats=True)
    appt = read_appointments(medan_10k_plan / "appointments.csv")
    assert c.members.sum() == appt.members.sum() == 10_000
    per_device_reserve = sc.backlog.reserve_per_shift * sc.shifts_per_day
    regular = c.free_seats[:, : c.regular_days]
    assert (regular % per_device_reserve == 0).all() and regular.any()
    assert (idle.free_seats[:, : c.regular_days] >= regular).all()
    devices_at_end = c.free_seats[:, -1] // sc.device.capacity_per_day
    assert (c.free_seats[:, c.regular_days :] == idle.free_seats[:, c.regular_days :]).all()
    assert (devices_at_end >= 1).all()


def test_simulate_command(medan_10k_plan: Path, tmp_path: Path) -> None:
    chart, figures = tmp_path / "backlog.png", tmp_path / "sim.json"
    code, stdout, err = run(
        "simulate", str(medan_10k_plan), "--late-rate", "0.05", "--late-rate", "0.3",
        "--runs", "200", "--chart", str(chart), "--json", str(figures),
    )  # fmt: skip
    assert code == 0, err
    assert "Late arrivals" in stdout
    assert chart.read_bytes()[:4] == b"\x89PNG"
    data = json.loads(figures.read_text())
    low, high = data["simulations"]
    assert low["late_rate"] == 0.05 and high["late_rate"] == 0.3
    assert low["probability_on_time"] >= high["probability_on_time"]
    assert high["peak_backlog_mean"] > low["peak_backlog_mean"]


def test_recommend_reaches_the_target(medan_10k_plan: Path, tmp_path: Path) -> None:
    figures = tmp_path / "rec.json"
    code, stdout, err = run(
        "simulate", str(medan_10k_plan), "--late-rate", "0.1", "--runs", "100", "--recommend",
        "--catch-up", "0", "--catch-up", "2", "--workers", "1", "--time-limit", "5", "--json", str(figures), "--quiet",
    )  # fmt: skip
    assert code == 0, err
    rec = json.loads(figures.read_text())["recommendation"]
    assert [row["catch_up_days"] for row in rec["table"]] == [0, 2]
    best = rec["recommended"]
    assert best is not None and best["probability"] >= 0.95
    assert "Recommended" in stdout


def test_plan_date_not_a_working_day_is_an_input_error(medan_10k_plan: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(medan_10k_plan, broken)
    path = broken / "appointments.csv"
    lines = path.read_text().splitlines()
    cells = lines[1].split(",")
    cells[4] = "2011-08-21"  # a Sunday
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    code, _o, err = run("simulate", str(broken), "--runs", "5", "--quiet")
    assert code == 3 and "row 2, column date" in err


def test_operators_limit_backlog_seats_and_catch_up_days(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """Issue 15.4: with one operator working one shift, a day has one staffed device-shift: its
    reserve seats on a regular day, its seats on a catch-up day; without operators, every
    device-shift in service counts, and the simulated figures differ."""
    people = "[households]\nseed = 7\nresidents = 90\nhouseholds = 30\n"
    free_for = {}
    for name, extra in (("none", ""), ("one", "[operators]\nper_kecamatan = 1\nshifts_per_operator = 1\n")):
        s = tiny_city(f"{name}.toml", extra=extra, households=people)
        plan = tmp_path / name
        assert run("solve", str(s), "--out", str(plan), "--workers", "1", "--quiet")[0] == 0
        ls = load_scenario(s)
        free_for[name] = campaign_from_plan(plan, ls).free_seats
        sc = ls.scenario
    c_one, c_none = free_for["one"], free_for["none"]
    regular = c_one.shape[1] - sc.backlog.catch_up_days
    assert set(np.unique(c_one[:, :regular]).tolist()) <= {0, sc.backlog.reserve_per_shift}
    assert set(np.unique(c_one[:, regular:]).tolist()) <= {0, sc.device.capacity_per_day // sc.shifts_per_day}
    assert (c_none >= c_one).all() and (c_none > c_one).any()


def test_quiet_prints_one_closing_line(medan_10k_plan: Path) -> None:
    code, stdout, err = run("simulate", str(medan_10k_plan), "--runs", "20", "--quiet")
    assert code == 0, err
    assert stdout.strip().splitlines() == ["Simulated 20 runs at 1 late rate(s)"] and not err.strip()
    code, stdout, _err = run("solve", "medan-10k", "--out", str(medan_10k_plan.parent / "q"), "--workers", "1",
                             "--quiet")  # fmt: skip
    assert code == 0 and len(stdout.strip().splitlines()) == 1 and stdout.startswith("Plan written to")

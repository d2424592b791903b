"""Capacity figures: proven by the planner's own model, never better than the seat arithmetic."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from ektp_opt.analysis.capacity import diagnose, pool_sensitivity
from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import load_scenario
from ektp_opt.solver import SolveOptions
from tests.cli.test_cli import BUSY, ONE_POOL, run
from tests.conftest import MEDAN

PNG = b"\x89PNG\r\n\x1a\n"


def test_medan_actual_deliveries_cannot_finish() -> None:
    """Issue #5's case: 79 devices cannot finish by 2011-12-15; the figures agree with seat arithmetic."""
    ls = load_scenario(MEDAN / "medan-2011-actual.toml")
    households = load_population(ls)
    d = diagnose(ls, households, SolveOptions(workers=1))
    assert not d.meets_deadline and d.devices_delivered == 79
    sa = d.seat_arithmetic
    assert sa.seats_by_last_regular_day_upper_bound < d.residents
    assert d.earliest_completion.status == "OPTIMAL"
    assert d.earliest_completion.citywide is not None and d.earliest_completion.citywide > d.last_regular_day
    # 79 devices x 5 shifts x 23 seats a day at the very most: no date earlier than that allows.
    best_daily = 79 * 5 * (120 // 5 - ls.scenario.backlog.reserve_per_shift)
    assert (d.earliest_completion.working_days or 0) >= math.ceil(d.residents / best_daily)
    sept = next(e for e in d.extra_devices_needed if e.date.isoformat() == "2011-09-05")
    assert sept.possible and sept.extra_devices is not None
    assert (sept.closed_form_lower_bound or 0) <= sept.extra_devices
    assert sept.pool_on_date_with_extra == 37 + sept.extra_devices
    assert set(d.short_kecamatan) <= set(d.earliest_completion.per_kecamatan)


def test_sensitivity_brackets_the_fewest_extra(tiny_city: Callable[..., Path]) -> None:
    """The curve falls as the pool grows, and flips from late to on time exactly at the pool the
    diagnosis asks for."""
    ls = load_scenario(tiny_city("zero.toml", deliveries=ONE_POOL.format(n=1), households=BUSY))
    households = load_population(ls)
    options = SolveOptions(workers=1)
    d = diagnose(ls, households, options)
    need = next(e for e in d.extra_devices_needed if e.date.isoformat() == "2011-08-22").pool_on_date_with_extra
    sensitivity = pool_sensitivity(ls, households, options, d)
    on, points = sensitivity.pool_date, sensitivity.points
    assert on == dt.date(2011, 8, 22)
    dates = [p.completion for p in points]
    assert dates == sorted(dates, reverse=True)
    by_pool = {p.pool: p for p in points}
    assert by_pool[need].meets_deadline and not by_pool[need - 1].meets_deadline
    assert by_pool[1].completion == d.earliest_completion.citywide


def test_capacity_command_writes_chart_and_json(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    scenario = tiny_city("short.toml", deliveries=ONE_POOL.format(n=0), households=BUSY)
    chart, figures = tmp_path / "pool.png", tmp_path / "capacity.json"
    code, stdout, err = run("capacity", str(scenario), "--chart", str(chart), "--json", str(figures), "--workers", "1")
    assert code == 0, err
    assert "deadline cannot be met" in stdout and "Pool size on" in stdout
    assert chart.read_bytes()[:8] == PNG
    data = json.loads(figures.read_text())
    assert data["pool_sensitivity"]["points"] and data["extra_devices_needed"]


def test_capacity_on_a_feasible_scenario_asks_for_nothing(tiny_city: Callable[..., Path]) -> None:
    ls = load_scenario(tiny_city("fine.toml"))
    d = diagnose(ls, load_population(ls), SolveOptions(workers=1))
    assert d.meets_deadline and d.extra_devices_needed == [] and d.short_kecamatan == []


@pytest.mark.parametrize("when", ["2011-12-30", "2012-01-02"])
def test_devices_arriving_too_late_cannot_help(tiny_city: Callable[..., Path], when: str) -> None:
    ls = load_scenario(tiny_city("zero.toml", deliveries=ONE_POOL.format(n=0), households=BUSY))
    d = diagnose(ls, load_population(ls), SolveOptions(workers=1), extra_on=dt.date.fromisoformat(when))
    late = next(e for e in d.extra_devices_needed if e.date.isoformat() == when)
    assert late.possible is False and "after the last regular day" in (late.reason or "")


def test_solve_on_medan_actual_exits_infeasible_with_the_same_numbers(tmp_path: Path) -> None:
    out = tmp_path / "actual"
    code, _o, err = run("solve", str(MEDAN / "medan-2011-actual.toml"), "--out", str(out), "--quiet", "--workers", "1")
    assert code == 4, err
    assert sorted(p.name for p in out.iterdir()) == [".ektp-opt", "diagnosis.json"]
    ls = load_scenario(MEDAN / "medan-2011-actual.toml")
    same = diagnose(ls, load_population(ls), SolveOptions(workers=1))
    written = json.loads((out / "diagnosis.json").read_text())
    assert written["earliest_completion"] == same.to_json()["earliest_completion"]
    assert written["extra_devices_needed"] == same.to_json()["extra_devices_needed"]


def test_operator_limit_is_named_when_no_device_helps(tiny_city: Callable[..., Path]) -> None:
    """Issue 15.6: one operator on one shift cannot enrol a kecamatan however many devices come:
    the answer names the operator rule and the kecamatan, not "a million devices"."""
    s = tiny_city(
        extra='[operators]\nper_kecamatan = 2\nshifts_per_operator = 4\noverrides = { "12.71.03" = 0 }\n',
        households="[households]\nseed = 7\nresidents = 900\nhouseholds = 300\n",
    )
    out = s.parent / "cap.json"
    code, _o, err = run("capacity", str(s), "--json", str(out))
    assert code == 0, err
    d = json.loads(out.read_text())
    reasons = [e.get("reason", "") for e in d["extra_devices_needed"] if not e.get("possible")]
    assert reasons and all("operators at 12.71.03" in r for r in reasons), reasons


def test_holidays_after_the_deadline_are_used_when_projecting(tiny_city: Callable[..., Path]) -> None:
    """Issue 15.7: a holiday past the deadline is accepted, and no projected date falls on it."""
    short = "[[deliveries]]\ndate = 2011-08-15\nper_kecamatan = 1\n"
    base = tiny_city(
        "base.toml", deliveries=short, households="[households]\nseed = 7\nresidents = 3000\nhouseholds = 1000\n"
    )
    code, _o, err = run("capacity", str(base), "--json", str(base.parent / "a.json"))
    assert code == 0, err
    first = json.loads((base.parent / "a.json").read_text())["earliest_completion"]["citywide"]
    assert first > "2011-09-10"  # past the deadline
    holiday = dt.date.fromisoformat(first)
    text = base.read_text().replace(
        "holidays = [2011-08-17, 2011-08-29, 2011-08-30]", f"holidays = [2011-08-17, 2011-08-29, 2011-08-30, {holiday}]"
    )
    with_holiday = base.parent / "with.toml"
    with_holiday.write_text(text)
    code, _o, err = run("capacity", str(with_holiday), "--json", str(base.parent / "b.json"))
    assert code == 0, err
    d = json.loads((base.parent / "b.json").read_text())
    assert d["earliest_completion"]["citywide"] != first  # the holiday is not a working day
    assert all(p["completion"] != first for p in d["pool_sensitivity"]["points"])

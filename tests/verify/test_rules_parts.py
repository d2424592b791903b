"""The verifier's own arithmetic, each part against this file's (issue #26): its calendar (working
days between two dates, a device's first service day, the last regular day), its great-circle
distance, its id mask, how it reads home_visits.csv, and what a report keeps of a rule. The rules
themselves are broken whole in test_every_rule.py; these are the pieces a rule stands on, where a
slip (a day off at an edge, a wrong radius) would pass the whole-plan tests."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ektp_opt.errors import InputError
from ektp_opt.inputs.scenario import LoadedScenario, load_scenario
from ektp_opt.verify.rules import Calendar, Report, _haversine, _read_home_visits, _safe_ids

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _scenario(tiny_city: Callable[..., Path], catch_up: int = 2) -> LoadedScenario:
    backlog = f"[backlog]\nreserve_per_shift = 2\ncatch_up_days = {catch_up}\nlate_rate = 0.1\n"
    return load_scenario(tiny_city(backlog=backlog))


def _working(ls: LoadedScenario) -> Callable[[dt.date], bool]:
    cal = ls.scenario.calendar
    return lambda day: WEEK[day.weekday()] in cal.workdays and day not in cal.holidays


def _days(a: dt.date, b: dt.date) -> list[dt.date]:
    return [a + dt.timedelta(n) for n in range((b - a).days + 1)]


def test_working_days_after_counts_the_days_after_up_to_and_including(tiny_city: Callable[..., Path]) -> None:
    """Every pair of dates around the campaign (Sundays and three holidays in it), both ways: the
    working days after the old date up to and including the new one, negative when earlier."""
    ls = _scenario(tiny_city)
    work = _working(ls)
    span = _days(dt.date(2011, 8, 12), dt.date(2011, 9, 12))
    old = np.array([a for a in span for _b in span], dtype="datetime64[D]")
    new = np.array([b for _a in span for b in span], dtype="datetime64[D]")

    def after(a: dt.date, b: dt.date) -> int:
        if b >= a:
            return sum(work(d) for d in _days(a, b)[1:])
        return -sum(work(d) for d in _days(b, a)[1:])

    want = [after(a, b) for a in span for b in span]
    assert Calendar(ls).working_days_after(old, new).tolist() == want


@pytest.mark.parametrize("setup", [0, 1, 3])
def test_first_service_leaves_setup_days_strictly_between(tiny_city: Callable[..., Path], setup: int) -> None:
    ls = _scenario(tiny_city)
    work = _working(ls)
    cal = Calendar(ls)
    for delivery in _days(dt.date(2011, 8, 10), dt.date(2011, 9, 5)):
        day = delivery + dt.timedelta(1)
        while not work(day) or sum(work(d) for d in _days(delivery, day)[1:-1]) < setup:
            day += dt.timedelta(1)
        assert cal.first_service(delivery, setup) == day, delivery


@pytest.mark.parametrize("catch_up", [0, 1, 2, 19, 20])
def test_last_regular_day_is_before_the_catch_up_days(tiny_city: Callable[..., Path], catch_up: int) -> None:
    """The tiny campaign has 19 working days (18 Aug to 10 Sep, Sundays and two holidays out);
    with all of them or more kept for catch-up, no day is regular: the day before the start."""
    ls = _scenario(tiny_city, catch_up)
    working = [d for d in _days(ls.scenario.start, ls.scenario.deadline) if _working(ls)(d)]
    assert len(working) == 19
    cal = Calendar(ls)
    want = working[len(working) - catch_up - 1] if catch_up < len(working) else ls.scenario.start - dt.timedelta(1)
    assert cal.last_regular == np.datetime64(want) and cal.start == np.datetime64(ls.scenario.start)


def test_great_circle_distances() -> None:
    """A degree along a meridian and along the equator is 2 pi R / 360 (R 6,371.0088 km, the
    mean radius); a degree of longitude at 60 degrees north by the spherical law of cosines."""
    degree = 2 * math.pi * 6371.0088 / 360
    assert _haversine(0, 0, 1, 0) == pytest.approx(degree, rel=1e-9)
    assert _haversine(0, 0, 0, 1) == pytest.approx(degree, rel=1e-9)
    assert _haversine(3.5, 98.6, 3.5, 98.6) == 0.0
    p = math.radians(60)
    cosines = math.acos(math.sin(p) ** 2 + math.cos(p) ** 2 * math.cos(math.radians(1))) * 6371.0088
    assert _haversine(60, 10, 60, 11) == pytest.approx(cosines, rel=1e-9)
    assert _haversine(60, 11, 60, 10) == pytest.approx(cosines, rel=1e-9)
    assert _haversine(-2, 98, 3, 99) == pytest.approx(_haversine(3, 99, -2, 98), rel=1e-12)


def test_safe_ids_mark_each_id_alone() -> None:
    ids = ["1271011001000003", "12.71.01-D001", "=HYPERLINK(1)", "-rf", "ok.1", "", "a" * 64, "a" * 65, "Ä1"]
    assert _safe_ids(ids).tolist() == [True, True, False, False, True, False, True, False, False]
    assert _safe_ids(["a", "b"]).tolist() == [True, True]
    assert _safe_ids([]).tolist() == []


def test_a_report_keeps_the_first_examples_and_the_count() -> None:
    rep = Report(Path("p"), 7)
    labels = [f"KK{i}" for i in range(7)]
    rep.add("rows", "1", np.array([True, False, True, True, True, True, True]), labels)
    rep.add("no labels", "2", np.array([True] + [False] * 6))
    rep.add("named", "3", ["a", "b", "c", "d", "e", "f"])
    rep.add("clean", "4", np.zeros(7, dtype=bool), labels)
    rep.add("clean list", "5", [])
    assert rep.checked == ["rows", "no labels", "named", "clean", "clean list"] and not rep.ok
    assert [(v.rule, v.spec, v.count, v.examples) for v in rep.violations] == [
        ("rows", "1", 6, ["KK0", "KK2", "KK3", "KK4", "KK5"]),
        ("no labels", "2", 1, []),
        ("named", "3", 6, ["a", "b", "c", "d", "e"]),
    ]


HEADER = "kk_id,date,device_id,kelurahan_code,order\n"


def test_home_visits_are_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "home_visits.csv"
    path.write_text(HEADER + "K1,2011-08-26,D1,12.71.01.1001,2\nK9,,,12.71.01.1002,\n")
    visits = _read_home_visits(path, {"K1": 4})
    assert [(v.kk, v.hh, v.date, v.device, v.kelurahan, v.order) for v in visits] == [
        ("K1", 4, dt.date(2011, 8, 26), "D1", "12.71.01.1001", 2),
        ("K9", -1, None, "", "12.71.01.1002", 0),
    ]


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("K1,2011-02-30,D1,X,1", "row 2, column date: '2011-02-30' is not an ISO date (1900..2200)"),
        ("K1,2011-08-26,D1,X,0", "row 2, column order: 0 is outside the range 1..100000"),
        ("K1,2011-08-26,D1,X,100001", "row 2, column order: 100001 is outside the range 1..100000"),
        ("K1,2011-08-26,D1,X,first", "row 2, column order: 'first' is not an integer"),
    ],
)
def test_a_broken_home_visit_cell_is_named(tmp_path: Path, line: str, said: str) -> None:
    path = tmp_path / "home_visits.csv"
    path.write_text(HEADER + line + "\n")
    with pytest.raises(InputError) as exc:
        _read_home_visits(path, {})
    assert str(exc.value) == f"{path}: {said}"
    path.write_text(HEADER + "K1,2011-08-26,D1,X,100000\n")
    assert _read_home_visits(path, {})[0].order == 100_000


def test_home_visits_missing_where_the_scenario_plans_them(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        _read_home_visits(tmp_path / "home_visits.csv", {})
    assert str(exc.value) == (
        f"{tmp_path / 'home_visits.csv'}: the scenario plans home visits but the plan has no home_visits.csv"
    )

"""The attendance sheet a re-plan reads (resolve/oldplan.py, SPEC.md "Planning again"): every
spelling it accepts, and each refusal naming its row and column."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from ektp_opt.errors import InputError
from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import load_scenario
from ektp_opt.resolve.oldplan import read_attendance

SPELLINGS = {"1": True, "yes": True, "YES": True, "True": True, "0": False, "no": False, "No": False, "FALSE": False}


def test_every_spelling_of_came_and_did_not(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    h = load_population(load_scenario(tiny_city()))
    ids = h.kk_id.tolist()
    sheet = tmp_path / "attendance.csv"
    sheet.write_text("kk_id,attended\n" + "".join(f"{ids[n]},{w}\n" for n, w in enumerate(SPELLINGS)))
    assert read_attendance(sheet, h) == {n: came for n, came in enumerate(SPELLINGS.values())}


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ("{0},maybe\n", "row 2, column attended: 'maybe' is not 1/0 or yes/no"),
        ("{0},1\nKK-NOBODY,0\n", "row 3, column kk_id: KK-NOBODY is not in the population"),
        ("{0},1\n{1},0\n{0},0\n", "row 4, column kk_id: {0} is listed twice"),
    ],
)
def test_a_bad_line_is_named(tiny_city: Callable[..., Path], tmp_path: Path, rows: str, said: str) -> None:
    h = load_population(load_scenario(tiny_city()))
    ids = h.kk_id.tolist()
    sheet = tmp_path / "attendance.csv"
    sheet.write_text("kk_id,attended\n" + rows.format(*ids))
    with pytest.raises(InputError) as exc:
        read_attendance(sheet, h)
    assert str(exc.value) == f"{sheet}: {said.format(*ids)}"


# --- the plan in force, read against a changed scenario ----------------------------------------

VISITS_HH = "[households]\nseed = 5\nresidents = 900\nhouseholds = 300\nhome_visit_share = 0.15\n"
VISITS = "[home_visits]\nportable_per_kecamatan = 1\nvisits_per_day = 4\ncluster_km = 0.0\n"


def _solved(scenario: Path, out: Path) -> Path:
    from tests.cli.test_cli import run

    code, _o, err = run("solve", str(scenario), "--out", str(out), "--workers", "1", "--quiet")
    assert code == 0, err
    return out


def _read_old(plan: Path, scenario: Path) -> None:
    from ektp_opt.problem import build_problem
    from ektp_opt.resolve.oldplan import read_old

    ls = load_scenario(scenario)
    h = load_population(ls)
    read_old(plan, build_problem(ls, h), h)


def test_a_kk_the_changed_population_lacks_is_named_by_row(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    old = _solved(tiny_city("old.toml"), tmp_path / "old")
    fewer = tiny_city("new.toml", households="[households]\nseed = 7\nresidents = 270\nhouseholds = 90\n")
    ids = set(load_population(load_scenario(fewer)).kk_id.tolist())
    rows = (old / "appointments.csv").read_text().splitlines()[1:]
    row, kk = next((n + 2, line.split(",")[0]) for n, line in enumerate(rows) if line.split(",")[0] not in ids)
    with pytest.raises(InputError) as exc:
        _read_old(old, fewer)
    assert (
        str(exc.value)
        == f"{old / 'appointments.csv'}: row {row}, column kk_id: {kk} is not in the scenario's population"
    )


def test_the_old_plans_home_visits_are_read_whole(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """Its home_visits.csv must name KK of the population, and with appointments.csv list every KK
    exactly once."""
    scenario = tiny_city("v.toml", households=VISITS_HH, extra=VISITS)
    old = _solved(scenario, tmp_path / "old")
    _read_old(old, scenario)  # as made: read without a word
    hv = old / "home_visits.csv"
    header, *lines = hv.read_text().splitlines()
    hv.write_text("\n".join([header, "KK-NOBODY,,,12.71.01.1001,", *lines]) + "\n")
    with pytest.raises(InputError) as exc:
        _read_old(old, scenario)
    assert str(exc.value) == f"{hv}: row 2, column kk_id: KK-NOBODY is not in the population"
    whole = f"{old / 'appointments.csv'}: with home_visits.csv, must list every KK of the population exactly once"
    hv.write_text("\n".join([header, *lines[1:]]) + "\n")  # one visited KK nowhere
    with pytest.raises(InputError) as exc:
        _read_old(old, scenario)
    assert str(exc.value) == whole
    hv.write_text("\n".join([header, *lines]) + "\n")  # one visited KK also at the office
    appts = old / "appointments.csv"
    first = appts.read_text().splitlines()[1].split(",")
    office = appts.read_text()
    appts.write_text(office + ",".join([lines[0].split(",")[0], *first[1:]]) + "\n")
    with pytest.raises(InputError) as exc:
        _read_old(old, scenario)
    assert str(exc.value) == whole
    head, row1, *rest = office.splitlines()  # the same, in place of an office KK: the count is right
    appts.write_text("\n".join([head, ",".join([lines[0].split(",")[0], *row1.split(",")[1:]]), *rest]) + "\n")
    with pytest.raises(InputError) as exc:
        _read_old(old, scenario)
    assert str(exc.value) == whole


def test_the_old_plans_home_visits_are_kept_row_by_row(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """Every row of home_visits.csv, as (household, date or None, device), in the file's order,
    and the mobile days (device, date) of the visits that have a date: read here from the file."""
    import csv

    from ektp_opt.problem import build_problem
    from ektp_opt.resolve.oldplan import read_old

    scenario = tiny_city("v.toml", households=VISITS_HH, extra=VISITS)
    old = _solved(scenario, tmp_path / "old")
    ls = load_scenario(scenario)
    h = load_population(ls)
    at = {k: i for i, k in enumerate(h.kk_id.tolist())}
    rows = list(csv.DictReader((old / "home_visits.csv").open()))
    assert rows and any(r["date"] for r in rows)
    plan = read_old(old, build_problem(ls, h), h)
    day = [dt.date.fromisoformat(r["date"]) if r["date"] else None for r in rows]
    assert plan.visit_rows == [(at[r["kk_id"]], d, r["device_id"]) for r, d in zip(rows, day, strict=True)]
    assert plan.visit_days == [(r["device_id"], d) for r, d in zip(rows, day, strict=True) if d is not None]
    assert plan.visited.sum() == len(rows)


@pytest.mark.parametrize(
    ("deliveries", "why"),
    [
        ("[[deliveries]]\ndate = 2011-08-15\nper_kecamatan = 1\n", "has no such device"),
        (
            "[[deliveries]]\ndate = 2011-08-17\nper_kecamatan = 1\n\n[[deliveries]]\ndate = 2011-08-22\npool = 2\n",
            "makes {device} available only from 2011-08-19",
        ),
    ],
)
def test_a_change_that_contradicts_what_happened_is_refused(
    tiny_city: Callable[..., Path], tmp_path: Path, deliveries: str, why: str
) -> None:
    """As of 30 August, a scenario without the pool (its devices served from 24 August), or with
    the first devices delivered two days later than they came (ready 19 August, not 18): exit 3
    naming the device and the first appointment it contradicts."""
    from tests.cli.test_cli import run

    busy = "[households]\nseed = 7\nresidents = 1500\nhouseholds = 500\n"  # the pool serves before 30 August
    old = _solved(tiny_city("old.toml", households=busy), tmp_path / "old")
    changed = tiny_city("changed.toml", deliveries=deliveries, households=busy)
    args = [
        "resolve",
        "--plan",
        str(old),
        "--scenario",
        str(changed),
        "--as-of",
        "2011-08-30",
        "--out",
        str(tmp_path / "new"),
    ]
    code, _o, err = run(*args)
    rows = [line.split(",") for line in (old / "appointments.csv").read_text().splitlines()]
    col = {name: n for n, name in enumerate(rows[0])}
    devices = {line.split(",")[0]: line.split(",")[3] for line in (old / "devices.csv").read_text().splitlines()[1:]}
    late = "2011-08-19" if "available" in why else "9999"
    device, date = next(
        (r[col["device_id"]], r[col["date"]])
        for r in rows[1:]
        if r[col["date"]] < "2011-08-30"
        and (devices[r[col["device_id"]]] >= "2011-08-24" if "no such" in why else r[col["date"]] < late)
    )
    assert code == 3 and not (tmp_path / "new").exists()
    assert err.strip().endswith(
        f"{changed}: deliveries: contradicts what already happened: device {device} enrolled KK on {date} "
        f"(before as-of), but the changed scenario {why.format(device=device)}"
    ), err


# --- what a re-plan refuses before it starts, each in its words (exit 3, nothing written) ---------

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _resolve(old: Path, scenario: Path, out: Path, *extra: str) -> tuple[int, str]:
    from tests.cli.test_cli import run

    code, _o, err = run("resolve", "--plan", str(old), "--scenario", str(scenario), "--out", str(out), *extra)
    return code, err.strip().splitlines()[-1].removeprefix("error: ")  # the last line: after the progress


def _last_regular(ls_path: Path) -> str:
    """The tiny city's last regular day, counted here: two catch-up working days before the deadline."""
    sc = load_scenario(ls_path).scenario

    def working(d: dt.date) -> bool:
        return WEEK[d.weekday()] in sc.calendar.workdays and d not in sc.calendar.holidays

    day, left = sc.deadline, sc.backlog.catch_up_days
    while left or not working(day):
        left -= working(day)
        day -= dt.timedelta(1)
    return str(day)


def test_as_of_after_the_last_regular_day_leaves_nothing_to_replan(
    tiny_city: Callable[..., Path], tmp_path: Path
) -> None:
    scenario = tiny_city("s.toml")
    old = _solved(scenario, tmp_path / "old")
    last = _last_regular(scenario)
    after = str(load_scenario(scenario).scenario.deadline)
    assert _resolve(old, scenario, tmp_path / "late", "--as-of", after) == (
        3,
        f"--as-of: {after} is after the last regular day {last}: nothing is left to re-plan",
    )
    assert _resolve(old, scenario, tmp_path / "ok", "--as-of", last)[0] == 0  # the last regular day itself


def test_a_past_appointment_on_a_day_that_is_no_longer_worked(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """The changed scenario makes 19 August a holiday, after it was worked: the first KK (in the
    population's order) booked that day is named."""
    old = _solved(tiny_city("s.toml"), tmp_path / "old")
    calendar = (
        '[calendar]\nworkdays = ["mon", "tue", "wed", "thu", "fri", "sat"]\n'
        "holidays = [2011-08-17, 2011-08-19, 2011-08-29, 2011-08-30]\n"
    )
    changed = tiny_city("changed.toml", calendar=calendar)
    h = load_population(load_scenario(changed))
    on_19 = {
        line.split(",")[0] for line in (old / "appointments.csv").read_text().splitlines() if ",2011-08-19," in line
    }
    kk = next(k for k in h.kk_id.tolist() if k in on_19)
    assert _resolve(old, changed, tmp_path / "new", "--as-of", "2011-08-25") == (
        3,
        f"{old / 'appointments.csv'}: kk_id {kk}: past appointment on 2011-08-19 is not a regular working day "
        "of the changed scenario",
    )


def test_attendance_only_for_appointments_before_as_of(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    scenario = tiny_city("s.toml")
    old = _solved(scenario, tmp_path / "old")
    rows = [line.split(",") for line in (old / "appointments.csv").read_text().splitlines()[1:]]
    late = next(r for r in rows if r[4] >= "2011-08-22")
    sheet = tmp_path / "attendance.csv"
    sheet.write_text(f"kk_id,attended\n{late[0]},0\n")
    assert _resolve(old, scenario, tmp_path / "new", "--as-of", "2011-08-22", "--attendance", str(sheet)) == (
        3,
        f"--attendance: kk_id {late[0]}: appointment on {late[4]} is not before as-of",
    )


def test_the_plan_to_replan_must_be_a_plan_that_keeps_the_rules(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """A folder without summary.json is no plan; one whose rules are broken is named with the
    first three rules it breaks; one whose scenario is gone is taken as it is."""
    import json

    scenario = tiny_city("s.toml")
    old = _solved(scenario, tmp_path / "old")
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "appointments.csv").write_text((old / "appointments.csv").read_text())
    code, said = _resolve(bare, scenario, tmp_path / "n1", "--as-of", "2011-08-22")
    assert (code, said) == (3, f"{bare}: not a plan folder (no summary.json naming its scenario)")
    summary = json.loads((old / "summary.json").read_text())
    summary["residents"] += 1  # a figure the plan does not show
    summary["objectives"]["waiting"]["status"] = "PROVEN"  # a claim it cannot make
    (old / "summary.json").write_text(json.dumps(summary))
    rows = (old / "appointments.csv").read_text().splitlines()
    first = rows[1].split(",")
    shift_nine = ",".join([*first[:5], "9", *first[6:]])
    devices = (old / "devices.csv").read_text().splitlines()
    (old / "devices.csv").write_text(
        "\n".join([*devices, devices[1].replace(devices[1].split(",")[1], "12.71.03", 1)]) + "\n"
    )
    (old / "appointments.csv").write_text("\n".join([rows[0], shift_nine, *rows[2:]]) + "\n")
    code, said = _resolve(old, scenario, tmp_path / "n2", "--as-of", "2011-08-22")
    from ektp_opt.verify import verify_plan

    ls = load_scenario(scenario)
    names = [v.rule for v in verify_plan(old, ls, load_population(ls)).violations]
    assert len(names) >= 4
    assert (code, said) == (
        3,
        f"{old}: the plan to re-plan breaks hard rules ({', '.join(names[:3])}); see `ektp-opt verify`",
    )
    summary["scenario_file"] = str(tmp_path / "gone.toml")
    (old / "summary.json").write_text(json.dumps(summary))
    code, said = _resolve(old, scenario, tmp_path / "n3", "--as-of", "2011-08-22")
    # not checked: its scenario is gone
    assert not said.startswith(f"{old}: the plan to re-plan breaks hard rules"), said


def test_a_kecamatan_the_scenario_lacks_is_named(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """A plan in force whose own scenario is gone is taken as it is (not verified): a device or a
    site at a kecamatan the scenario does not have is refused, naming the file and the field."""
    scenario = tiny_city("s.toml")
    old = _solved(scenario, tmp_path / "old")
    moved = scenario.rename(scenario.with_name("moved.toml"))  # the old plan's scenario is gone
    devices = old / "devices.csv"
    header, first, *rest = devices.read_text().splitlines()
    kec = first.split(",")[1]
    devices.write_text("\n".join([header, first.replace(f",{kec},", ",12.71.99,", 1), *rest]) + "\n")
    with pytest.raises(InputError) as exc:
        _read_old(old, moved)
    assert str(exc.value) == f"{devices}: device {first.split(',')[0]}: kecamatan 12.71.99 is not in the scenario"
    devices.write_text("\n".join([header, first, *rest]) + "\n")
    appts = old / "appointments.csv"
    head, *lines = appts.read_text().splitlines()
    col = head.split(",").index("site_kecamatan")
    cells = lines[-1].split(",")
    cells[col] = "12.71.99"
    appts.write_text("\n".join([head, *lines[:-1], ",".join(cells)]) + "\n")
    assert _resolve(old, moved, tmp_path / "new", "--as-of", "2011-08-22") == (
        3,
        f"{appts}: site_kecamatan: names a kecamatan not in the scenario",
    )
    assert not (tmp_path / "new").exists()


def test_a_past_appointment_at_another_office_than_its_device(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """A plan in force (its scenario gone, so taken as it is) whose first appointment before as-of
    says it was at another kecamatan than the one its device serves in the scenario: the record
    and the scenario disagree, exit 3 naming the device and where the scenario places it."""
    scenario = tiny_city("s.toml")
    old = _solved(scenario, tmp_path / "old")
    moved = scenario.rename(scenario.with_name("moved.toml"))
    appts = old / "appointments.csv"
    head, *lines = appts.read_text().splitlines()
    col = {name: n for n, name in enumerate(head.split(","))}
    n, cells = next((n, line.split(",")) for n, line in enumerate(lines) if line.split(",")[col["date"]] < "2011-08-22")
    where = cells[col["site_kecamatan"]]
    cells[col["site_kecamatan"]] = "12.71.03" if where != "12.71.03" else "12.71.01"
    lines[n] = ",".join(cells)
    appts.write_text("\n".join([head, *lines]) + "\n")
    code, said = _resolve(old, moved, tmp_path / "new", "--as-of", "2011-08-22")
    assert (code, said) == (
        3,
        f"{moved}: deliveries: contradicts what already happened: device {cells[col['device_id']]} enrolled KK on "
        f"{cells[col['date']]} (before as-of), but the changed scenario places {cells[col['device_id']]} in {where}",
    )

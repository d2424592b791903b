"""The attendance sheet a re-plan reads (resolve/oldplan.py, SPEC.md "Planning again"): every
spelling it accepts, and each refusal naming its row and column."""

from __future__ import annotations

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
    appts.write_text(appts.read_text() + ",".join([lines[0].split(",")[0], *first[1:]]) + "\n")
    with pytest.raises(InputError) as exc:
        _read_old(old, scenario)
    assert str(exc.value) == whole


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

"""Claims a deliberate bug once slipped past (issue #26): levels 1-2 proven on a shipped city,
the notice window's last day, a leftover that is not ektp-opt's. (Every rule broken alone and
named alone is tests/verify/test_every_rule.py.)"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from ektp_opt.inputs.scenario import load_scenario
from tests.verify.test_verify import _read

BUSY = "[households]\nseed = 7\nresidents = 1500\nhouseholds = 500\n"


def test_levels_one_and_two_are_proven_on_a_shipped_city(medan_10k_plan: Path) -> None:
    """A seat too many in the level-2 model made waiting FEASIBLE with a wrong bound, unnoticed."""
    levels = json.loads((medan_10k_plan / "summary.json").read_text())["objectives"]
    for name in ("completion", "waiting"):
        assert levels[name]["status"] == "OPTIMAL" and levels[name]["value"] == levels[name]["bound"], levels


def test_the_notice_windows_last_day_keeps_its_appointments(medan_10k_plan: Path, tmp_path: Path) -> None:
    """With a three-day notice window, KK booked on its last day keep their appointments (the pool
    slips, no cell of theirs loses seats). The window's days are counted here from the scenario's
    own calendar, not read from the re-plan's summary."""
    from tests.cli.test_cli import run
    from tests.conftest import MEDAN

    text = (MEDAN / "medan-10k.toml").read_text().replace("date = 2011-09-05", "date = 2011-09-12")
    slipped = tmp_path / "slip.toml"
    slipped.write_text(text.replace('"kecamatan.csv"', f'"{MEDAN}/kecamatan.csv"').replace(
        '"kelurahan.csv"', f'"{MEDAN}/kelurahan.csv"'))  # fmt: skip
    as_of = dt.date(2011, 8, 22)  # a Monday; no holiday in the next days
    window = [as_of + dt.timedelta(days=i) for i in range(3)]  # Mon, Tue, Wed: working days
    out = tmp_path / "new"
    code, _o, err = run("resolve", "--plan", str(medan_10k_plan), "--scenario", str(slipped), "--as-of",
                        str(as_of), "--notice-days", "3", "--out", str(out), "--workers", "1", "--quiet")  # fmt: skip
    assert code == 0, err
    old = {r["kk_id"]: r for r in _read(medan_10k_plan / "appointments.csv")}
    new = {r["kk_id"]: r for r in _read(out / "appointments.csv")}
    on_last = [k for k, r in old.items() if r["date"] == str(window[-1])]
    assert on_last, "some KK are booked on the window's last day"
    for k in on_last:
        assert (new[k]["date"], new[k]["shift"]) == (old[k]["date"], old[k]["shift"]), k


def test_forced_moves_on_the_windows_last_day_say_so(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """A device for Alpha, in service from 23 August, slips two weeks; re-planned on Monday 22
    August with three days' notice: KK booked on it on the 23rd and the 24th (the window's last
    day) must move, and each letter says it is inside the notice window. The window's days are
    counted here from the scenario's calendar, not read from the re-plan."""
    from tests.cli.test_cli import run
    from tests.resolve.test_resolve_cap import SLIP_HEAD

    late = "[[deliveries]]\ndate = 2011-08-15\nper_kecamatan = 1\n\n"
    late += '[[deliveries]]\ndate = {}\nkecamatan = "12.71.01"\ncount = 1\n'
    before = tiny_city("before.toml", head=SLIP_HEAD, deliveries=late.format("2011-08-22"), households=BUSY)
    after = tiny_city("after.toml", head=SLIP_HEAD, deliveries=late.format("2011-09-05"), households=BUSY)
    old, new = tmp_path / "old", tmp_path / "new"
    assert run("solve", str(before), "--out", str(old), "--workers", "1", "--quiet")[0] == 0
    as_of = dt.date(2011, 8, 22)
    cal = load_scenario(after).scenario.calendar
    window: list[str] = []
    day = as_of
    while len(window) < 3:
        if day.strftime("%a").lower() in cal.workdays and day not in cal.holidays:
            window.append(str(day))
        day += dt.timedelta(days=1)
    code, _o, err = run("resolve", "--plan", str(old), "--scenario", str(after), "--as-of", str(as_of),
                        "--notice-days", "3", "--out", str(new), "--workers", "1", "--quiet")  # fmt: skip
    assert code == 0, err
    was = {r["kk_id"]: r["date"] for r in _read(old / "appointments.csv")}
    moved = [
        r for r in _read(new / "changes.csv") if (r["old_date"], r["old_shift"]) != (r["new_date"], r["new_shift"])
    ]
    why = {r["kk_id"]: r["reason"] for r in moved}  # (a KK only handed another device of its shift is no move)
    forced = [k for k in why if was[k] in window]
    assert any(was[k] == window[-1] for k in forced), "KK move from the window's last day"
    assert all("inside the notice window" in why[k] for k in forced), [why[k] for k in forced][:3]
    assert json.loads((new / "summary.json").read_text())["resolve"]["forced_in_notice_window"] == len(forced)


def test_a_leftover_that_is_not_ektp_opts_is_never_touched(tmp_path: Path) -> None:
    """A folder named like a killed run's old plan but without ektp-opt's marker is somebody's:
    it is neither put in place of the target nor deleted."""
    from ektp_opt.safety.atomic import atomic_folder

    target = tmp_path / "plan"
    theirs = tmp_path / ".plan.ektp-old-999999"  # no such process
    theirs.mkdir()
    (theirs / "thesis.docx").write_text("mine")
    with atomic_folder(target) as tmp:
        (tmp / "appointments.csv").write_text("new\n")
    assert (target / "appointments.csv").read_text() == "new\n"
    assert (theirs / "thesis.docx").read_text() == "mine"

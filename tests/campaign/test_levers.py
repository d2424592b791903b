"""`campaign forecast --target-p` (issue #29): what would put a late campaign back on track, each
lever alone and the cheapest mix, judged by the forecast itself."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from ektp_opt.campaign.levers import Levers, allocate
from tests.campaign.conftest import started
from tests.cli.test_cli import run

AS_OF = "2011-10-01"


@pytest.fixture(scope="module")
def slow(plan10k: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Six weeks of a field at 45 a device-day, a tenth of device-shifts down, a quarter missing."""
    tmp = tmp_path_factory.mktemp("slow")
    log = tmp / "log"
    args = ["--throughput", "45", "--no-show", "0.25", "--down-rate", "0.1", "--seed", "5"]
    assert (
        run("campaign", "simulate-field", "--plan", str(plan10k), "--until", "2011-09-30", "--out", str(log), *args)[0]
        == 0
    )
    db = started(plan10k, f"sqlite:///{tmp / 'c.db'}")
    files = [str(log / n) for n in ("enrolments.csv", "device_shifts.csv", "invitations.csv")]
    assert run("campaign", "record", *files, "--db", db, "--as-of", "2011-09-30")[0] == 0
    return db


def levers_json(db: str, tmp: Path, target: str) -> dict:  # type: ignore[type-arg]
    out = tmp / f"f{target}.json"
    code, _o, err = run(
        "campaign", "forecast", "--db", db, "--as-of", AS_OF, "--runs", "400", "--target-p", target, "--json", str(out)
    )
    assert code == 0, err
    return json.loads(out.read_text())


def test_each_lever_alone_and_the_cheapest_mix(slow: str, tmp_path: Path) -> None:
    fc = levers_json(slow, tmp_path, "0.97")
    lv = fc["levers"]
    assert lv["already"] is False and lv["p_on_time_now"] < 0.97
    assert lv["from"] >= (dt.date.fromisoformat(AS_OF) + dt.timedelta(days=10)).isoformat()
    options = {k: lv[k] for k in ("devices", "catch_up_days", "extra_shift", "home_teams")}
    assert options["extra_shift"] == {"available": False, "why": "every kecamatan already works 5 shifts"}
    enough = [o for o in options.values() if o.get("enough")]
    assert enough, options  # some lever reaches the target
    for o in enough:
        assert o["p_on_time"] >= 0.97 and o["amount"] > 0 and o["device_days"] > 0
    if options["devices"].get("where"):
        assert sum(options["devices"]["where"].values()) == options["devices"]["amount"]
    mix = lv["mix"]
    assert mix["enough"] and mix["p_on_time"] >= 0.97
    assert mix["device_days"] <= min(o["device_days"] for o in enough)  # cheapest: never dearer than one alone


def test_a_campaign_already_on_track_needs_nothing(slow: str, tmp_path: Path) -> None:
    lv = levers_json(slow, tmp_path, "0.01")["levers"]
    assert lv["already"] is True and lv["p_on_time_now"] >= 0.01
    assert "mix" not in lv


def test_devices_go_where_the_families_are_left() -> None:
    assert allocate(10, np.array([0.0, 3.0, 1.0])) == (0, 8, 2)  # largest remainders: 7.5 -> 8, 2.5 -> 2
    assert allocate(3, np.zeros(3)) == (1, 1, 1)  # nothing known: evenly
    assert allocate(0, np.array([1.0, 2.0])) == (0, 0)
    assert Levers().none and not Levers(home_teams=1).none


def test_more_devices_book_the_families_earlier_never_later(slow: str) -> None:
    from ektp_opt.api import _campaign_on
    from ektp_opt.campaign.forecast import prepare, rebooked

    snap, ls, status = _campaign_on(slow, dt.date.fromisoformat(AS_OF))
    prep = prepare(snap, status, ls, runs=20, seed=0)
    start = 12
    same = rebooked(prep, Levers(start=start))
    assert same[0] is prep.booked  # nothing added: the plan's own bookings
    booked, unlettered = rebooked(prep, Levers(devices=(2,) * len(prep.codes), start=start))
    assert (booked[:, :start] == prep.booked[:, :start]).all()  # before the start, untouched
    assert (booked.sum(axis=1) == prep.booked.sum(axis=1)).all()  # every family still booked once
    assert (booked[:, start:].cumsum(axis=1) >= prep.booked[:, start:].cumsum(axis=1)).all()  # never later
    assert (unlettered <= booked).all()


def test_past_the_deadline_no_lever_is_offered(slow: str, tmp_path: Path) -> None:
    """A campaign still recording after its deadline: P(on time) is settled, and it says so."""
    out = tmp_path / "late.json"
    code, stdout, err = run(
        "campaign", "forecast", "--db", slow, "--as-of", "2012-01-10", "--runs", "100", "--target-p", "0.9",
        "--json", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert "deadline has passed" in stdout
    assert json.loads(out.read_text())["levers"]["deadline_passed"] is True

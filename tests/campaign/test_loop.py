"""The campaign loop (issue #28): a field simulated under known conditions is recorded, `status`
recovers those conditions within its intervals, and `replan` plans at the measured pace."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from tests.campaign.conftest import AS_OF, archives_hold, started
from tests.cli.test_cli import run
from tests.conftest import KECAMATAN, KELURAHAN, scenario_text


def field_log(plan: Path, out: Path, *conditions: str, until: str = AS_OF) -> Path:
    code, _o, err = run(
        "campaign", "simulate-field", "--plan", str(plan), "--until", until, "--out", str(out), *conditions, "--quiet"
    )
    assert code == 0, err
    return out


def record_all(log: Path, db: str, as_of: str = AS_OF) -> None:
    files = [str(log / n) for n in ("enrolments.csv", "device_shifts.csv", "invitations.csv")]
    code, _o, err = run("campaign", "record", *files, "--db", db, "--as-of", as_of, "--quiet")
    assert code == 0, err


def status_json(db: str, tmp_path: Path, as_of: str = AS_OF) -> dict:  # type: ignore[type-arg]
    out = tmp_path / f"status-{as_of}.json"
    code, _o, err = run("campaign", "status", "--db", db, "--as-of", as_of, "--json", str(out), "--quiet")
    assert code == 0, err
    return json.loads(out.read_text())


def close(est: dict, truth: float) -> bool:  # type: ignore[type-arg]
    """Within three standard errors (the 90 % interval is 3.29 of them wide): a right estimator
    misses this about once in 370 draws, a biased one misses it every time."""
    se = (est["high"] - est["low"]) / (2 * 1.6449)
    return abs(est["estimate"] - truth) <= 3 * se


def test_status_recovers_downtime_and_no_shows(plan10k: Path, db: str, tmp_path: Path) -> None:
    """Devices fast enough never to turn anyone away: the down share and the no-show rate
    measured are the ones simulated, inside their 90 % intervals."""
    log = field_log(
        plan10k, tmp_path / "log", "--throughput", "200", "--down-rate", "0.08", "--no-show", "0.25", "--seed", "11"
    )
    record_all(log, started(plan10k, db))
    p = status_json(db, tmp_path)["parameters"]
    assert close(p["down_share"], 0.08), p["down_share"]
    assert close(p["no_show"], 0.25), p["no_show"]
    assert p["no_show"]["observations"] > 1000


def test_status_measures_a_slow_pace(plan10k: Path, db: str, tmp_path: Path) -> None:
    """Devices slower than the plan (60 a day against 110 booked): the pace status gives is the
    residents enrolled per up device-shift the plan had filled, per device-day, counted here from
    the simulated records on their own; and it is well below the nominal 120 (families come whole,
    so a device-shift ends with a few seats no waiting family fits)."""
    log = field_log(
        plan10k, tmp_path / "log", "--throughput", "60", "--down-rate", "0.05", "--no-show", "0.05", "--seed", "5"
    )
    record_all(log, started(plan10k, db))
    p = status_json(db, tmp_path)["parameters"]["residents_per_device_day"]
    booked: Counter[tuple[str, str, str]] = Counter()
    for r in csv.DictReader((plan10k / "appointments.csv").open()):
        booked[(r["device_id"], r["date"], r["shift"])] += int(r["members"])
    up = {
        (r["device_id"], r["date"], r["shift"])
        for r in csv.DictReader((log / "device_shifts.csv").open())
        if r["status"] == "up" and r["date"] < AS_OF
    }
    served: Counter[tuple[str, str, str]] = Counter()
    for r in csv.DictReader((log / "enrolments.csv").open()):
        served[(r["device_id"], r["date"], r["shift"])] += int(r["residents"])
    full = [served[k] * 5 for k in up if booked[k] >= 120 // 5 - 2]  # medan-10k: 5 shifts, 2 backlog seats
    assert len(full) == p["observations"] > 100
    assert abs(p["estimate"] - sum(full) / len(full)) < 1e-3
    assert p["low"] < p["estimate"] < p["high"] < 60


def test_replan_plans_at_the_measured_pace(plan10k: Path, db: str, tmp_path: Path) -> None:
    """After a week at 60 a device-day, the next version books no device-shift from as-of on beyond
    the calibrated capacity, keeps every appointment before as-of, lists exactly the KK whose
    appointment changed, verifies on its own (its measured scenario inside it), and is stored."""
    as_of = "2011-08-25"
    log = field_log(
        plan10k, tmp_path / "log", "--throughput", "60", "--no-show", "0.1", "--seed", "2", until="2011-08-24"
    )
    record_all(log, started(plan10k, db), as_of)
    out = tmp_path / "v2"
    code, _o, err = run(
        "campaign", "replan", "--db", db, "--as-of", as_of, "--out", str(out), "--workers", "1", "--quiet"
    )
    assert code == 0, err
    info = json.loads((out / "summary.json").read_text())
    cal = info["campaign"]["calibration"]
    assert cal["capacity_per_day"] < cal["nominal_capacity_per_day"] == 120
    assert run("verify", str(out))[0] == 0  # the scenario it names is in the folder
    old = {r["kk_id"]: r for r in csv.DictReader((plan10k / "appointments.csv").open())}
    new = {r["kk_id"]: r for r in csv.DictReader((out / "appointments.csv").open())}
    load: Counter[tuple[str, str, str]] = Counter()
    for r in new.values():
        if r["date"] >= as_of:
            load[(r["device_id"], r["date"], r["shift"])] += int(r["members"])
        else:
            assert (r["date"], r["shift"], r["device_id"]) == (
                old[r["kk_id"]]["date"],
                old[r["kk_id"]]["shift"],
                old[r["kk_id"]]["device_id"],
            )
    assert max(load.values()) <= cal["capacity_per_day"] // 5 - 2  # medan-10k: 5 shifts, 2 backlog seats
    moved = {
        k
        for k in new
        if (new[k]["date"], new[k]["shift"], new[k]["device_id"])
        != (old[k]["date"], old[k]["shift"], old[k]["device_id"])
    }
    rebooked = {r["kk_id"] for r in csv.DictReader((out / "backlog.csv").open()) if r["date"]}
    listed = {r["kk_id"] for r in csv.DictReader((out / "changes.csv").open())}
    assert listed == moved | rebooked and moved and rebooked
    st = status_json(db, tmp_path, "2011-08-26")
    assert st["plan_version"] == 2
    archives_hold(db, {1: plan10k, 2: out})


@pytest.fixture
def tight(tmp_path: Path) -> Path:
    """A tiny city planned to its last days: nothing to spare."""
    (tmp_path / "kecamatan.csv").write_text(KECAMATAN)
    (tmp_path / "kelurahan.csv").write_text(KELURAHAN)
    head = scenario_text().split("[calendar]")[0].replace("deadline = 2011-09-10", "deadline = 2011-09-06")
    text = scenario_text(head=head, households="[households]\nseed = 7\nresidents = 1900\nhouseholds = 630\n")
    (tmp_path / "s.toml").write_text(text)
    out = tmp_path / "plan"
    assert run("solve", str(tmp_path / "s.toml"), "--out", str(out), "--workers", "1", "--quiet")[0] == 0
    return out


def test_replan_that_cannot_meet_the_deadline_at_the_measured_pace_is_exit_4(
    tight: Path, db: str, tmp_path: Path
) -> None:
    log = field_log(
        tight, tmp_path / "log", "--throughput", "30", "--down-rate", "0.1", "--no-show", "0.2", until="2011-08-26"
    )
    record_all(log, started(tight, db), "2011-08-26")
    out = tmp_path / "v2"
    code, _o, err = run(
        "campaign", "replan", "--db", db, "--as-of", "2011-08-27", "--out", str(out), "--workers", "1", "--quiet"
    )
    assert code == 4, err
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["diagnosis.json"]
    assert json.loads((out / "diagnosis.json").read_text())["proof"]["model"]
    assert status_json(db, tmp_path, "2011-08-29")["plan_version"] == 1  # nothing stored


def test_new_letters_go_only_to_the_kk_whose_appointment_changed(plan10k: Path, tmp_path: Path) -> None:
    """After a campaign re-plan, `invitations --changed-only` prints a letter for each KK of the
    kelurahan listed in changes.csv with a new date, at that date (a re-booked KK at its backlog
    seat), and for no other."""
    db = f"sqlite:///{tmp_path / 'c.db'}"
    log = field_log(
        plan10k, tmp_path / "log", "--throughput", "60", "--no-show", "0.1", "--seed", "2", until="2011-08-24"
    )
    record_all(log, started(plan10k, db), "2011-08-25")
    out = tmp_path / "v2"
    args = ["--db", db, "--as-of", "2011-08-25", "--out", str(out), "--workers", "1", "--quiet"]
    assert run("campaign", "replan", *args)[0] == 0
    want = {r["kk_id"]: r["new_date"] for r in csv.DictReader((out / "changes.csv").open()) if r["new_date"]}
    kel = Counter(r["kelurahan_code"] for r in csv.DictReader((out / "appointments.csv").open()) if r["kk_id"] in want)
    kelurahan = kel.most_common(1)[0][0]
    sheet = tmp_path / "letters.csv"
    code, _o, err = run(
        "invitations", str(out), "--kelurahan", kelurahan, "--changed-only", "--format", "csv", "--out", str(sheet)
    )
    assert code == 0, err
    got = {r["kk_id"]: r["date"] for r in csv.DictReader(sheet.open())}
    assert got == {k: d for k, d in want.items() if k in got} and len(got) == kel[kelurahan]
    code, _o, err = run(
        "invitations", str(plan10k), "--kelurahan", kelurahan, "--changed-only", "--out", str(tmp_path / "x.pdf")
    )
    assert code == 3 and "re-plan" in err, err

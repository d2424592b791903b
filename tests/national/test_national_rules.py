"""National rules N1-N3, each broken alone and named alone (issue #26): one national plan is
made once (or taken from EKTP_TEST_PLANS in the mutation run) and each test breaks a copy."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import prebuilt
from tests.verify.test_verify import _read, _write


@pytest.fixture(scope="module")
def national_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("ray")
    from ektp_opt.national.run import NationalOptions, run_national
    from ektp_opt.national.scenario import load_national
    from tests.national.test_national import SMALL

    def build(root: Path) -> None:
        run_national(load_national(SMALL), root / "n", NationalOptions(cpus=2, time_limit=60.0))

    return prebuilt("national", build, tmp_path_factory.mktemp("national")) / "n"


def _national_broken(folder: Path) -> list[str]:
    from ektp_opt.national.scenario import load_national
    from ektp_opt.national.verify import national_rules
    from tests.national.test_national import SMALL

    master = json.loads((folder / "master.json").read_text())
    return national_rules(load_national(SMALL), folder, master)


def _national_named(folder: Path) -> list[str]:
    return [b[:2] for b in _national_broken(folder)]


def test_the_plan_as_made_breaks_no_national_rule(national_plan: Path) -> None:
    assert _national_broken(national_plan) == []


def _add_device(devices: Path, kecamatan: str, delivery: str) -> None:
    rows = _read(devices)
    like = next(r for r in rows if r["kecamatan"] == kecamatan and r["delivery_date"] == delivery)
    _write(devices, [*rows, {**like, "device_id": f"{kecamatan}-X001"}])


def test_national_rule_n1_alone(national_plan: Path, tmp_path: Path) -> None:
    """A kab/kota plan folder gone: N1 is named, and no other national rule."""
    out = tmp_path / "n"
    shutil.copytree(national_plan, out)
    shutil.rmtree(out / "plans" / "75.71")
    assert _national_broken(out) == ["N1 1 kab/kota without a plan, e.g. 75.71"]
    shutil.rmtree(out / "plans" / "75.01")
    assert _national_broken(out) == ["N1 2 kab/kota without a plan, e.g. 75.01, 75.71"]


def test_national_rule_n2_alone(national_plan: Path, tmp_path: Path) -> None:
    """One device more than the wave shipped, in the master and in the city plan alike: N2 (at the
    master and in the plans), and not N3, since plan and master agree."""
    out = tmp_path / "n"
    shutil.copytree(national_plan, out)
    master = json.loads((out / "master.json").read_text())
    code, kec = next((c, v) for c, v in master["kecamatan"].items() if int(v["waves"][0]) > 0)
    from ektp_opt.national.scenario import load_national
    from tests.national.test_national import SMALL

    ln = load_national(SMALL)
    shipped = ln.scenario.waves[0].count
    placed = sum(int(v["waves"][0]) for v in master["kecamatan"].values())
    kec["waves"][0] = int(kec["waves"][0]) + shipped - placed + 1
    (out / "master.json").write_text(json.dumps(master))
    province = next(k.province for k in ln.kabkota if k.code == kec["kabkota"])
    devices = out / "plans" / kec["kabkota"] / "devices.csv"
    rows = _read(devices)
    like = next(
        r for r in rows if r["kecamatan"] == code and r["delivery_date"] == str(ln.scenario.waves[0].arrives(province))
    )
    extra = [{**like, "device_id": f"{code}-X{n:03d}"} for n in range(shipped - placed + 1)]
    _write(devices, [*rows, *extra])
    date = ln.scenario.waves[0].date
    assert _national_broken(out) == [
        f"N2 wave 1 ({date}): {shipped + 1} devices placed, {shipped} shipped",
        f"N2 wave 1: the plans use {shipped + 1} devices, {shipped} shipped",
    ]


def test_national_rule_n3_alone(national_plan: Path, tmp_path: Path) -> None:
    """A city plan whose devices differ from what the master sent it (one device moved to another
    kecamatan of the same kab/kota): N3, and not N2, since the totals agree."""
    out = tmp_path / "n"
    shutil.copytree(national_plan, out)
    devices = next(
        p for p in sorted((out / "plans").glob("*/devices.csv")) if len({r["kecamatan"] for r in _read(p)}) > 1
    )
    rows = _read(devices)
    lost, day = rows[0]["kecamatan"], rows[0]["delivery_date"]
    gained = next(r["kecamatan"] for r in rows if r["kecamatan"] != lost)
    had = {k: sum(r["kecamatan"] == k and r["delivery_date"] == day for r in rows) for k in (lost, gained)}
    rows[0]["kecamatan"] = gained
    _write(devices, rows)
    said = {  # the kecamatan that lost the device and the one that gained it; the smaller code first
        lost: f"{lost} {day}: {had[lost] - 1} in the plan, {had[lost]} from the master",
        gained: f"{gained} {day}: {had[gained] + 1} in the plan, {had[gained]} from the master",
    }
    assert _national_broken(out) == [f"N3 2 kecamatan-deliveries differ from the master, e.g. {said[min(said)]}"]


def test_a_folder_that_is_not_a_national_plan_is_named(tmp_path: Path) -> None:
    """master.json missing, not JSON, or without its kecamatan: one line naming the file."""
    from ektp_opt.errors import InputError
    from ektp_opt.national.verify import read_master

    master = tmp_path / "master.json"
    said = []
    for text in (None, "{not json", '{"kecamatan": []}', "[]"):
        if text is not None:
            master.write_text(text)
        with pytest.raises(InputError) as exc:
            read_master(tmp_path)
        said.append(str(exc.value))
    assert said == [
        f"{master}: not found: is this a national output folder (ektp-opt national plan)?",
        f"{master}: not valid JSON (Expecting property name enclosed in double quotes)",
        f"{master}: kecamatan: missing",
        f"{master}: kecamatan: missing",
    ]


def test_each_city_is_verified_from_its_own_files(national_plan: Path, tmp_path: Path) -> None:
    """A city checked alone, as a Ray task checks it: clean as made; a KK taken out is named with
    its count; a folder that is no plan is one line, not a crash."""
    from ektp_opt.national.verify import _verify_city

    city = national_plan / "plans" / "75.71"
    scenario = str(national_plan / "scenarios" / "75.71" / "city.toml")
    rows = len(_read(city / "appointments.csv"))
    assert _verify_city(str(city), scenario) == {"ok": True, "rows": rows, "broken": []}
    broken = tmp_path / "75.71"
    shutil.copytree(city, broken)
    appts = _read(broken / "appointments.csv")
    _write(broken / "appointments.csv", appts[1:])
    said = _verify_city(str(broken), scenario)
    assert said["ok"] is False and said["rows"] == rows - 1
    assert "KK missing from the plan (1)" in said["broken"]
    gone = tmp_path / "gone"
    assert _verify_city(str(gone), scenario) == {"ok": False, "rows": 0, "broken": [f"{gone}: plan folder not found"]}


def test_the_whole_folder_is_verified_city_by_city(national_plan: Path, tmp_path: Path) -> None:
    """verify_national on one CPU (in this process): every kab/kota's plan checked and reported by
    its code, and a broken city or a missing one is what makes the report fail."""
    from ektp_opt.national.scenario import load_national
    from ektp_opt.national.verify import verify_national
    from tests.national.test_national import SMALL

    codes = sorted(k.code for k in load_national(SMALL).kabkota)
    out = tmp_path / "n"
    shutil.copytree(national_plan, out)
    appts = _read(out / "plans" / "75.71" / "appointments.csv")
    _write(out / "plans" / "75.71" / "appointments.csv", appts[1:])
    shutil.rmtree(out / "plans" / "75.01")
    report = verify_national(out, cpus=1)  # the scenario named by master.json
    assert not report.ok and report.folder == out
    assert report.national == ["N1 1 kab/kota without a plan, e.g. 75.01"]
    assert sorted(report.cities) == [c for c in codes if c != "75.01"]
    assert [k for k, c in report.cities.items() if not c["ok"]] == ["75.71"]
    assert all(c == {"ok": True, "rows": len(_read(national_plan / "plans" / k / "appointments.csv")), "broken": []}
               for k, c in report.cities.items() if k != "75.71")  # fmt: skip


def test_verify_on_one_cpu_needs_neither_ray_nor_pyarrow(national_plan: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`national verify --cpus 1` checks every city in this process: with Ray and pyarrow made
    unimportable it still reads the whole folder and finds it clean (an auditor without the
    national extra)."""
    import sys

    from click.testing import CliRunner

    from ektp_opt.cli.main import main
    from ektp_opt.national.scenario import load_national
    from tests.national.test_national import SMALL

    for name in ("ray", "pyarrow"):
        monkeypatch.setitem(sys.modules, name, None)
    r = CliRunner().invoke(main, ["national", "verify", str(national_plan), "--cpus", "1"])
    assert r.exit_code == 0, r.output
    cities = len(load_national(SMALL).kabkota)
    assert f"national plan is clean: {cities} city plans" in r.output


def test_n3_names_deliveries_the_master_never_sent_and_those_missing(national_plan: Path, tmp_path: Path) -> None:
    """A device dated to a day no delivery came reads '1 in the plan, 0 from the master'; a
    kecamatan's whole delivery gone reads '0 in the plan, n from the master'. A kab/kota without a
    plan (N1) stops the check of no other kab/kota."""
    out = tmp_path / "n"
    shutil.copytree(national_plan, out)
    last = sorted((out / "plans").glob("*/devices.csv"))[-1]
    rows = _read(last)
    kec = rows[0]["kecamatan"]
    rows[0]["delivery_date"] = "2000-01-03"
    _write(last, rows)
    shutil.rmtree(out / "plans" / "75.01")  # the first kab/kota: the rest are still checked
    assert _national_named(out) == ["N1", "N3"]
    assert _national_broken(out)[1] == (
        f"N3 2 kecamatan-deliveries differ from the master, e.g. {kec} 2000-01-03: 1 in the plan, 0 from the master"
    )
    again = tmp_path / "again"
    shutil.copytree(national_plan, again)
    devices = again / last.relative_to(out)
    rows = _read(devices)
    gone = (rows[0]["kecamatan"], rows[0]["delivery_date"])
    n = sum((r["kecamatan"], r["delivery_date"]) == gone for r in rows)
    _write(devices, [r for r in rows if (r["kecamatan"], r["delivery_date"]) != gone])
    assert _national_broken(again) == [
        f"N3 1 kecamatan-deliveries differ from the master, e.g. {gone[0]} {gone[1]}: "
        f"0 in the plan, {n} from the master"
    ]


def test_n1_gives_five_examples_and_the_count(national_plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "n"
    shutil.copytree(national_plan, out)
    codes = sorted(p.name for p in (out / "plans").iterdir() if p.is_dir())
    for code in codes:
        shutil.rmtree(out / "plans" / code)
    assert _national_broken(out) == [f"N1 {len(codes)} kab/kota without a plan, e.g. {', '.join(codes[:5])}"]
    assert len(codes) > 5


def _deliveries_as_written(
    tmp_path: Path, name: str, allotment: int, wave2: int, transit: list[int]
) -> tuple[Any, Path, dict[str, Any]]:
    """national-small with Gorontalo's own transit days for the allotment and the second wave (3
    by default), and a folder of device lists written here: every kecamatan its allotment device,
    the first of each kab/kota one device of each wave, each delivered on its shipment's date plus
    ``transit`` days (allotment, wave 1, wave 2); and the master's split that says so."""
    from ektp_opt.national.cities import make_city
    from ektp_opt.national.scenario import load_national
    from tests.national.test_national import SMALL

    own = f'{{ default = 3, "75" = {allotment} }}'
    text = SMALL.read_text().replace(
        "per_kecamatan = 1\ntransit_days = { default = 3 }", f"per_kecamatan = 1\ntransit_days = {own}"
    )
    own = f'{{ default = 3, "75" = {wave2} }}'
    text = text.replace("count = 37\ntransit_days = { default = 3 }", f"count = 37\ntransit_days = {own}")
    (tmp_path / f"{name}.toml").write_text(text)
    ln = load_national(tmp_path / f"{name}.toml")
    assert [ln.scenario.allotment.transit_days["75"], ln.scenario.waves[1].transit_days["75"]] == [allotment, wave2]
    shipped = [dt.date(2011, 8, 1), dt.date(2011, 9, 12), dt.date(2011, 10, 17)]  # allotment, waves 1 and 2
    folder = tmp_path / name
    kecamatan: dict[str, Any] = {}
    for k in ln.kabkota:
        rows = []
        for n, code in enumerate(make_city(ln, k.code).kecamatan):
            waves = [1, 1] if n == 0 else [0, 0]
            kecamatan[code] = {"kabkota": k.code, "waves": waves}
            for date, days, count in zip(shipped, transit, [1, *waves], strict=True):
                day = date + dt.timedelta(days)
                rows += [{"device_id": f"{code}-{date}-{i}", "kecamatan": code, "delivery_date": str(day),
                          "available_from": str(day + dt.timedelta(2))} for i in range(count)]  # fmt: skip
        (folder / "plans" / k.code).mkdir(parents=True)
        _write(folder / "plans" / k.code / "devices.csv", rows)
    return ln, folder, {"kecamatan": kecamatan}


def test_n3_counts_each_province_by_its_own_transit_days(tmp_path: Path) -> None:
    """Deliveries dated by the province's own transit days keep N1-N3; the same dated by the
    default break N3. An allotment that arrives on the day of the first wave (45 days on the way)
    gives the first kecamatan two devices that day, both counted."""
    from ektp_opt.national.verify import national_rules

    ln, folder, master = _deliveries_as_written(tmp_path, "own", 5, 6, [5, 3, 6])
    assert national_rules(ln, folder, master) == []
    ln, folder, master = _deliveries_as_written(tmp_path, "default", 5, 6, [3, 3, 3])
    assert [b[:2] for b in national_rules(ln, folder, master)] == ["N3"]
    ln, folder, master = _deliveries_as_written(tmp_path, "together", 45, 3, [45, 3, 3])
    assert national_rules(ln, folder, master) == []


def test_on_ray_the_same_report_and_ray_stopped_after(national_plan: Path, tmp_path: Path) -> None:
    """verify_national on two CPUs (one Ray task per city, Ray started for it in this run's own
    temporary folder): the report is the one the in-process check gives, city by city, and the
    Ray it started is shut down when it is done."""
    import os

    if os.environ.get("MUTANT_UNDER_TEST"):
        pytest.skip("Ray does not start in mutmut's forked workers: make mutation lists this test's mutants apart")
    ray = pytest.importorskip("ray")
    from ektp_opt.national.verify import verify_national

    out = tmp_path / "n"
    shutil.copytree(national_plan, out)
    appts = _read(out / "plans" / "75.71" / "appointments.csv")
    _write(out / "plans" / "75.71" / "appointments.csv", appts[1:])
    here = verify_national(out, cpus=1)
    assert not ray.is_initialized()
    on_ray = verify_national(out, cpus=2)
    assert not ray.is_initialized()
    assert (on_ray.national, on_ray.cities, on_ray.ok) == (here.national, here.cities, False)


def test_verify_at_a_cluster_that_does_not_answer_is_refused(national_plan: Path) -> None:
    """An --address where no Ray cluster listens (nothing on port 9 of this machine): an input
    error naming the address, never a check run somewhere else instead."""
    from ektp_opt.errors import InputError
    from ektp_opt.national.verify import verify_national

    pytest.importorskip("ray")
    with pytest.raises(InputError) as exc:
        verify_national(national_plan, address="127.0.0.1:9", cpus=1)
    assert str(exc.value).startswith("--address: no Ray cluster answers at 127.0.0.1:9 (")

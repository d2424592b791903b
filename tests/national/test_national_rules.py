"""National rules N1-N3, each broken alone and named alone (issue #26): one national plan is
made once (or taken from EKTP_TEST_PLANS in the mutation run) and each test breaks a copy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

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


def _national_named(folder: Path) -> list[str]:
    from ektp_opt.national.scenario import load_national
    from ektp_opt.national.verify import national_rules
    from tests.national.test_national import SMALL

    master = json.loads((folder / "master.json").read_text())
    return [b[:2] for b in national_rules(load_national(SMALL), folder, master)]


def _add_device(devices: Path, kecamatan: str, delivery: str) -> None:
    rows = _read(devices)
    like = next(r for r in rows if r["kecamatan"] == kecamatan and r["delivery_date"] == delivery)
    _write(devices, [*rows, {**like, "device_id": f"{kecamatan}-X001"}])


def test_national_rule_n1_alone(national_plan: Path, tmp_path: Path) -> None:
    """A kab/kota plan folder gone: N1 is named, and no other national rule."""
    out = tmp_path / "n"
    shutil.copytree(national_plan, out)
    shutil.rmtree(out / "plans" / "75.71")
    assert _national_named(out) == ["N1"]


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
    assert _national_named(out) == ["N2", "N2"]


def test_national_rule_n3_alone(national_plan: Path, tmp_path: Path) -> None:
    """A city plan whose devices differ from what the master sent it (one device moved to another
    kecamatan of the same kab/kota): N3, and not N2, since the totals agree."""
    out = tmp_path / "n"
    shutil.copytree(national_plan, out)
    devices = next(
        p for p in sorted((out / "plans").glob("*/devices.csv")) if len({r["kecamatan"] for r in _read(p)}) > 1
    )
    rows = _read(devices)
    other = next(r["kecamatan"] for r in rows if r["kecamatan"] != rows[0]["kecamatan"])
    rows[0]["kecamatan"] = other
    _write(devices, rows)
    assert _national_named(out) == ["N3"]

"""Shared fixtures: tiny cities written to temporary folders, so tests exercise the real loaders."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEDAN = ROOT / "data" / "medan"

KECAMATAN = """code,name,population_2013,lat,lon
12.71.01,Alpha,100,3.50,98.60
12.71.02,Beta,80,3.52,98.61
12.71.03,Gamma,60,3.80,98.90
"""
KELURAHAN = """code,kecamatan_code,name,lat,lon
12.71.01.1001,12.71.01,A1,3.501,98.601
12.71.01.1002,12.71.01,A2,3.505,98.603
12.71.02.1001,12.71.02,B1,3.515,98.606
12.71.02.1002,12.71.02,B2,3.522,98.612
12.71.03.1001,12.71.03,G1,3.801,98.901
"""


def scenario_text(**over: str) -> str:
    """A tiny scenario; keyword arguments replace whole TOML sections or top-level lines."""
    parts = {
        "head": """name = "tiny"
city = "Tiny"
start = 2011-08-18
deadline = 2011-09-10
shifts_per_day = 4
overflow_km = 0.0
kecamatan = "kecamatan.csv"
kelurahan = "kelurahan.csv"
""",
        "calendar": """[calendar]
workdays = ["mon", "tue", "wed", "thu", "fri", "sat"]
holidays = [2011-08-17, 2011-08-29, 2011-08-30]
""",
        "device": "[device]\ncapacity_per_day = 48\nsetup_days = 1\n",
        "backlog": "[backlog]\nreserve_per_shift = 2\ncatch_up_days = 2\nlate_rate = 0.1\n",
        "deliveries": """[[deliveries]]
date = 2011-08-15
per_kecamatan = 1

[[deliveries]]
date = 2011-08-22
pool = 2
""",
        "extra": "",
        "households": "[households]\nseed = 7\nresidents = 300\nhouseholds = 100\n",
    }
    parts.update(over)
    return "\n".join(textwrap.dedent(v) for v in parts.values())


@pytest.fixture
def tiny_city(tmp_path: Path) -> Callable[..., Path]:
    """Write a tiny city and return a factory for scenario files inside it."""
    (tmp_path / "kecamatan.csv").write_text(KECAMATAN)
    (tmp_path / "kelurahan.csv").write_text(KELURAHAN)

    def make(name: str = "tiny.toml", **over: str) -> Path:
        path = tmp_path / name
        path.write_text(scenario_text(**over))
        return path

    return make


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EKTP_OPT_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    # Ray's sessions, sockets and logs in this run's own folder, not the machine's /tmp/ray (a
    # cluster another program started there is never joined, and nothing of ours is left there).
    ray_tmp = tmp_path_factory.getbasetemp() / "ray"
    ray_tmp.mkdir(exist_ok=True)
    monkeypatch.setenv("RAY_TMPDIR", str(ray_tmp))


@pytest.fixture(scope="session")
def medan_10k_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real plan (10,000 residents) shared by the tests that read plans (made once for the
    whole mutation run, like the other prebuilt plans: never written to by a test)."""
    from click.testing import CliRunner

    from ektp_opt.cli.main import main

    def build(root: Path) -> None:
        args = ["solve", str(MEDAN / "medan-10k.toml"), "--out", str(root / "plan"), "--workers", "1", "--quiet"]
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, r.stderr

    return prebuilt("medan-10k", build, tmp_path_factory.mktemp("p")) / "plan"


def prebuilt(name: str, build: Callable[[Path], None], fresh: Path) -> Path:
    """A plan folder made by ``build``: in ``fresh``, or, when EKTP_TEST_PLANS names a folder (the
    mutation run), made there once and reused, so that a mutant of the verifier is tested against
    plans made by the unmutated code, and each mutant does not plan again."""
    import os

    root = os.environ.get("EKTP_TEST_PLANS")
    if not root:
        build(fresh)
        return fresh
    where = Path(root) / name
    if not (where / ".built").exists():
        if where.exists():
            import shutil

            shutil.rmtree(where)
        where.mkdir(parents=True)
        build(where)
        (where / ".built").write_text("")
    return where

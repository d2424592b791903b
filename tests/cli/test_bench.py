"""The scaling study's machinery: synthetic cities, the queue baseline, and a --quick run whose
results file must be complete (timings are reported, never asserted)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from ektp_opt.baselines.queue import queue_plan
from ektp_opt.bench import check_results, fit_exponent
from ektp_opt.bench.city import WORKING_DAYS, write_city
from ektp_opt.inputs.calendar import working_days
from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import load_scenario
from ektp_opt.problem import build_problem
from tests.cli.test_cli import run


@pytest.mark.parametrize(("residents", "kecamatan"), [(10_000, 2), (1_000_000, 10), (5_000_000, 50)])
def test_synthetic_city_has_medans_shape(tmp_path: Path, residents: int, kecamatan: int) -> None:
    ls = load_scenario(write_city(residents, tmp_path))
    sc = ls.scenario
    assert len(ls.admin.kecamatan) == kecamatan
    codes = [k.code for k in ls.admin.kecamatan]
    assert len(set(codes)) == len(codes)
    assert len(working_days(sc.start, sc.deadline, ls.workdays, ls.holidays)) == WORKING_DAYS
    assert sc.households.residents == residents  # type: ignore[union-attr]


def test_queue_respects_seats_and_family_order(tmp_path: Path) -> None:
    ls = load_scenario(write_city(50_000, tmp_path))
    h = load_population(ls)
    data = build_problem(ls, h, extend_to=ls.scenario.deadline + dt.timedelta(days=365))
    plan = queue_plan(data, h)
    home = data.kelurahan_kecamatan[h.kelurahan]
    served = np.zeros((data.n_kec, data.n_days), dtype=np.int64)
    np.add.at(served, (home, plan.day), h.members)
    devices = data.fixed_devices().copy()
    for p, b in enumerate(data.pools):
        devices[:, b.first_day :] += plan.pool_split[p][:, None]
    assert (served <= devices * (data.seats * data.shifts)[:, None]).all()
    assert plan.late  # this city's queue ends after the deadline; ektp-opt's plan does not
    for k in range(data.n_kec):  # first come, first served: days never go back in queue order
        order = np.lexsort((np.arange(len(h)), h.lingkungan, h.kelurahan))
        mine = order[home[order] == k]
        assert (np.diff(plan.day[mine]) >= 0).all()


def test_fit_exponent() -> None:
    assert fit_exponent([(10.0, 5.0), (100.0, 50.0), (1000.0, 500.0)]) == 1.0
    assert fit_exponent([(10.0, 1.0)]) is None


def test_quick_study_writes_a_complete_results_file(tmp_path: Path) -> None:
    out = tmp_path / "quick.json"
    code, stdout, err = run("bench", "--quick", "--out", str(out), "--workers", "1")
    assert code == 0, err
    data = json.loads(out.read_text())
    assert check_results(data) == []
    assert data["sizes"] == [10_000, 50_000, 200_000]
    assert {r["method"] for r in data["runs"]} == {"ektp", "monolithic", "queue"}
    assert all(r["verified"] for r in data["runs"] if r["method"] == "ektp")
    assert [r["workers"] for r in data["workers_sweep"]["runs"]] == [1, 2]
    assert (tmp_path / "quick.png").read_bytes()[:4] == b"\x89PNG"
    assert "Scaling study" in stdout


def test_incomplete_results_are_named() -> None:
    data = {
        "sizes": [10],
        "methods": ["ektp", "queue"],
        "runs": [{"method": "ektp", "residents": 10, "status": "FEASIBLE"}],
    }
    problems = check_results(data)
    assert "no queue run at 10" in problems and "missing machine" in problems
    assert any("without total_seconds" in p for p in problems)

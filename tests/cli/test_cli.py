"""End to end through the command line, as a script would use it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from ektp_opt.cli.main import main
from ektp_opt.errors import ExitCode
from tests.conftest import MEDAN


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_solve_writes_contract_and_verifies(medan_10k_plan: Path) -> None:
    assert sorted(p.name for p in medan_10k_plan.iterdir()) == [
        ".ektp-opt",
        "appointments.csv",
        "devices.csv",
        "summary.json",
    ]
    header = (medan_10k_plan / "appointments.csv").read_text().splitlines()[0]
    assert header == "kk_id,kelurahan_code,home_kecamatan,site_kecamatan,date,shift,device_id,members"
    info = json.loads((medan_10k_plan / "summary.json").read_text())
    assert info["residents"] == 10_000 and info["households"] == 3_095
    assert set(info["objectives"]) == {"completion", "waiting", "compactness"}
    for level in info["objectives"].values():
        assert level["bound"] <= level["value"]
    assert info["versions"]["ortools"]
    code, out, _ = run("verify", str(medan_10k_plan))
    assert code == 0 and "plan is clean" in out


def test_same_seed_one_worker_is_byte_identical(medan_10k_plan: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    code, _o, err = run("solve", str(MEDAN / "medan-10k.toml"), "--out", str(again), "--workers", "1", "--quiet")
    assert code == 0, err
    assert (again / "appointments.csv").read_bytes() == (medan_10k_plan / "appointments.csv").read_bytes()


def test_bad_scenario_is_one_line_exit_3(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    path = tiny_city(deliveries="[[deliveries]]\ndate = 2011-08-15\npool = -1\n")
    code, _out, err = run("solve", str(path), "--out", str(tmp_path / "x"))
    assert code == ExitCode.INPUT
    assert "deliveries[0].pool" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_verify_of_broken_plan_exits_5(medan_10k_plan: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "b"
    shutil.copytree(medan_10k_plan, broken)
    lines = (broken / "appointments.csv").read_text().splitlines()
    (broken / "appointments.csv").write_text("\n".join(lines[:-1]) + "\n")
    code, out, _ = run("verify", str(broken))
    assert code == ExitCode.VERIFY_FAILED and "KK missing from the plan" in out
    (broken / "appointments.csv").write_bytes(b"kk_id,date\n\xff\n")
    code, _out, err = run("verify", str(broken))
    assert code == ExitCode.INPUT and "appointments.csv" in err


ONE_POOL = "[[deliveries]]\ndate = 2011-08-15\nper_kecamatan = 1\n\n[[deliveries]]\ndate = 2011-08-22\npool = {n}\n"
BUSY = "[households]\nseed = 3\nresidents = 2400\nhouseholds = 800\n"


def test_one_device_too_few(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """Find the least pool that meets the deadline; one fewer must be infeasible, with a
    diagnosis that asks for exactly one more device."""
    from ektp_opt.analysis.capacity import diagnose
    from ektp_opt.inputs.population import load_population
    from ektp_opt.inputs.scenario import load_scenario
    from ektp_opt.solver import SolveOptions

    ls = load_scenario(tiny_city("zero.toml", deliveries=ONE_POOL.format(n=0), households=BUSY))
    d0 = diagnose(ls, load_population(ls), SolveOptions(workers=1))
    assert not d0.meets_deadline
    need = next(e for e in d0.extra_devices_needed if e.date.isoformat() == "2011-08-22").extra_devices
    assert need >= 1
    floor = next(e for e in d0.extra_devices_needed if e.date.isoformat() == "2011-08-22").closed_form_lower_bound
    assert floor <= need

    enough = tiny_city("enough.toml", deliveries=ONE_POOL.format(n=need), households=BUSY)
    code, _o, err = run("solve", str(enough), "--out", str(tmp_path / "ok"), "--workers", "1", "--quiet")
    assert code == 0, err

    short = tiny_city("short.toml", deliveries=ONE_POOL.format(n=need - 1), households=BUSY)
    out = tmp_path / "late"
    code, stdout, err = run("solve", str(short), "--out", str(out), "--workers", "1", "--quiet")
    assert code == ExitCode.INFEASIBLE, err
    assert not (out / "appointments.csv").exists()
    diag = json.loads((out / "diagnosis.json").read_text())
    extra = next(e for e in diag["extra_devices_needed"] if e["date"] == "2011-08-22")
    assert extra["extra_devices"] == 1
    assert diag["earliest_completion"]["citywide"] > diag["last_regular_day"]
    assert "deadline cannot be met" in stdout

    code, _o, err = run(
        "solve",
        str(short),
        "--out",
        str(tmp_path / "anyway"),
        "--workers",
        "1",
        "--quiet",
        "--allow-late",
    )
    assert code == 0, err
    info = json.loads((tmp_path / "anyway" / "summary.json").read_text())
    assert info["late"] is True
    # Whole families can push the last KK a day past the aggregate optimum; never earlier.
    assert info["completion_date"] >= diag["earliest_completion"]["citywide"]


def test_user_mistakes_are_input_errors(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("kk_id,kelurahan_code,members\nK1,12.71.01.1001,2\n")
    from_file = tiny_city("file.toml", households='[households]\nfile = "h.csv"\n')
    code, _o, err = run("generate", str(from_file), "--out", str(tmp_path / "g.csv"))
    assert code == ExitCode.INPUT and "households" in err
    plan = tmp_path / "p"
    plan.mkdir()
    (plan / "summary.json").write_text("{}")
    code, _o, err = run("verify", str(plan))
    assert code == ExitCode.INPUT and "scenario_file" in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_plan_folders_are_byte_identical_across_processes(tmp_path: Path, workers: str) -> None:
    """Two separate processes, the same inputs, seed and workers: the same plan folder, byte for
    byte, but for the run's own timings (README, "Reproducible": with 2 workers where the level-2
    profile is unique, as on medan-10k). A re-plan likewise, with one worker."""
    import subprocess
    import sys

    def solve(out: Path) -> None:
        subprocess.run([sys.executable, "-m", "ektp_opt.cli.entry", "solve", "medan-10k", "--out", str(out),
                        "--workers", workers, "--quiet"], check=True, capture_output=True)  # fmt: skip

    a, b = tmp_path / "a", tmp_path / "b"
    solve(a)
    solve(b)
    for name in ("appointments.csv", "devices.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    untimed = [json.loads((p / "summary.json").read_text()) for p in (a, b)]
    for info in untimed:
        for key in ("solve_seconds", "stage_seconds"):
            info.pop(key)
        for level in info["objectives"].values():
            level.pop("seconds")
    assert untimed[0] == untimed[1]
    if workers == "1":
        slip = MEDAN / "medan-10k.toml"
        outs = []
        for name in ("ra", "rb"):
            out = tmp_path / name
            subprocess.run([sys.executable, "-m", "ektp_opt.cli.entry", "resolve", "--plan", str(a), "--scenario",
                            str(slip), "--as-of", "2011-08-25", "--out", str(out), "--workers", "1", "--quiet"],
                           check=True, capture_output=True)  # fmt: skip
            outs.append(out)
        for name in ("appointments.csv", "devices.csv", "changes.csv"):
            assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name

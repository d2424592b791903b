"""Ctrl-C and SIGTERM at any moment of a real command: exit 130 (143 for TERM), no crash, no hang,
and the output folder is the old plan untouched or a complete new one that verifies.

The commands work on all of Medan (2.1 M residents: a solve takes seconds, a re-plan longer), so
every signal here lands mid-work: the exit code must be the signal's, never 0 (a test that also
accepted 0 passed while most of its signals came after the command had finished)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import MEDAN

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = MEDAN / "medan-2011.toml"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ektp_opt.cli.entry", *args]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def old_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("old") / "plan"
    r = subprocess.run(cli("solve", str(SCENARIO), "--out", str(out), "--workers", "1", "--quiet"), cwd=ROOT)
    assert r.returncode == 0
    return out


def default_signals() -> None:
    """The command starts as from a terminal: a suite run in the background (where the shell
    ignores SIGINT for its children, and ektp-opt keeps an ignored signal ignored) still tests it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def handlers_installed(pid: int) -> bool:
    """ektp-opt's own handlers are in (the kernel says SIGTERM is caught: Python leaves SIGTERM at
    its default, so only ``interrupt.install`` catches it). Before that, Python itself is starting,
    and a Ctrl-C there is Python's own KeyboardInterrupt (README: exit codes)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(caught >> (signal.SIGTERM - 1) & 1)


def interrupt_at(args: list[str], delay: float, sig: signal.Signals) -> tuple[int, str, float]:
    """Send ``sig`` ``delay`` seconds after the command's own handlers are in (on a loaded machine
    Python's start-up alone can take longer than the shortest delay)."""
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals
    )
    began = time.monotonic()
    while not handlers_installed(proc.pid) and time.monotonic() - began < 30 and proc.poll() is None:
        time.sleep(0.005)
    time.sleep(delay)
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        _out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # a hang is a failure, and must not hang the suite
        proc.kill()
        pytest.fail(f"no exit within 60 s of {sig.name} at {delay} s")
    return proc.returncode, err, time.monotonic() - sent


def check_outcome(code: int, err: str, old: dict[str, bytes], out: Path, sig: signal.Signals) -> str:
    assert "Traceback" not in err and "internal error" not in err and "terminate called" not in err, err
    wanted = 143 if sig == signal.SIGTERM else 130
    assert code == wanted, (code, err)  # the command cannot have finished: the signal landed
    assert not [p for p in out.parent.iterdir() if ".ektp-" in p.name], "leftovers beside the output"
    if code == wanted and "after writing" not in err:
        assert snapshot(out) == old, "interrupted run changed the old output"
        return "old"
    r = subprocess.run(cli("verify", str(out)), cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr  # the complete new plan
    return "new"


MOMENTS = [
    (0.2, signal.SIGINT),
    (0.9, signal.SIGINT),
    (2.2, signal.SIGINT),
    (0.2, signal.SIGTERM),
    (1.2, signal.SIGTERM),
    (2.5, signal.SIGTERM),
]


@pytest.mark.parametrize(("delay", "sig"), MOMENTS)
def test_solve_interrupted(old_plan: Path, tmp_path: Path, delay: float, sig: signal.Signals) -> None:
    out = tmp_path / "plan"
    subprocess.run(["cp", "-r", str(old_plan), str(out)], check=True)
    old = snapshot(out)
    args = cli("solve", str(SCENARIO), "--out", str(out), "--workers", "2", "--seed", "3", "--quiet")
    code, err, took = interrupt_at(args, delay, sig)
    check_outcome(code, err, old, out, sig)
    assert took < 10, f"took {took:.1f} s to stop"


@pytest.mark.parametrize("delay", [0.6, 2.0])
def test_resolve_interrupted(old_plan: Path, tmp_path: Path, delay: float) -> None:
    out = tmp_path / "new"
    subprocess.run(["cp", "-r", str(old_plan), str(out)], check=True)
    old = snapshot(out)
    slip = MEDAN / "medan-2011-slip.toml"
    args = cli(
        "resolve",
        "--plan",
        str(old_plan),
        "--scenario",
        str(slip),
        "--as-of",
        "2011-09-05",
        "--out",
        str(out),
        "--workers",
        "1",
        "--quiet",
    )
    sig = signal.SIGINT if delay < 1 else signal.SIGTERM
    code, err, _took = interrupt_at(args, delay, sig)
    check_outcome(code, err, old, out, sig)


def _children(pid: int) -> list[int]:
    r = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(x) for x in r.stdout.split()]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_tradeoff_interrupted_while_its_processes_plan(old_plan: Path, tmp_path: Path, sig: signal.Signals) -> None:
    """``resolve --tradeoff --jobs 2`` stopped while its forked processes plan the kecamatan models:
    Ctrl-C reaches the whole process group (as from a terminal), SIGTERM only the command. Either
    way: the signal's exit code, no process of the group left, the JSON never written."""
    import os

    out = tmp_path / "front.json"
    args = cli(
        "resolve",
        "--plan",
        str(old_plan),
        "--scenario",
        str(MEDAN / "medan-2011-slip.toml"),
        "--as-of",
        "2011-09-05",
        "--tradeoff",
        "--jobs",
        "2",
        "--json",
        str(out),
        "--quiet",
    )

    def own_group() -> None:
        default_signals()
        os.setpgrp()

    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=own_group
    )
    began = time.monotonic()
    while len(_children(proc.pid)) < 2 and proc.poll() is None and time.monotonic() - began < 120:
        time.sleep(0.05)
    assert proc.poll() is None and len(_children(proc.pid)) >= 2, "the processes never started"
    time.sleep(1.0)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    try:
        _o, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"no exit within 60 s of {sig.name}")
    assert proc.returncode == (130 if sig == signal.SIGINT else 143), err
    assert "Traceback" not in err, err
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert not left, f"processes left behind: {left}"
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".ektp-" in p.name]

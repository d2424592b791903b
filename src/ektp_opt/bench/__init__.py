"""The scaling study (issue 8): ektp-opt, the monolithic CP-SAT model and the office queue on
synthetic cities from 10 k to 10 M residents, each measurement in its own process.

Results carry the machine, the versions and the command; ``fit_exponent`` gives the slope of
log(time) against log(residents). Tests check only that a results file is complete and
well-formed; the speed targets are judged here, in ``targets``, never by a test.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

SIZES = (10_000, 50_000, 200_000, 1_000_000, 2_100_000, 5_000_000, 10_000_000)
QUICK_SIZES = SIZES[:3]
METHODS = ("ektp", "monolithic", "queue")
MEDAN = 2_100_000


def run_one(
    method: str, residents: int, folder: Path, time_limit: float, workers: int, max_booleans: int, timeout: float
) -> dict[str, Any]:
    """One measurement in a fresh interpreter; a crash or a timeout is recorded, not raised."""
    cmd = [
        sys.executable, "-m", "ektp_opt.bench.worker", "--method", method, "--residents", str(residents),
        "--dir", str(folder), "--time-limit", str(time_limit), "--workers", str(workers),
        "--max-booleans", str(max_booleans),
    ]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"method": method, "residents": residents, "workers": workers, "status": "TIMEOUT",
                "note": f"killed after {timeout:.0f} s"}  # fmt: skip
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
        return {"method": method, "residents": residents, "workers": workers, "status": "ERROR", "note": reason}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def fit_exponent(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(y) on log(x): time ~ residents^slope."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return None if sxx == 0 else round(sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx, 3)


def _targets(runs: list[dict[str, Any]], exp: float | None) -> dict[str, Any]:
    """``exp``: the time exponent fitted from 200 k residents up."""
    ours = {r["residents"]: r for r in runs if r.get("method") == "ektp" and "total_seconds" in r}
    medan, big = ours.get(MEDAN), ours.get(10_000_000)

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "missed")

    return {
        "medan_under_60s": verdict(None if medan is None else medan["total_seconds"] < 60),
        "about_linear_from_200k": verdict(None if exp is None else exp <= 1.15),
        "10M_under_600s": verdict(None if big is None else big["total_seconds"] < 600),
        "10M_under_8GiB": verdict(None if big is None else big["peak_rss_mib"] < 8 * 1024),
    }


def run_study(
    sizes: Sequence[int],
    methods: Sequence[str],
    time_limit: float,
    workers: int,
    sweep: Sequence[int],
    sweep_size: int,
    max_booleans: int,
    command: str,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    timeout = 3 * time_limit + 900
    with tempfile.TemporaryDirectory(prefix="ektp-bench-") as tmp:
        for n in sizes:
            for method in methods:
                if on_step:
                    on_step(f"{method} at {n:,} residents")
                runs.append(run_one(method, n, Path(tmp) / str(n), time_limit, workers, max_booleans, timeout))
        sweep_runs = []
        for w in sweep:
            if on_step:
                on_step(f"ektp at {sweep_size:,} residents, {w} worker(s)")
            same = next(
                (
                    r
                    for r in runs
                    if r.get("method") == "ektp" and r.get("residents") == sweep_size and r.get("workers") == w
                ),
                None,
            )
            sweep_runs.append(
                same or run_one("ektp", sweep_size, Path(tmp) / str(sweep_size), time_limit, w, max_booleans, timeout)
            )
    ours = [(r["residents"], r["total_seconds"]) for r in runs if r.get("method") == "ektp" and "total_seconds" in r]
    mem = [(r["residents"], r["peak_rss_mib"]) for r in runs if r.get("method") == "ektp" and "peak_rss_mib" in r]
    exp = fit_exponent([p for p in ours if p[0] >= 200_000])
    return {
        "study": "ektp-opt scaling against population size",
        "command": command,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "processor": platform.processor() or platform.machine(),
        },
        "versions": {"ektp_opt": version("ektp-opt"), "ortools": version("ortools")},
        "time_limit": time_limit,
        "workers": workers,
        "sizes": list(sizes),
        "methods": list(methods),
        "runs": runs,
        "workers_sweep": {"residents": sweep_size, "runs": sweep_runs},
        "fit": {
            "time_exponent_all": fit_exponent(ours),
            "time_exponent_from_200k": exp,
            "memory_exponent_from_200k": fit_exponent([p for p in mem if p[0] >= 200_000]),
        },
        "targets": _targets(runs, exp),
    }


REQUIRED_RUN_KEYS = ("method", "residents", "status")


def check_results(data: dict[str, Any]) -> list[str]:
    """What is missing or malformed in a results file (empty when it is complete)."""
    problems = [f"missing {k}" for k in ("command", "machine", "versions", "runs", "fit", "targets") if k not in data]
    seen = {(r.get("method"), r.get("residents")) for r in data.get("runs", [])}
    for n in data.get("sizes", []):
        for m in data.get("methods", []):
            if (m, n) not in seen:
                problems.append(f"no {m} run at {n}")
    for r in data.get("runs", []):
        problems += [f"run without {k}" for k in REQUIRED_RUN_KEYS if k not in r]
        if r.get("method") == "ektp" and r.get("status") not in ("OPTIMAL", "FEASIBLE"):
            problems.append(f"ektp-opt found no plan at {r.get('residents')} ({r.get('status')})")
        if r.get("method") == "ektp" and r.get("status") in ("OPTIMAL", "FEASIBLE"):
            for k in ("stage_seconds", "total_seconds", "peak_rss_mib", "levels"):
                if k not in r:
                    problems.append(f"ektp run at {r.get('residents')} without {k}")
            for name, lv in r.get("levels", {}).items():
                if "value" not in lv or "gap" not in lv:
                    problems.append(f"level {name} at {r.get('residents')} without value or gap")
    return problems

"""End-to-end figures for one scenario: stage times, peak memory, each level's value and gap.

    .venv/bin/python benchmarks/run_medan.py [SCENARIO] [--workers N] [--time-limit S]

Writes benchmarks/results/<scenario>.json with the machine, the versions and the command.
Run it in a fresh process: peak RSS (ru_maxrss) is the whole process's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from ektp_opt.plan import write_plan
from ektp_opt.population import load_population
from ektp_opt.problem import build_problem
from ektp_opt.scenario import load_scenario
from ektp_opt.solver import SolveOptions, solve
from ektp_opt.verify import verify_plan

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "data/medan/medan-2011.toml"))
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--time-limit", type=float, default=120.0)
    args = ap.parse_args()

    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    ls = load_scenario(args.scenario)
    h = load_population(ls, use_cache=False)
    stages["generate+load"] = time.perf_counter() - t0
    t = time.perf_counter()
    data = build_problem(ls, h)
    stages["build"] = time.perf_counter() - t
    result = solve(data, h, SolveOptions(time_limit=args.time_limit, workers=args.workers))
    stages.update(result.timings.stages)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        write_plan(Path(tmp) / "plan", result, ls, h)
        stages["write"] = time.perf_counter() - t
        t = time.perf_counter()
        report = verify_plan(Path(tmp) / "plan", ls, h)
        stages["verify"] = time.perf_counter() - t
    total = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "scenario": ls.scenario.name,
        "residents": h.residents,
        "households": len(h),
        "status": result.status,
        "verified": report.ok,
        "levels": {lv.name: lv.as_dict() for lv in result.levels},
        "stage_seconds": {k: round(v, 2) for k, v in stages.items()},
        "total_seconds": round(total, 2),
        "peak_rss_mib": round(peak_mib),
        "workers": args.workers,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]},
        "versions": {"ektp_opt": version("ektp-opt"), "ortools": version("ortools")},
        "command": " ".join(["python", *sys.argv]),
    }
    dest = ROOT / "benchmarks" / "results" / f"{ls.scenario.name}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

"""One measurement in a fresh process, so that its peak memory is its own: one city size, one
method (ektp, monolithic or queue). Prints one JSON object on the last line of stdout.

    python -m ektp_opt.bench.worker --method ektp --residents 200000 --dir /tmp/city --time-limit 60
    python -m ektp_opt.bench.worker --method ektp --scenario data/medan/medan-2011.toml
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ektp_opt.bench.city import write_city
from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import load_scenario
from ektp_opt.problem import build_problem


def _peak_mib() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def measure(
    method: str,
    scenario: Path,
    time_limit: float,
    workers: int,
    max_booleans: int = 3_000_000,
) -> dict[str, Any]:
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    ls = load_scenario(scenario)
    stages["load"] = time.perf_counter() - t0
    t = time.perf_counter()
    h = load_population(ls, use_cache=False)
    stages["generate"] = time.perf_counter() - t
    out: dict[str, Any] = {
        "scenario": ls.scenario.name,
        "method": method,
        "residents": h.residents,
        "households": len(h),
        "kecamatan": len(ls.admin.kecamatan),
        "kelurahan": len(ls.admin.kelurahan),
        "devices": sum(
            (d.per_kecamatan or 0) * len(ls.admin.kecamatan) + (d.pool or 0) for d in ls.scenario.deliveries
        ),
        "workers": workers,
        "time_limit": time_limit,
    }
    if method == "ektp":
        from ektp_opt.plan.write import write_plan_files
        from ektp_opt.solver import SolveOptions, solve
        from ektp_opt.verify import verify_plan

        t = time.perf_counter()
        data = build_problem(ls, h)
        stages["build"] = time.perf_counter() - t
        result = solve(data, h, SolveOptions(time_limit=time_limit, workers=workers))
        stages.update(result.timings.stages)
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            (Path(tmp) / "plan").mkdir()  # written unverified here: the verifier is timed on its own below
            write_plan_files(Path(tmp) / "plan", result, ls, h)
            stages["write"] = time.perf_counter() - t
            t = time.perf_counter()
            report = verify_plan(Path(tmp) / "plan", ls, h)
            stages["verify"] = time.perf_counter() - t
        out["status"] = result.status
        out["verified"] = report.ok
        out["levels"] = {lv.name: lv.as_dict() for lv in result.levels}
        out["completion_date"] = data.days[result.level("completion").value - 1].isoformat()
    elif method == "monolithic":
        from ektp_opt.baselines.monolithic import solve_monolithic

        t = time.perf_counter()
        data = build_problem(ls, h)
        stages["build"] = time.perf_counter() - t
        mono = solve_monolithic(data, h, time_limit=time_limit, workers=workers, max_booleans=max_booleans)
        stages["build"] += mono.build_seconds
        stages["solve"] = sum(float(str(lv["seconds"])) for lv in mono.levels.values())
        out["status"] = mono.status
        out["booleans"] = mono.booleans
        out["levels"] = mono.levels
        if mono.note:
            out["note"] = mono.note
    elif method == "queue":
        import datetime as dt

        from ektp_opt.baselines.queue import queue_plan

        t = time.perf_counter()
        data = build_problem(ls, h, extend_to=ls.scenario.deadline + dt.timedelta(days=3 * 365))
        stages["build"] = time.perf_counter() - t
        t = time.perf_counter()
        plan = queue_plan(data, h)
        stages["solve"] = time.perf_counter() - t
        out["status"] = "LATE" if plan.late else "ON_TIME"
        out["levels"] = {k: {"value": v} for k, v in plan.objectives.items() if k != "overflow"}
        out["completion_date"] = plan.completion_date.isoformat()
    else:
        raise SystemExit(f"unknown method {method!r}")
    out["stage_seconds"] = {k: round(v, 3) for k, v in stages.items()}
    out["total_seconds"] = round(time.perf_counter() - t0, 3)
    out["peak_rss_mib"] = _peak_mib()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--method", choices=["ektp", "monolithic", "queue"], required=True)
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--residents", type=int, help="a synthetic Medan-shaped city of this size (written to --dir)")
    where.add_argument("--scenario", type=Path, help="a scenario file, e.g. data/medan/medan-2011.toml")
    ap.add_argument("--dir", type=Path, default=Path("."), help="where a synthetic city is written")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-booleans", type=int, default=3_000_000)
    args = ap.parse_args(argv)
    scenario = args.scenario or write_city(args.residents, args.dir)
    result = measure(args.method, scenario, args.time_limit, args.workers, args.max_booleans)
    result["command"] = " ".join(["python -m ektp_opt.bench.worker", *(argv if argv is not None else sys.argv[1:])])
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

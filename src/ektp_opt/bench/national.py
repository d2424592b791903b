"""The national benchmark (issue 17): a national scenario end to end on Ray, with the figures a
planner or an operator would ask for, and the proportional split beside the master.

    python -m ektp_opt.bench.national national-2012 --out /tmp/n2012 --json benchmarks/results/national-2012.json
    python -m ektp_opt.bench.national national-small --out /tmp/ns --cpus 1 --json ...   # 1 CPU
    python -m ektp_opt.bench.national national-small --out /tmp/nc --nodes 2 --json ...  # 2 local Ray nodes

Figures: wall time; the driver's peak memory (this process) and the largest city worker's (each
task reports its process's peak); the master's time and proof status; per-city times; the
projected wall time on N nodes of the same kind (largest-first list scheduling of the measured
per-city times on N x CPUs slots, plus the master); and how much later the nation finishes, and
how much more it waits, when each wave is split in proportion to residents instead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def projected_wall(master_seconds: float, city_seconds: list[float], slots: int) -> float:
    """Largest-first list scheduling of the cities on ``slots`` CPUs, plus the master."""
    loads = [0.0] * max(1, slots)
    for s in sorted(city_seconds, reverse=True):
        i = loads.index(min(loads))
        loads[i] += s
    return master_seconds + max(loads)


def main(argv: list[str] | None = None) -> int:
    from ektp_opt.national.cities import make_city
    from ektp_opt.national.master import completion_of, master_input, proportional_split, waiting_of
    from ektp_opt.national.run import NationalOptions, run_national
    from ektp_opt.national.scenario import load_national, national_path

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--json", required=True, type=Path)
    ap.add_argument("--cpus", type=int, default=None)
    ap.add_argument(
        "--nodes", type=int, default=0, help="start a local multi-node Ray cluster of this many 1-CPU nodes"
    )
    ap.add_argument("--master-time-limit", type=float, default=300.0)
    ap.add_argument("--time-limit", type=float, default=120.0)
    args = ap.parse_args(argv)

    ln = load_national(national_path(Path(args.scenario)))
    cluster = None
    address = None
    if args.nodes:
        from ray.cluster_utils import Cluster

        cluster = Cluster()
        for _ in range(args.nodes):
            cluster.add_node(num_cpus=1)
        address = cluster.address
    began = time.perf_counter()

    def progress(done: int, total: int, residents: int, all_residents: int) -> None:
        print(
            f"{time.perf_counter() - began:8.1f} s  {done}/{total} cities  {residents:,}/{all_residents:,} residents",
            flush=True,
        )

    try:
        summary = run_national(
            ln,
            args.out,
            NationalOptions(
                address=address,
                cpus=args.cpus,
                time_limit=args.time_limit,
                master_time_limit=args.master_time_limit,
                progress=progress,
            ),
        )
        nodes_used = None
        if cluster is not None:
            import ray

            ray.init(address=address)
            nodes_used = sum(1 for n in ray.nodes() if n["Alive"])
            ray.shutdown()
    finally:
        if cluster is not None:
            cluster.shutdown()
    wall = time.perf_counter() - began
    cities = summary["cities"]
    seconds = [c["seconds"] for c in cities.values() if c["status"] == "planned"]
    cpus = 1 if args.nodes else (args.cpus or os.cpu_count() or 1)  # CPUs per node

    mi = master_input(ln, [make_city(ln, k.code) for k in ln.kabkota])
    simple = proportional_split(mi)
    simple_done = completion_of(mi, simple)
    master = summary["master"]
    horizon = master["levels"]["completion"]["value"]
    figures: dict[str, Any] = {
        "scenario": ln.scenario.name,
        "command": " ".join(sys.argv),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "ray_cpus_per_node": cpus,
        "ray_nodes": nodes_used,
        "kabkota": summary["kabkota"],
        "kabkota_planned": summary["kabkota_planned"],
        "residents": summary["residents"],
        "wall_seconds": round(wall, 1),
        "driver_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "largest_worker_peak_mib": max((c["peak_mib"] for c in cities.values()), default=0.0),
        "master": master,
        "national_completion_date": summary["national_completion_date"],
        "city_seconds": {
            "sum": round(sum(seconds), 1),
            "p50": round(float(np.percentile(seconds, 50)), 2) if seconds else None,
            "p90": round(float(np.percentile(seconds, 90)), 2) if seconds else None,
            "max": round(max(seconds), 2) if seconds else None,
        },
        "projected_wall_seconds": {
            f"{n} nodes x {cpus} CPUs": round(projected_wall(master["seconds"], seconds, n * cpus), 1)
            for n in (1, 2, 4, 8, 16)
        },
        "projection_rule": "master seconds + largest-first list scheduling of the per-city seconds on nodes x CPUs",
        "proportional_split": {
            "completion_working_days": simple_done,
            "master_completion_working_days": horizon,
            "days_later": None if simple_done is None else simple_done - horizon,
            "waiting": int(waiting_of(mi, simple, simple_done).sum()) if simple_done else None,
            "master_waiting": master["levels"]["waiting"]["value"],
        },
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in figures.items() if k != "master"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

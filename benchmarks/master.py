"""The national master alone (issue #30): levels 1 and 2 on national-small, two provinces
(benchmarks/scenarios/two-provinces.toml: DI Yogyakarta and Bali, 135 kecamatan, 5 shifts, three
waves) and national-2012, with their proof status, bounds and times. Prints and writes
benchmarks/results/master.json. Run alone on the machine.

    python benchmarks/master.py
    python benchmarks/master.py --scenarios national-small --json /tmp/master.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from ektp_opt.national.cities import make_city
from ektp_opt.national.master import master_input, solve_master
from ektp_opt.national.scenario import load_national, national_path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ["national-small", str(ROOT / "benchmarks" / "scenarios" / "two-provinces.toml"), "national-2012"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", nargs="+", default=DEFAULT)
    ap.add_argument("--time-limit", type=float, default=300.0, help="the master's limit (national plan's default)")
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "master.json")
    args = ap.parse_args()
    runs = []
    for name in args.scenarios:
        t0 = time.perf_counter()
        ln = load_national(national_path(Path(name)))
        mi = master_input(ln, [make_city(ln, k.code) for k in ln.kabkota])
        t1 = time.perf_counter()
        mp = solve_master(mi, args.time_limit)
        t2 = time.perf_counter()
        run = {
            "scenario": ln.scenario.name,
            "kecamatan": len(mi.kecamatan),
            "residents": int(mi.residents.sum()),
            "waves": mi.wave_count,
            "input_seconds": round(t1 - t0, 2),
            "master_seconds": round(t2 - t1, 2),
            "completion_date": mp.completion_date(mi).isoformat(),
            "levels": {"completion": mp.completion.as_dict(), "waiting": mp.waiting.as_dict()},
        }
        runs.append(run)
        c, w = mp.completion, mp.waiting
        print(
            f"{run['scenario']}: {run['kecamatan']:,} kecamatan, {run['residents']:,} residents; master "
            f"{run['master_seconds']} s: completion {c.value} working days ({c.status}, bound {c.bound}, "
            f"{c.seconds:.1f} s), waiting {w.value:,} ({w.status}, bound {w.bound:,}, {w.seconds:.1f} s)",
            flush=True,
        )
    out = {
        "command": "python benchmarks/master.py --scenarios " + " ".join(Path(s).name for s in args.scenarios),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "time_limit": args.time_limit,
        "runs": runs,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()

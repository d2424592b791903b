"""Do the forecast's intervals hold on campaigns it did not see? (issue #29, the calibration study)

For each campaign: a city (residents drawn from 10 k to 60 k, the 10 k Medan's shape and calendar) is
planned; its field parameters are drawn over wide ranges (devices from 60 % to 115 % of nominal, 0-20 %
of device-shifts down, 5-35 % no-shows, families come back after 2-10 working days); the campaign is
simulated to its end under that plan (the truth: the day of its last enrolment, and the day 95 % of
residents were enrolled); after 3, 6 and 10 weeks of its records a forecast is made, and we count how
often its P10-P90 holds the truth. Every missed family comes back on its own here (come-back share 1,
no letters returned), so that "completion" exists in the truth.

    python benchmarks/forecast_calibration.py --campaigns 40 --out benchmarks/results/forecast-calibration.json

Prints the table; run alone on the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ektp_opt.api import campaign_forecast, campaign_record, campaign_start, simulate_field
from ektp_opt.campaign.field import FieldConditions

ROOT = Path(__file__).resolve().parents[1]
WEEKS = (3, 6, 10)


def truth(log_dir: Path, residents: int) -> tuple[dt.date | None, dt.date | None]:
    import csv

    per_day: dict[str, int] = {}
    with (log_dir / "enrolments.csv").open() as fh:
        for r in csv.DictReader(fh):
            per_day[r["date"]] = per_day.get(r["date"], 0) + int(r["residents"])
    total, share95 = 0, None
    for day in sorted(per_day):
        total += per_day[day]
        if share95 is None and total >= 0.95 * residents:
            share95 = dt.date.fromisoformat(day)
    last = dt.date.fromisoformat(max(per_day)) if per_day and total >= residents else None
    return last, share95


def inside(q: dict[str, str], day: dt.date | None) -> bool:
    if day is None:  # never finished in the simulated world: only "after ..." holds it
        return q["p90"].startswith("after")
    lo = dt.date.fromisoformat(q["p10"]) if not q["p10"].startswith("after") else dt.date.max
    hi = dt.date.max if q["p90"].startswith("after") else dt.date.fromisoformat(q["p90"])
    return lo <= day <= hi


def working_days_between(a: dt.date, b: dt.date) -> int:
    return int(np.busday_count(a, b, weekmask="1111110"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--campaigns", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "forecast-calibration.json")
    args = ap.parse_args()
    from ektp_opt.api import load_named_scenario, plan_city, write_plan
    from ektp_opt.solver import SolveOptions

    rng = np.random.default_rng(args.seed)
    base = load_named_scenario(Path("medan-10k"))
    rows = []
    began = time.perf_counter()
    for c in range(args.campaigns):
        residents = int(rng.integers(10_000, 60_000))
        cond = FieldConditions(
            throughput=float(rng.uniform(0.6, 1.15) * base.scenario.device.capacity_per_day),
            down_rate=float(rng.uniform(0.0, 0.2)),
            no_show=float(rng.uniform(0.05, 0.35)),
            come_back=1.0,
            return_days=float(rng.uniform(2, 10)),
            returned=0.0,
            seed=int(rng.integers(0, 2**31 - 1)),
        )
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            text = base.path.read_text().replace("residents = 10000", f"residents = {residents}")
            text = text.replace("households = 3095", f"households = {int(residents / 3.23)}")
            for name in ("kecamatan.csv", "kelurahan.csv"):
                (root / name).write_bytes((base.path.parent / name).read_bytes())
            (root / "s.toml").write_text(text)
            from ektp_opt.inputs.scenario import load_scenario

            ls = load_scenario(root / "s.toml")
            write_plan(plan_city(ls, options=SolveOptions(workers=1)), root / "plan")
            end = ls.scenario.deadline + dt.timedelta(days=200)
            simulate_field(root / "plan", end, cond, root / "truth")
            last, share95 = truth(root / "truth", residents)
            row: dict[str, object] = {
                "residents": residents,
                "conditions": cond.__dict__,
                "truth_completion": str(last),
                "truth_95": str(share95),
            }
            for w in WEEKS:
                as_of = ls.scenario.start + dt.timedelta(weeks=w)
                db = f"sqlite:///{root / f'w{w}.db'}"
                campaign_start(root / "plan", db)
                log = simulate_field(root / "plan", as_of - dt.timedelta(days=1), cond, root / f"log{w}")
                del log
                files = [root / f"log{w}" / n for n in ("enrolments.csv", "device_shifts.csv", "invitations.csv")]
                campaign_record(files, db, as_of - dt.timedelta(days=1))
                fc, _st = campaign_forecast(db, as_of, args.runs, seed=c)
                p50 = fc.completion["p50"]
                err = (
                    working_days_between(dt.date.fromisoformat(p50), last)
                    if last is not None and not p50.startswith("after")
                    else None
                )
                row[f"week{w}"] = {
                    "completion": fc.completion,
                    "share95": fc.share_dates["0.95"],
                    "holds_completion": inside(fc.completion, last),
                    "holds_95": inside(fc.share_dates["0.95"], share95),
                    "p50_error_working_days": err,
                }
            rows.append(row)
            print(json.dumps(row)[:300])
    table = {}
    for w in WEEKS:
        held = [r[f"week{w}"]["holds_completion"] for r in rows]  # type: ignore[index]
        held95 = [r[f"week{w}"]["holds_95"] for r in rows]  # type: ignore[index]
        errs = [abs(e) for r in rows if (e := r[f"week{w}"]["p50_error_working_days"]) is not None]  # type: ignore[index]
        table[f"after {w} weeks"] = {
            "completion_inside_p10_p90": round(sum(held) / len(held), 3),
            "share95_inside_p10_p90": round(sum(held95) / len(held95), 3),
            "median_abs_error_p50_working_days": statistics.median(errs) if errs else None,
        }
    out = {
        "campaigns": len(rows),
        "runs": args.runs,
        "seconds": round(time.perf_counter() - began, 1),
        "table": table,
        "campaign_rows": rows,
    }
    args.out.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()

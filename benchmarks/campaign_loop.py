"""The campaign loop on Medan, week by week (issue #28): each week the field is simulated under the
plan in force, its records are recorded, `status` measures, and `replan` makes the next version.
Prints and writes the time of each step to benchmarks/results/campaign-loop-<backend>.json.

    python benchmarks/campaign_loop.py --db sqlite:///build/loop/medan.db --weeks 8
    python benchmarks/campaign_loop.py --db postgresql://postgres@127.0.0.1:55432/loop --weeks 8

Field (options): by default 112 residents a device-day when up, 3 % of device-shifts down, 10 %
no-shows (60 % come back after 5 working days on average), 5 % of letters returned (at 112 each
week's re-plan is exit 4: Medan's plan has no slack; at 140, 1 % down, 3 % no-shows it re-plans).
After the last week: `campaign status` from the command line, the forecast (1,000 runs) and the
campaign page, timed. Run alone on the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import time
from pathlib import Path

from ektp_opt.api import campaign_record, campaign_start, campaign_status, simulate_field
from ektp_opt.campaign.field import FieldConditions
from ektp_opt.campaign.replan import replan_from_records
from ektp_opt.errors import InfeasibleError
from ektp_opt.solver import SolveOptions

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--weeks", type=int, default=8)
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "loop")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--throughput", type=float, default=112)
    ap.add_argument("--down-rate", type=float, default=0.03)
    ap.add_argument("--no-show", type=float, default=0.10)
    args = ap.parse_args()
    from ektp_opt.api import plan_city, write_plan
    from ektp_opt.cli.commands.common import scenario_arg

    work: Path = args.work
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ls = scenario_arg(None)  # the default Medan 2011 scenario
    t0 = time.perf_counter()
    write_plan(plan_city(ls, options=SolveOptions(workers=args.workers)), work / "v1")
    figures: dict[str, object] = {
        "db": args.db.split("://")[0],
        "machine": platform.machine(),
        "cores": 2,
        "solve_seconds": round(time.perf_counter() - t0, 1),
    }
    t0 = time.perf_counter()
    started = campaign_start(work / "v1", args.db)
    figures["init_seconds"] = round(time.perf_counter() - t0, 1)
    print(f"init {figures['init_seconds']} s: {started.households:,} KK")
    cond = FieldConditions(
        throughput=args.throughput,
        down_rate=args.down_rate,
        no_show=args.no_show,
        come_back=0.6,
        return_days=5,
        returned=0.05,
    )
    figures["field"] = {
        "throughput": cond.throughput,
        "down_rate": cond.down_rate,
        "no_show": cond.no_show,
        "come_back": 0.6,
        "return_days": 5,
        "returned": 0.05,
    }
    plan = work / "v1"
    weeks = []
    first = ls.scenario.start
    for w in range(1, args.weeks + 1):
        until = first + dt.timedelta(days=6)
        t0 = time.perf_counter()
        log = simulate_field(plan, until, cond, work / f"field-w{w}", first=first, db=args.db)
        sim = time.perf_counter() - t0
        files = [work / f"field-w{w}" / n for n in ("enrolments.csv", "device_shifts.csv", "invitations.csv")]
        t0 = time.perf_counter()
        campaign_record(files, args.db, until)
        rec = time.perf_counter() - t0
        as_of = until + dt.timedelta(days=1)
        t0 = time.perf_counter()
        st = campaign_status(args.db, as_of)
        stat = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = work / f"v{w + 1}"
        try:
            rp = replan_from_records(args.db, as_of, out, options=SolveOptions(workers=args.workers))
        except InfeasibleError as exc:
            rp = None
            print(f"week {w}: exit 4 at the measured pace ({exc.message[:120]})")
        rep = time.perf_counter() - t0
        week = {
            "week": w,
            "first": first.isoformat(),
            "until": until.isoformat(),
            "enrolment_rows": len(log.enrolments),
            "simulate_seconds": round(sim, 1),
            "record_seconds": round(rec, 1),
            "status_seconds": round(stat, 1),
            "replan_seconds": round(rep, 1),
            "enrolled": st.enrolled,
            "planned_by_as_of": st.planned_by_as_of,
            "backlog_kk": st.backlog["kk"],
            "pace": st.field.city["residents_per_device_day"].json(),
        }
        if rp is None:
            week["replan"] = "exit 4: the deadline cannot be met at the measured pace"
        else:
            plan = out
            week.update(
                {
                    "replan_stages": {k: round(v, 1) for k, v in rp.seconds.items()},
                    "calibration": rp.calibration.json(),
                    "moved_kk": rp.summary.resolve.moved_kk if rp.summary.resolve else None,
                    "completion": str(rp.summary.completion_date),
                }
            )
        weeks.append(week)
        print(json.dumps(week))
        first = until + dt.timedelta(days=1)
    figures["weeks"] = weeks
    # after the last week: status from the command line (a fresh process, as an office runs it),
    # the forecast (1,000 runs) and the campaign page
    import subprocess
    import sys

    from ektp_opt.api import campaign_forecast, campaign_report

    cli = [sys.executable, "-m", "ektp_opt.cli.entry", "campaign", "status", "--db", args.db, "--as-of"]
    t0 = time.perf_counter()
    subprocess.run([*cli, first.isoformat(), "--quiet"], check=True, capture_output=True)
    figures["status_command_seconds"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    campaign_forecast(args.db, first, 1000)
    figures["forecast_seconds"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    campaign_report(args.db, work / "campaign.html", first, 1000)
    figures["report_seconds"] = round(time.perf_counter() - t0, 1)
    print({k: figures[k] for k in ("status_command_seconds", "forecast_seconds", "report_seconds")})
    out_file = ROOT / "benchmarks" / "results" / f"campaign-loop-{figures['db']}.json"
    out_file.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {out_file.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

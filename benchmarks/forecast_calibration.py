"""Do the forecast's intervals hold on campaigns it did not see? (issue #29, the calibration study)

Each campaign is a city of its own, drawn at random:

- residents log-uniform from 10 k to 200 k; as many of Medan's kecamatan (drawn at random, with their
  kelurahan) as one device each can serve in about 80 working days (1 to 21), one device per
  kecamatan from the start and a pool of 0 to k devices three weeks later; the deadline 10-40 % past
  what the devices need at the nominal 120 a day;
- its field: devices at 60-115 % of nominal, 0-20 % of device-shifts down, 5-35 % no-shows, 70-100 %
  of them coming back after 2-10 working days (geometric), 0-5 % of letters returned; in half the
  campaigns kecamatan that differ (throughput and no-shows each times exp(Normal(0, 0-0.3))), and in
  half conditions that change on a day drawn between week 3 and week 12 (throughput times 0.75-1.25,
  no-shows times 0.7-1.4).

The city is planned (``plan_city``), its campaign simulated to the end under that plan with
``simulate_field`` (the truth: the day of its last enrolment, and the day 95 % of its residents were
enrolled), and after 3, 6 and 10 weeks of its records (the truth's own records up to the day before)
a forecast is made from a campaign store. We count how often the forecast's P10-P90 holds the truth,
and the error of its P50 in working days.

    python benchmarks/forecast_calibration.py --seed 5 --out benchmarks/results/forecast-calibration-seed5.json

``--seed 1`` is the development set: the knobs (the fit's tempering and memory, the runs' drift and
level; ``--temperature``, ``--half-lives``, ``--no-show-grid``, ``--pace-grid``,
``--drift``, ``--level-sd`` try other values) were set on it alone. The figures in README are from
seeds 2-5 (forecast-calibration.json is seed 2, the others -seedN.json) and seed 6, drawn after the
knobs were last set. Prints the table; run alone on the machine.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MEDAN = ROOT / "data" / "medan"
WEEKS = (3, 6, 10)
START = dt.date(2011, 8, 18)
HOLIDAYS = [
    dt.date(2011, 8, 17),
    *(dt.date(2011, 8, 29) + dt.timedelta(days=i) for i in range(5)),
    dt.date(2011, 11, 6),
    dt.date(2011, 11, 27),
]
TAIL_DAYS = 250  # the truth is simulated this many days past the deadline


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Working days from a to b (negative if b is before a): Monday-Saturday, the holidays aside."""
    sign = 1 if b >= a else -1
    lo, hi = min(a, b), max(a, b)
    return sign * int(np.busday_count(lo, hi, weekmask="1111110", holidays=HOLIDAYS))


def draw_campaign(rng: np.random.Generator, largest: int = 200_000) -> dict[str, Any]:
    residents = int(math.exp(rng.uniform(math.log(10_000), math.log(largest))))
    k = int(min(21, max(1, round(residents / 9_500))))
    kecamatan = sorted(rng.choice(21, k, replace=False).tolist())
    pool = int(rng.integers(0, k + 1))
    need = residents / (120 * (k + 0.6 * pool))  # working days at the nominal pace
    slack = float(rng.uniform(1.1, 1.4))
    spread = float(rng.uniform(0.0, 0.3)) if rng.random() < 0.5 else 0.0
    change = rng.random() < 0.5
    return {
        "residents": residents,
        "kecamatan": kecamatan,
        "pool": pool,
        "deadline_working_days": math.ceil(need * slack) + 2,
        "field": {
            "throughput": round(float(rng.uniform(0.6, 1.15)) * 120, 1),
            "down_rate": round(float(rng.uniform(0.0, 0.2)), 3),
            "no_show": round(float(rng.uniform(0.05, 0.35)), 3),
            "come_back": round(float(rng.uniform(0.7, 1.0)), 3),
            "return_days": round(float(rng.uniform(2.0, 10.0)), 2),
            "returned": round(float(rng.uniform(0.0, 0.05)), 3),
            "seed": int(rng.integers(0, 2**31 - 1)),
            "kecamatan_spread": round(spread, 3),
            "change_on": (START + dt.timedelta(days=int(rng.integers(21, 85)))).isoformat() if change else None,
            "throughput_change": round(float(rng.uniform(0.75, 1.25)), 3) if change else 1.0,
            "no_show_change": round(float(rng.uniform(0.7, 1.4)), 3) if change else 1.0,
        },
    }


def write_city(spec: dict[str, Any], root: Path) -> Path:
    """The city's scenario, kecamatan.csv and kelurahan.csv (a subset of Medan's) in root."""
    with (MEDAN / "kecamatan.csv").open(encoding="utf-8") as fh:
        kec_rows = list(csv.DictReader(fh))
    chosen = {kec_rows[i]["code"] for i in spec["kecamatan"]}
    for name, key in (("kecamatan.csv", "code"), ("kelurahan.csv", "kecamatan_code")):
        with (MEDAN / name).open(encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = [r for r in reader if r[key] in chosen]
            fields = reader.fieldnames or []
        with (root / name).open("w", encoding="utf-8", newline="") as out:
            w = csv.DictWriter(out, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)
    deadline = np.busday_offset(
        START, spec["deadline_working_days"], roll="forward", weekmask="1111110", holidays=HOLIDAYS
    )
    pool = f"\n[[deliveries]]\ndate = 2011-09-05\npool = {spec['pool']}\n" if spec["pool"] else ""
    text = (MEDAN / "medan-10k.toml").read_text(encoding="utf-8")
    head, rest = text.split("[calendar]", 1)
    calendar = "[calendar]" + rest.split("[[deliveries]]", 1)[0]
    head = head.replace("deadline = 2011-12-15", f"deadline = {deadline}").replace(
        'name = "medan-10k"', 'name = "city"'
    )
    households = round(spec["residents"] / 3.23)
    (root / "city.toml").write_text(
        head
        + calendar
        + "[[deliveries]]\ndate = 2011-08-15\nper_kecamatan = 1\n"
        + pool
        + f"\n[households]\nseed = {spec['field']['seed'] % 100_000}\nresidents = {spec['residents']}\n"
        + f"households = {households}\n",
        encoding="utf-8",
    )
    return root / "city.toml"


def truth_of(log: Any, residents: int, end: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The simulated campaign's last enrolment (None: families still coming at the end of the run)
    and the day 95 % of residents were enrolled (None: never)."""
    per_day: dict[dt.date, int] = {}
    for _kk, day, _s, _dev, n in log.enrolments:
        per_day[day] = per_day.get(day, 0) + n
    total, share95 = 0, None
    for day in sorted(per_day):
        total += per_day[day]
        if share95 is None and total >= 0.95 * residents:
            share95 = day
    last = max(per_day) if per_day else None
    if last is not None and working_days_between(last, end) < 20:
        last = None  # still enrolling near the end of the simulation: not finished
    return last, share95


def inside(q: dict[str, str], day: dt.date | None) -> bool:
    """Does P10-P90 hold ``day``? ("after <date>" stands for every later day; a truth that never
    came is held only by an "after".)"""
    if day is None:
        return q["p90"].startswith("after")
    lo = dt.date.fromisoformat(q["p10"].removeprefix("after "))
    if q["p10"].startswith("after"):
        lo += dt.timedelta(days=1)
    hi = dt.date.max if q["p90"].startswith("after") else dt.date.fromisoformat(q["p90"])
    return lo <= day <= hi


def p50_error(q: dict[str, str], day: dt.date | None) -> int | None:
    if day is None or q["p50"].startswith("after"):
        return None
    return working_days_between(day, dt.date.fromisoformat(q["p50"]))


# (index, campaign, runs, the development knobs: {"module.NAME": value} set in the worker)
Task = tuple[int, dict[str, Any], int, dict[str, Any]]


def one_campaign(args: Task) -> dict[str, Any]:
    index, spec, runs, knobs = args
    import importlib

    for name, value in knobs.items():  # --temperature, --half-lives, --drift, the grids
        module, attr = name.rsplit(".", 1)
        setattr(importlib.import_module(f"ektp_opt.campaign.{module}"), attr, value)
    from ektp_opt.api import (
        SolveOptions,
        campaign_forecast,
        campaign_record,
        campaign_start,
        field_conditions,
        load_scenario,
        plan_city,
        simulate_field,
        write_plan,
    )

    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ls = load_scenario(write_city(spec, root))
        write_plan(plan_city(ls, options=SolveOptions(workers=1), allow_late=True), root / "plan")
        f = dict(spec["field"])
        f["change_on"] = dt.date.fromisoformat(f["change_on"]) if f["change_on"] else None
        cond = field_conditions(**f)
        end = ls.scenario.deadline + dt.timedelta(days=TAIL_DAYS)
        log = simulate_field(root / "plan", end, cond, root / "truth")
        residents = spec["residents"]
        last, share95 = truth_of(log, residents, end)
        row: dict[str, Any] = {
            "campaign": index,
            **spec,
            "deadline": ls.scenario.deadline.isoformat(),
            "truth_completion": last.isoformat() if last else None,
            "truth_95": share95.isoformat() if share95 else None,
        }
        db = f"sqlite:///{root / 'campaign.db'}"
        campaign_start(root / "plan", db)
        recorded_to = ls.scenario.start - dt.timedelta(days=1)
        for w in WEEKS:
            as_of = ls.scenario.start + dt.timedelta(weeks=w)
            until = as_of - dt.timedelta(days=1)
            part = root / f"week{w}"
            part.mkdir()
            _write_part(log, part, recorded_to, until)
            campaign_record([part / n for n in ("enrolments.csv", "device_shifts.csv", "invitations.csv")], db, until)
            recorded_to = until
            fc, _st = campaign_forecast(db, as_of, runs, seed=index)
            row[f"week{w}"] = {
                "completion": fc.completion,
                "share95": fc.share_dates["0.95"],
                "p_on_time": fc.p_on_time,
                "holds_completion": inside(fc.completion, last),
                "holds_95": inside(fc.share_dates["0.95"], share95),
                "p50_error_completion": p50_error(fc.completion, last),
                "p50_error_95": p50_error(fc.share_dates["0.95"], share95),
                "done_before": last is not None and last < as_of,
            }
    row["seconds"] = round(time.perf_counter() - began, 1)
    return row


def _write_part(log: Any, folder: Path, after: dt.date, until: dt.date) -> None:
    """The truth's records of the days after ``after`` up to ``until``, as the field would send them."""
    from ektp_opt.safety.csvwrite import csv_text

    def days(rows: list[Any], at: int) -> list[Any]:
        return [r for r in rows if after < r[at] <= until]

    (folder / "enrolments.csv").write_text(
        csv_text(("kk_id", "date", "shift", "device_id", "residents"), days(log.enrolments, 1)), encoding="utf-8"
    )
    (folder / "device_shifts.csv").write_text(
        csv_text(("device_id", "date", "shift", "status", "reason"), days(log.device_shifts, 1)), encoding="utf-8"
    )
    (folder / "invitations.csv").write_text(
        csv_text(("kk_id", "date", "status"), days(log.invitations, 1)), encoding="utf-8"
    )


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    table = {}
    for w in WEEKS:
        cells = [r[f"week{w}"] for r in rows]
        live = [c for c in cells if not c["done_before"]]
        errs = [abs(e) for c in live if (e := c["p50_error_completion"]) is not None]
        errs95 = [abs(e) for c in live if (e := c["p50_error_95"]) is not None]
        reached = [c for r, c in zip(rows, cells, strict=True) if not c["done_before"] and r["truth_95"] is not None]
        table[f"after {w} weeks"] = {
            "campaigns": len(cells),
            "finished_before": len(cells) - len(live),
            "completion_inside_p10_p90": round(sum(c["holds_completion"] for c in live) / max(len(live), 1), 3),
            "share95_inside_p10_p90": round(sum(c["holds_95"] for c in live) / max(len(live), 1), 3),
            "share95_reached_in_truth": len(reached),
            "share95_inside_p10_p90_where_reached": round(
                sum(c["holds_95"] for c in reached) / max(len(reached), 1), 3
            ),
            "median_abs_error_p50_completion_working_days": statistics.median(errs) if errs else None,
            "median_abs_error_p50_share95_working_days": statistics.median(errs95) if errs95 else None,
        }
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--campaigns", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--jobs", type=int, default=2)
    floats = lambda text: tuple(float(x) for x in text.split(","))  # noqa: E731
    knob_help = "development only: "
    ap.add_argument("--temperature", type=float, help=knob_help + "the fit's tempering (history.TEMPERATURE)")
    ap.add_argument("--temperature-days", type=float, help=knob_help + "history.TEMPERATURE_DAYS")
    ap.add_argument("--half-lives", type=floats, help=knob_help + "the fit's memories, e.g. 8,20")
    ap.add_argument("--no-show-grid", type=floats, help=knob_help + "history.NO_SHOW, e.g. 0.4,0.7,1,1.3")
    ap.add_argument("--pace-grid", type=floats, help=knob_help + "history.PACE, e.g. 0.7,0.85,1,1.5")
    ap.add_argument("--drift", type=float, help=knob_help + "the runs' drift per day (forecast.DRIFT_PER_DAY)")
    ap.add_argument("--level-sd", type=float, help=knob_help + "the runs' level off the fit (forecast.LEVEL_SD)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "forecast-calibration.json")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    knobs = {
        name: value
        for name, value in (
            ("history.TEMPERATURE", args.temperature),
            ("history.TEMPERATURE_DAYS", args.temperature_days),
            ("history.HALF_LIVES", args.half_lives),
            ("history.NO_SHOW", args.no_show_grid),
            ("history.PACE", args.pace_grid),
            ("forecast.DRIFT_PER_DAY", args.drift),
            ("forecast.LEVEL_SD", args.level_sd),
        )
        if value is not None
    }
    specs = [(i, draw_campaign(rng), args.runs, knobs) for i in range(args.campaigns)]
    began = time.perf_counter()
    rows = []
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for row in pool.imap_unordered(one_campaign, specs):
            rows.append(row)
            w6 = row["week6"]
            print(
                f"{len(rows):>4}/{args.campaigns} campaign {row['campaign']:>3}: {row['residents']:>7,} residents, "
                f"truth {row['truth_completion']}, week 6 {w6['completion']['p10']}..{w6['completion']['p90']} "
                f"({'holds' if w6['holds_completion'] else 'misses'}), {row['seconds']} s",
                flush=True,
            )
    rows.sort(key=lambda r: r["campaign"])
    table = summarise(rows)
    out = {
        "seed": args.seed,
        "knobs": knobs,
        "campaigns": len(rows),
        "runs": args.runs,
        "jobs": args.jobs,
        "seconds": round(time.perf_counter() - began, 1),
        "table": table,
        "campaign_rows": rows,
    }
    args.out.write_text(json.dumps(out, indent=1, default=str) + "\n", encoding="utf-8")
    print(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()

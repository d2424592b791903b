"""Medan 2011-2012 replayed (issue #29): what would ektp-opt have said, week by week?

The field log in data/medan/medan-2011-replay/ (made by ``simulate-field`` on the plan of
``medan-2011-actual``: see its README for the parameters and why) is recorded into a campaign store
a week at a time, from the start to 30 April 2012, and after each week (from September 2011) a
forecast is made: the completion date (P10, P50, P90), P(on time), and the residents it expects
enrolled by 30 April 2012 (when mass recording ended: 1,261,362 in the public record). In
September, what would have lifted P(on time) to 0.9 (``forecast --target-p``).

    python benchmarks/medan_replay.py            # regenerates the log and checks it is the committed one

Writes benchmarks/results/medan-replay.json and medan-replay.png; prints a line per week.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPLAY = ROOT / "data" / "medan" / "medan-2011-replay"
RESULTS = ROOT / "benchmarks" / "results"
FIELD = {  # the replay's field (README in REPLAY says why)
    "throughput": 100.0,
    "down_rate": 0.05,
    "no_show": 0.15,
    "come_back": 0.45,
    "return_days": 8.0,
    "returned": 0.24,
    "seed": 2011,
}
END = dt.date(2012, 4, 30)
FIRST_FORECAST = dt.date(2011, 9, 5)
LEVERS_ON = dt.date(2011, 9, 19)
PUBLIC = {dt.date(2012, 3, 8): 979_561, dt.date(2012, 4, 30): 1_261_362}


def rows_of(name: str) -> tuple[list[str], list[list[str]]]:
    text = gzip.decompress((REPLAY / f"{name}.csv.gz").read_bytes()).decode("utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, list(reader)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--no-check", action="store_true", help="do not regenerate the log to compare")
    args = ap.parse_args()
    from ektp_opt.api import (
        SolveOptions,
        campaign_forecast,
        campaign_levers,
        campaign_record,
        campaign_start,
        field_conditions,
        load_named_scenario,
        plan_city,
        simulate_field,
        write_plan,
    )
    from ektp_opt.safety.csvwrite import csv_text

    began = time.perf_counter()
    out: dict[str, Any] = {"field": FIELD, "runs": args.runs, "weeks": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ls = load_named_scenario(Path("medan-2011-actual"))
        t0 = time.perf_counter()
        write_plan(plan_city(ls, options=SolveOptions(workers=1), allow_late=True), root / "plan")
        out["plan_seconds"] = round(time.perf_counter() - t0, 1)
        if not args.no_check:  # the committed log is what simulate-field makes from these parameters
            simulate_field(root / "plan", END, field_conditions(**FIELD), root / "log")
            for name in ("enrolments", "device_shifts", "invitations"):
                made = hashlib.sha256((root / "log" / f"{name}.csv").read_bytes()).hexdigest()
                kept = hashlib.sha256(gzip.decompress((REPLAY / f"{name}.csv.gz").read_bytes())).hexdigest()
                assert made == kept, f"{name}: the committed log is not what simulate-field makes"
            out["log_checked"] = True
        db = f"sqlite:///{root / 'medan.db'}"
        campaign_start(root / "plan", db)
        logs = {name: rows_of(name) for name in ("enrolments", "device_shifts", "invitations")}
        recorded_to = ls.scenario.start - dt.timedelta(days=91)
        as_of = FIRST_FORECAST
        total = 0
        while as_of <= END + dt.timedelta(days=1):
            until = as_of - dt.timedelta(days=1)
            part = root / f"week-{as_of}"
            part.mkdir()
            for name, (header, rows) in logs.items():
                mine = [r for r in rows if recorded_to < dt.date.fromisoformat(r[1]) <= until]
                (part / f"{name}.csv").write_text(csv_text(tuple(header), mine), encoding="utf-8")
            campaign_record([part / f"{n}.csv" for n in logs], db, until)
            recorded_to = until
            t0 = time.perf_counter()
            if as_of == LEVERS_ON:
                fc, st, levers = campaign_levers(db, 0.9, as_of, args.runs, 0, 10)
                out["levers_on"] = as_of.isoformat()
                out["levers"] = levers
            else:
                fc, st = campaign_forecast(db, as_of, args.runs, 0)
            seconds = round(time.perf_counter() - t0, 1)
            total = st.enrolled
            by_end = {}
            if END in fc.days:
                i = fc.days.index(END)
                by_end = {q: fc.enrolled_quantiles[q][i] for q in ("p10", "p50", "p90")}
            week = {
                "as_of": as_of.isoformat(),
                "enrolled": st.enrolled,
                "completion": fc.completion,
                "p_on_time": fc.p_on_time,
                "enrolled_by_2012_04_30": by_end,
                "fitted": {k: v["estimate"] for k, v in fc.parameters.items() if k.endswith("_fitted")},
                "seconds": seconds,
            }
            out["weeks"].append(week)
            print(
                f"{as_of}: enrolled {st.enrolled:>9,}; completion P10 {fc.completion['p10']}, P50 "
                f"{fc.completion['p50']}, P90 {fc.completion['p90']}; by 30 Apr 2012 "
                f"{by_end.get('p10', 0):,}-{by_end.get('p90', 0):,}; {seconds} s",
                flush=True,
            )
            as_of += dt.timedelta(weeks=1)
        out["enrolled_by_end"] = sum(
            int(r[4]) for r in logs["enrolments"][1] if dt.date.fromisoformat(r[1]) <= END
        )  # the log's own truth by 30 April (the last forecast's records stop the day before)
        out["enrolled_recorded_at_last_forecast"] = total
    out["seconds"] = round(time.perf_counter() - began, 1)
    out["public_record"] = {d.isoformat(): n for d, n in PUBLIC.items()}
    mid = dt.date(2012, 7, 1).isoformat()
    out["first_said_not_before_mid_2012"] = next(
        (
            w["as_of"]
            for w in out["weeks"]
            if w["completion"]["p10"] >= mid or w["completion"]["p10"].startswith("after")
        ),
        None,
    )
    (RESULTS / "medan-replay.json").write_text(json.dumps(out, indent=1, default=str) + "\n", encoding="utf-8")
    chart(out, RESULTS / "medan-replay.png")
    print(json.dumps({k: v for k, v in out.items() if k not in ("weeks", "levers")}, indent=1, default=str))


def chart(out: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from ektp_opt.plotting.save import save_png

    weeks = out["weeks"]
    x = [dt.date.fromisoformat(w["as_of"]) for w in weeks]

    def day(s: str) -> dt.date:
        return dt.date.fromisoformat(s.removeprefix("after "))

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.6), dpi=110)
    a.fill_between(
        x, [day(w["completion"]["p10"]) for w in weeks], [day(w["completion"]["p90"]) for w in weeks],
        alpha=0.25, color="#1f6f8b", label="completion P10-P90",
    )  # fmt: skip
    a.plot(x, [day(w["completion"]["p50"]) for w in weeks], color="#1f6f8b", label="completion P50")
    a.axhline(dt.date(2011, 12, 15), color="#c0392b", linestyle="--", label="deadline 15 Dec 2011")
    a.axhline(dt.date(2012, 7, 1), color="#7f8c8d", linestyle=":", label="mid-2012")
    a.set_title("When will every family who comes be enrolled?")
    a.set_xlabel("forecast made on")
    for axis in (a.xaxis, a.yaxis):
        axis.set_major_formatter(mdates.DateFormatter("%b %y"))
    a.legend(fontsize=8, loc="upper left")
    a.grid(alpha=0.3)
    have = [w for w in weeks if w["enrolled_by_2012_04_30"]]
    xb = [dt.date.fromisoformat(w["as_of"]) for w in have]
    b.fill_between(
        xb, [w["enrolled_by_2012_04_30"]["p10"] / 1e6 for w in have],
        [w["enrolled_by_2012_04_30"]["p90"] / 1e6 for w in have], alpha=0.25, color="#1f6f8b", label="forecast P10-P90",
    )  # fmt: skip
    b.plot(xb, [w["enrolled_by_2012_04_30"]["p50"] / 1e6 for w in have], color="#1f6f8b", label="forecast P50")
    b.axhline(out["enrolled_by_end"] / 1e6, color="#2c3e50", label=f"the replay: {out['enrolled_by_end'] / 1e6:.2f} M")
    b.axhline(1.261362, color="#c0392b", linestyle="--", label="public record: 1.26 M")
    b.set_title("Residents enrolled by 30 April 2012 (millions)")
    b.set_xlabel("forecast made on")
    b.xaxis.set_major_formatter(mdates.DateFormatter("%b %y"))
    b.legend(fontsize=8, loc="lower right")
    b.grid(alpha=0.3)
    save_png(fig, path)


if __name__ == "__main__":
    main()

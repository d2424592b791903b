"""One self-contained HTML file: the plan's headline, four charts (PNG, embedded), and a table
per kecamatan. No script, no network: it opens offline in any browser and prints cleanly."""

from __future__ import annotations

import base64
import html
from typing import Any

import numpy as np

from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.plan.view import Plan
from ektp_opt.plotting import report as charts

CHARTS = ("cumulative", "devices", "utilisation", "gantt")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 0.2em; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; } th { background: #f3f3f3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.late { color: #c0392b; font-weight: bold; } .ok { color: #27ae60; font-weight: bold; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9em; }
"""


def embedded_png(name: str, png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="chart-{name}"><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _table(head: list[str], rows: list[list[Any]], numeric_from: int = 1) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            text = f"{v:,}" if isinstance(v, int) else str(v)
            cls = ' class="n"' if i >= numeric_from else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out) + "</table>"


def kecamatan_rows(view: Plan, ls: LoadedScenario) -> list[list[Any]]:
    names = {k.code: k.name for k in ls.admin.kecamatan}
    n = len(view.kecamatan)
    residents = np.bincount(view.site, weights=view.members, minlength=n).astype(int)
    kk = np.bincount(view.site, minlength=n)
    first = np.full(n, len(view.days))
    last = np.full(n, -1)
    np.minimum.at(first, view.site, view.day)
    np.maximum.at(last, view.site, view.day)
    devices = np.bincount(view.device_kec, minlength=n)
    kel = [len(set(view.kel[view.site == k].tolist())) for k in range(n)]
    rows = []
    for k, code in enumerate(view.kecamatan):
        if kk[k] == 0:
            continue
        rows.append(
            [f"{code} {names.get(code, '')}", int(kk[k]), int(residents[k]), int(devices[k]), kel[k],
             view.days[int(first[k])].isoformat(), view.days[int(last[k])].isoformat()]
        )  # fmt: skip
    return rows


def render(view: Plan, ls: LoadedScenario) -> str:
    sc, info = ls.scenario, view.summary
    names = {k.code: k.name for k in ls.admin.kecamatan}
    last_regular = view.days[view.regular_days - 1]
    completion = view.days[int(view.day.max())] if view.day.size else None
    verdict = (
        '<span class="ok">on time</span>: no office appointment (every KK is visited at home)'
        if completion is None
        else f'<span class="ok">on time</span>: regular appointments end {completion}, last regular day {last_regular}'
        if completion <= last_regular
        else f'<span class="late">LATE</span>: regular appointments end {completion}, after {last_regular}'
    )
    objectives = [
        [name, lv.value, lv.bound, f"{lv.gap:.4%}", lv.status, lv.scope] for name, lv in info.objectives.items()
    ]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        '<meta name="generator" content="ektp-opt">',
        f"<title>{html.escape(sc.name)}: e-KTP enrolment plan</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(sc.city)}: e-KTP enrolment plan</h1>",
        f"<p class='sub'>scenario {html.escape(sc.name)} · {len(view.kk_id):,} KK · "
        f"{int(view.members.sum()):,} residents · {len(view.device_ids)} devices · status "
        f"<b>{html.escape(info.status)}</b></p>",
        f"<p>{verdict}; deadline {sc.deadline} (the days after the last regular day are catch-up days).</p>",
        "<h2>Objectives (lexicographic, each with a proven bound)</h2>",
        _table(["level", "value", "proven bound", "gap", "status", "scope"], objectives),
        "<h2>Progress</h2>",
        embedded_png("cumulative", charts.cumulative(view), "Residents enrolled against the deadline"),
        embedded_png("devices", charts.devices(view, names), "Devices in service per kecamatan"),
        embedded_png(
            "utilisation",
            charts.utilisation(view, lambda c: sc.seats_per_device_shift(c) * sc.shifts_for(c)),
            "Seat utilisation, kecamatan by day",
        ),
        embedded_png("gantt", charts.gantt(view), "Kelurahan windows per kecamatan"),
        _home_visits_html(view),
        "<h2>Per kecamatan</h2>",
        _table(
            ["kecamatan", "KK", "residents", "devices", "kelurahan", "first day", "last day"], kecamatan_rows(view, ls)
        ),
        f"<p class='sub'>ektp-opt {html.escape(info.versions.ektp_opt)} · "
        f"scenario sha256 {html.escape(info.inputs.scenario_sha256[:12])}</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _home_visits_html(view: Plan) -> str:
    if not view.home_visits:
        return ""
    rows = view.home_visits
    unserved = sum(1 for r in rows if r.date is None)
    days = {(r.device_id, r.date) for r in rows if r.date is not None}
    per_kec: dict[str, list[int]] = {}
    for r in rows:
        entry = per_kec.setdefault(r.kelurahan_code[:8], [0, 0, 0])
        entry[0 if r.date is not None else 2] += 1
    for device, _date in days:
        per_kec.setdefault(device[:8], [0, 0, 0])[1] += 1
    table = _table(["kecamatan", "KK visited", "mobile days", "KK without a visit"],
                   [[k, *v] for k, v in sorted(per_kec.items())])  # fmt: skip
    warn = f' <span class="late">{unserved} KK have no visit: see summary.json</span>' if unserved else ""
    return (
        f"<h2>Home visits</h2><p>{len(rows) - unserved:,} KK visited at home on {len(days):,} mobile "
        f"device-days (a portable device out of its office for the day).{warn}</p>{table}"
    )

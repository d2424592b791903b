"""The campaign on one page (``campaign report``): progress against the plan with the forecast's
fan, kecamatan on track / at risk / late, the backlog, downtime by kecamatan and reason, the
measured field against the nominal, and the plan versions with what changed each time.

One self-contained HTML file (the chart embedded as PNG, no script, no network): it opens from a
USB stick in any browser. Every figure that also appears in ``campaign status --json`` or
``campaign forecast --json`` carries ``data-json="<path>"`` with that JSON's key path (``status/…``
or ``forecast/…``, keys joined by "/": kecamatan codes have dots), so a test
(and a reader with the JSON beside it) can hold the page to the JSON.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ektp_opt.campaign.forecast import Forecast
from ektp_opt.campaign.snapshot import Snapshot
from ektp_opt.campaign.status import Status
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.report.html import STYLE, embedded_png

ON_TRACK = 0.9  # P(on time) at least this: on track
AT_RISK = 0.5  # at least this: at risk; below: late

EXTRA_STYLE = """
.risk { color: #d35400; font-weight: bold; }
.headline { font-size: 1.1em; } .headline b { font-variant-numeric: tabular-nums; }
"""


@dataclass(frozen=True)
class Figures:
    """What the page shows besides status and forecast, computed from the snapshot."""

    planned: list[tuple[dt.date, int]]  # the plan in force, cumulative residents by day
    downtime: dict[str, dict[str, int]]  # kecamatan -> reason -> device-shifts down
    versions: list[dict[str, Any]]  # per plan version: when, who, how, what changed


def figures(snap: Snapshot) -> Figures:
    has = ~np.isnat(snap.appt_day)
    planned: list[tuple[dt.date, int]] = []
    if has.any():
        days, inv = np.unique(snap.appt_day[has], return_inverse=True)
        per = np.bincount(inv, weights=snap.members[has]).astype(np.int64).cumsum()
        planned = [(d, int(n)) for d, n in zip(days.astype(object).tolist(), per.tolist(), strict=True)]
    kec_of = {d: k for d, k, _a, _b in snap.devices}
    downtime: dict[str, dict[str, int]] = {}
    for device, reason, n in snap.down_reasons:
        kec = downtime.setdefault(kec_of.get(device, "?"), {})
        kec[reason or "(none given)"] = kec.get(reason or "(none given)", 0) + n
    versions = []
    for v in snap.versions:
        summary = json.loads(v.get("summary") or "{}")
        resolve = summary.get("resolve") or {}
        campaign = summary.get("campaign") or {}
        calibration = campaign.get("calibration") or {}
        versions.append(
            {
                "version": v["version"],
                "in_force_from": str(v["in_force_from"]),
                "made_by": v["made_by"],
                "source": v["source"],
                "moved_kk": resolve.get("moved_kk"),
                "missed_rebooked": resolve.get("missed_rebooked"),
                "capacity_per_day": calibration.get("capacity_per_day"),
            }
        )
    return Figures(planned, downtime, versions)


def _cell(value: Any, key: str | None = None, cls: str = "n") -> str:
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.4g}" if isinstance(value, float) else str(value)
    attr = f' data-json="{html.escape(key)}"' if key else ""
    return f'<td class="{cls}"{attr}>{html.escape(text)}</td>'


def _head(names: list[str]) -> str:
    return "<tr>" + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "</tr>"


def _span(value: Any, key: str) -> str:
    text = f"{value:,}" if isinstance(value, int) else str(value)
    return f'<b data-json="{html.escape(key)}">{html.escape(text)}</b>'


def verdict(p_on_time: float) -> tuple[str, str]:
    if p_on_time >= ON_TRACK:
        return "on track", "ok"
    if p_on_time >= AT_RISK:
        return "at risk", "risk"
    return "late", "late"


def render(status: Status, fc: Forecast, extra: Figures, ls: LoadedScenario, chart: bytes) -> str:
    """The page; ``extra``: ``figures(snapshot)``, made once by the caller (the chart needs it too)."""
    sc = ls.scenario
    names = {k.code: k.name for k in ls.admin.kecamatan}
    word, cls = verdict(fc.p_on_time)
    c = fc.completion
    share = status.enrolled / status.residents if status.residents else 0.0
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        '<meta name="generator" content="ektp-opt">',
        f"<title>{html.escape(sc.name)}: e-KTP campaign on {status.as_of}</title>",
        f"<style>{STYLE}{EXTRA_STYLE}</style></head><body>",
        f"<h1>{html.escape(sc.city)}: e-KTP campaign</h1>",
        f"<p class='sub'>as of {_span(status.as_of.isoformat(), 'status/as_of')} · plan version "
        f"{_span(status.version, 'status/plan_version')} · deadline {sc.deadline} · "
        f"{_span(fc.runs, 'forecast/runs')} forecast runs</p>",
        f"<p class='headline'>{_span(status.enrolled, 'status/enrolled')} of "
        f"{_span(status.residents, 'status/residents')} residents enrolled ({share:.1%}); the plan had "
        f"{_span(status.planned_by_as_of, 'status/planned_by_as_of')} by then. Completion P10 "
        f"{_span(c['p10'], 'forecast/completion/p10')}, P50 {_span(c['p50'], 'forecast/completion/p50')}, "
        f"P90 {_span(c['p90'], 'forecast/completion/p90')}; P(on time) "
        f"{_span(round(fc.p_on_time, 4), 'forecast/p_on_time')}: <span class='{cls}'>{word}</span>.</p>",
        "<h2>Progress against the plan</h2>",
        embedded_png("forecast", chart, "Enrolled so far, the plan in force, and the forecast's P10-P90 fan"),
        _share_dates(fc),
        "<h2>Kecamatan</h2>",
        _kecamatan(status, fc, names),
        "<h2>The backlog</h2>",
        _backlog(status),
        "<h2>Devices down, by kecamatan and reason</h2>",
        _downtime(extra.downtime, names),
        "<h2>What the records say against the plan's assumptions</h2>",
        _parameters(status, fc),
        "<h2>Plan versions</h2>",
        _versions(extra.versions),
        "<p class='sub'>Made by ektp-opt from the campaign store. Every figure marked in the page's source "
        "with data-json is the same as in <code>campaign status --json</code> or <code>campaign forecast "
        "--json</code> for this day.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _share_dates(fc: Forecast) -> str:
    rows = [_head(["share of residents", "P10", "P50", "P90"])]
    for share, q in fc.share_dates.items():
        cells = "".join(_cell(q[p], f"forecast/share_dates/{share}/{p}", "") for p in ("p10", "p50", "p90"))
        rows.append(f"<tr><td>{float(share):.0%}</td>{cells}</tr>")
    u = fc.unenrolled_at_deadline
    return (
        "<table>" + "".join(rows) + "</table>"
        f"<p>Not enrolled at the deadline: mean {_span(u['mean'], 'forecast/unenrolled_at_deadline/mean')}, "
        f"P90 {_span(u['p90'], 'forecast/unenrolled_at_deadline/p90')}.</p>"
    )


def _kecamatan(status: Status, fc: Forecast, names: dict[str, str]) -> str:
    rows = [
        _head(["kecamatan", "residents", "enrolled", "planned by then", "backlog KK", "P(on time)", "P50", "P90", ""])
    ]
    for code, k in sorted(status.kecamatan.items()):
        f = fc.per_kecamatan.get(code)
        if f is None:
            continue
        word, cls = verdict(f["p_on_time"])
        rows.append(
            f"<tr><td>{html.escape(code)} {html.escape(names.get(code, ''))}</td>"
            + _cell(k["residents"], f"status/kecamatan/{code}/residents")
            + _cell(k["enrolled"], f"status/kecamatan/{code}/enrolled")
            + _cell(k["planned_by_as_of"], f"status/kecamatan/{code}/planned_by_as_of")
            + _cell(k["backlog_kk"], f"status/kecamatan/{code}/backlog_kk")
            + _cell(f["p_on_time"], f"forecast/per_kecamatan/{code}/p_on_time")
            + _cell(f["p50"], f"forecast/per_kecamatan/{code}/p50", "")
            + _cell(f["p90"], f"forecast/per_kecamatan/{code}/p90", "")
            + f"<td class='{cls}'>{word}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def _backlog(status: Status) -> str:
    b = status.backlog
    return (
        f"<p>{_span(b['kk'], 'status/backlog/kk')} KK owed a seat ({_span(b['residents'], 'status/backlog/residents')} "
        f"residents): {_span(b['no_show_kk'], 'status/backlog/no_show_kk')} missed their day, "
        f"{_span(b['partly_enrolled_kk'], 'status/backlog/partly_enrolled_kk')} came in part. "
        f"{_span(b['returned_kk'], 'status/backlog/returned_kk')} KK's letters came back undelivered; "
        "they are not counted as owed until someone finds them.</p>"
    )


def _downtime(downtime: dict[str, dict[str, int]], names: dict[str, str]) -> str:
    if not downtime:
        return "<p>No device-shift was recorded down.</p>"
    reasons = sorted({r for per in downtime.values() for r in per})
    rows = [_head(["kecamatan", *reasons, "all"])]
    for code in sorted(downtime):
        per = downtime[code]
        rows.append(
            f"<tr><td>{html.escape(code)} {html.escape(names.get(code, ''))}</td>"
            + "".join(_cell(per.get(r, 0)) for r in reasons)
            + _cell(sum(per.values()))
            + "</tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def _parameters(status: Status, fc: Forecast) -> str:
    rows = [_head(["parameter", "measured", "90 % interval", "observations", "nominal"])]
    for name, est in fc.parameters.items():
        nominal = status.field.nominal.get(name, "")
        low, high = est.get("low"), est.get("high")
        interval = "" if low is None or high is None else f"{low:,.4g} - {high:,.4g}"
        estimate = est.get("estimate")
        rows.append(
            f"<tr><td>{html.escape(name.replace('_', ' '))}</td>"
            + (_cell(estimate, f"forecast/parameters/{name}/estimate") if estimate is not None else "<td>-</td>")
            + f"<td>{html.escape(interval)}</td>"
            + _cell(est.get("observations", 0), f"forecast/parameters/{name}/observations")
            + _cell(nominal, None, "n" if nominal != "" else "")
            + "</tr>"
        )
    return (
        "<table>" + "".join(rows) + "</table><p class='sub'>measured: from the records as they are; fitted: what the "
        "field must have been for the records to read as they do (a full office hides families waiting).</p>"
    )


def _versions(versions: list[dict[str, Any]]) -> str:
    rows = [_head(["version", "in force from", "made by", "how", "KK moved", "missed KK re-booked", "seats a day"])]
    for v in versions:
        rows.append(
            f"<tr>{_cell(v['version'])}<td>{html.escape(v['in_force_from'])}</td><td>{html.escape(v['made_by'])}</td>"
            f"<td>{html.escape(v['source'])}</td>"
            + _cell("" if v["moved_kk"] is None else v["moved_kk"])
            + _cell("" if v["missed_rebooked"] is None else v["missed_rebooked"])
            + _cell("nominal" if v["capacity_per_day"] is None else v["capacity_per_day"])
            + "</tr>"
        )
    return "<table>" + "".join(rows) + "</table>"

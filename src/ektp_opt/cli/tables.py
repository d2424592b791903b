"""Rich tables for people: scenario summary, plan summary, verifier report, diagnosis."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from ektp_opt.results import Diagnosis, PlanSummary, SimulationSummary
from ektp_opt.safety.textsafe import TextTable, plain, text

if TYPE_CHECKING:
    from ektp_opt.api import Households, LoadedScenario, ProblemData, Report, Result


def _table(title: str, *columns: str) -> Table:
    t = TextTable(title=title, title_justify="left")
    for i, c in enumerate(columns):
        t.add_column(c, justify="left" if i == 0 else "right")
    return t


def population_table(h: Households, title: str, written_to: Path, seconds: float) -> Table:
    t = _table(f"Population of {title}", "measure", "value")
    t.add_row("KK (households)", f"{len(h):,}")
    t.add_row("residents", f"{h.residents:,}")
    t.add_row("members per KK (mean)", f"{h.residents / len(h):.3f}")
    t.add_row("single-member KK", f"{np.mean(h.members == 1):.1%}")
    t.add_row("largest KK", f"{int(h.members.max())}")
    t.add_row("KK needing a home visit", f"{int(h.home_visit.sum()):,}")
    t.add_row("written to", str(written_to))
    t.add_row("seconds", f"{seconds:.2f}")
    return t


def scenario_tables(ls: LoadedScenario, data: ProblemData, h: Households) -> list[Table]:
    from ektp_opt.api import scenario_figures

    sc = ls.scenario
    fig = scenario_figures(data, h)
    head = _table(f"Scenario {sc.name} ({sc.city})", "measure", "value")
    head.add_row("start / deadline", f"{sc.start} / {sc.deadline}")
    head.add_row("regular working days", f"{data.regular_days} (last {data.last_regular_day})")
    head.add_row("catch-up days", str(sc.backlog.catch_up_days))
    head.add_row("shifts per day", str(sc.shifts_per_day))
    head.add_row("regular seats per device-shift", ", ".join(str(s) for s in fig.seats_per_device_shift))
    head.add_row("KK / residents", f"{len(h):,} / {h.residents:,}")

    dev = _table(
        "Deliveries",
        "delivered",
        "serves from",
        "devices",
        "where",
        "device-days to last regular day",
    )
    for d in fig.deliveries:
        dev.add_row(str(d.delivered), str(d.serves_from), f"{d.devices:,}", d.where, f"{d.device_days:,}")

    per = _table("Residents per kecamatan", "kecamatan", "kelurahan", "KK", "residents")
    for k, row in enumerate(fig.kecamatan):
        per.add_row(f"{row.code} {ls.admin.kecamatan[k].name}", str(row.kelurahan), f"{row.kk:,}", f"{row.residents:,}")

    bound = _table("Simple capacity bound (to the last regular day)", "measure", "value")
    bound.add_row("regular seats, named deliveries", f"{fig.seats_named:,}")
    bound.add_row("regular seats, pools", f"{fig.seats_pools:,}")
    bound.add_row("residents", f"{h.residents:,}")
    ok = fig.enough_seats
    verdict = "enough seats (a plan may exist)" if ok else "too few seats: deadline cannot be met"
    bound.add_row("seats / residents", text(f"{fig.seats_per_resident:.3f} · {verdict}", "" if ok else "red"))
    return [head, dev, per, bound]


def result_table(result: Result, info: PlanSummary) -> Table:
    data = result.problem
    t = _table("Plan by kecamatan", "kecamatan", "devices", "residents", "completion")
    for code in data.kecamatan_codes:
        t.add_row(
            code,
            str(info.devices_per_kecamatan[code]),
            f"{info.residents_per_site[code]:,}",
            str(info.kecamatan_completion[code]),
        )
    t.add_row(
        text("city", "bold"),
        text(info.devices, "bold"),
        text(f"{info.residents:,}", "bold"),
        text(info.completion_date, "bold"),
    )
    utilisation = f"{info.seat_utilisation:.1%}" if info.seat_utilisation is not None else "-"
    t.caption = (
        f"seat utilisation {utilisation} of regular seats up to the completion day · "
        f"solved in {info.solve_seconds:.1f} s with {info.workers} worker(s), seed {info.seed}"
    )
    return t


def verify_table(report: Report, seconds: float) -> Table | Panel:
    if report.ok:
        warnings = "".join(f"\n[yellow]warning:[/] {plain(w)}" for w in report.warnings)
        return Panel(
            f"[green]plan is clean[/]: {report.rows:,} appointments, {len(report.checked)} checks "
            f"passed in {seconds:.1f} s{warnings}",
            title=plain(report.plan_dir),
        )
    t = _table(f"Broken hard rules in {report.plan_dir}", "rule", "SPEC rule", "rows", "first examples")
    for v in report.violations:
        t.add_row(v.rule, v.spec, f"{v.count:,}", ", ".join(v.examples))
    return t


def diagnosis_panel(d: Diagnosis) -> Panel:
    """One screen: the verdict, the seat arithmetic behind it, then one row per kecamatan with
    its finish in the earliest citywide plan and the extra devices each delivery date would need."""
    ec, sa = d.earliest_completion, d.seat_arithmetic
    options = [e for e in d.extra_devices_needed if e.possible]
    lines = [
        f"Residents: {d.residents:,} in {d.households:,} KK · devices delivered: {d.devices_delivered}",
        f"Last regular day: {d.last_regular_day} (deadline {d.deadline}, catch-up days after it)",
        f"Seat arithmetic: at most {sa.seats_by_last_regular_day_upper_bound:,} seats in "
        f"{sa.regular_working_days} regular working days for {d.residents:,} residents"
        + (f" → [red]{sa.shortfall:,} short[/]" if sa.shortfall else ""),
        f"Earliest completion with these deliveries: [bold]{ec.citywide}[/] "
        f"({ec.working_days} working days, {ec.status})"
        if ec.citywide is not None
        else f"Earliest completion with these deliveries: [red]never[/] ({plain(ec.reason or '')})",
    ]
    for e in options:
        lines.append(
            f"Fewest extra devices delivered {e.date}: [bold]{e.extra_devices}[/], a pool of "
            f"{e.pool_on_date_with_extra} that day (seat-arithmetic floor {e.closed_form_lower_bound}, "
            f"serving from {e.available_from})"
        )
    for e in d.extra_devices_needed:
        if not e.possible:
            lines.append(f"Extra devices delivered {e.date}: [red]cannot help[/] ({plain(e.reason or '')})")
    t = _table("", "kecamatan", "finish in the earliest citywide plan", *(f"+devices if {e.date}" for e in options))
    for code, when in ec.per_kecamatan.items():
        late = when is not None and when > d.last_regular_day
        cells = [str(e.split.get(code, "")) for e in options]
        t.add_row(f"{code} {d.kecamatan_names.get(code, '')}", text(when, "red") if late else str(when), *cells)
    body: list[Any] = ["\n".join(lines)]
    if not d.meets_deadline:
        body.append(t)
    title = "[green]deadline can be met[/]" if d.meets_deadline else "[red]deadline cannot be met[/]"
    return Panel(Group(*body), title=f"{plain(d.scenario)}: {title}")


def sensitivity_table(points: list[Any], on: str, current: int, last_regular_day: str) -> Table:
    t = _table(
        f"Pool size on {on} against earliest completion (proven)",
        "pool devices",
        "completion",
        f"done by {last_regular_day}",
    )
    for p in points:
        mark = " ← scenario" if p.pool == current else ""
        t.add_row(
            f"{p.pool}{mark}", f"{p.completion} ({p.working_days} wd)", "yes" if p.meets_deadline else text("no", "red")
        )
    return t


def simulation_table(rows: list[SimulationSummary]) -> Table:
    """One column per late rate, so several rates compare side by side on one screen."""
    t = _table("Late arrivals (Monte Carlo)", "", *(f"late rate {s.late_rate:g}" for s in rows))
    measures: list[tuple[str, Callable[[SimulationSummary], str]]] = [
        ("runs", lambda s: f"{s.runs:,}"),
        ("P(everyone back by the deadline is enrolled)", lambda s: f"{s.probability_on_time:.1%}"),
        ("late residents (mean)", lambda s: f"{s.late_residents_mean:,.0f}"),
        ("backlog clears, citywide (mean)", lambda s: s.citywide_clear_date_expected),
        ("backlog clears, citywide (p95)", lambda s: s.citywide_clear_date_p95),
        ("peak backlog, residents (mean / p95)", lambda s: f"{s.peak_backlog_mean:,.0f} / {s.peak_backlog_p95:,.0f}"),
        (
            "still waiting at the deadline (mean / p95)",
            lambda s: f"{s.waiting_at_deadline_mean:,.0f} / {s.waiting_at_deadline_p95:,.0f}",
        ),
        ("back only after the deadline (mean)", lambda s: f"{s.returned_after_deadline_mean:,.0f}"),
    ]
    for label, cell in measures:
        t.add_row(label, *(cell(s) for s in rows))
    return t


def simulation_kecamatan_table(summary: SimulationSummary, names: dict[str, str]) -> Table:
    t = _table(
        f"Per kecamatan at late rate {summary.late_rate:.2f}",
        "kecamatan",
        "P(cleared by deadline)",
        "backlog clears (mean)",
        "p95",
        "waiting at deadline (mean)",
    )
    for row in summary.per_kecamatan:
        t.add_row(
            f"{row.kecamatan} {names.get(row.kecamatan, '')}",
            f"{row.probability_cleared_by_deadline:.1%}",
            row.expected_clear_date,
            row.p95_clear_date,
            f"{row.expected_waiting_at_deadline:,.0f}",
        )
    return t


def recommendation_table(table: list[Any], target: float, best: Any) -> Table:
    t = _table(
        f"Backlog sizing: smallest reserve reaching P(on time) >= {target:.0%}",
        "catch-up days",
        "reserve per shift",
        "P(on time)",
        "regular appointments end",
        "last regular day",
    )
    for c in table:
        mark = " ← recommended" if c is best else ""
        t.add_row(
            f"{c.catch_up_days}{mark}",
            str(c.reserve_per_shift) if c.reserve_per_shift is not None else text("none", "red"),
            f"{c.probability:.1%}" if c.probability is not None else "-",
            c.completion.isoformat() if c.completion else c.note,
            c.last_regular_day.isoformat() if c.last_regular_day else "-",
        )
    return t


def moves_tables(
    stats: dict[str, Any], reinvite: Sequence[tuple[str, str, int, int]], names: dict[str, str]
) -> list[Table]:
    """Where the moves of a re-plan fall, how far and why, and which invitations to send again."""
    kec = _table(
        "Moved KK per kecamatan (working days)",
        "kecamatan",
        "moved",
        "forced",
        "later",
        "earlier",
        "days later (mean / max)",
        "kelurahan",
    )
    for r in stats["per_kecamatan"]:
        kec.add_row(
            f"{r['kecamatan']} {names.get(r['kecamatan'], '')}",
            f"{r['moved']:,}",
            f"{r['forced']:,}",
            f"{r['later']:,}",
            f"{r['earlier']:,}",
            f"{r['mean_days_later']} / {r['max_days_later']}",
            str(r["kelurahan"]),
        )
    why = _table("Why", "reason", "KK")
    for reason, n in sorted(stats["reasons"].items(), key=lambda kv: -kv[1]):
        why.add_row(reason, f"{n:,}")
    rounds: dict[str, list[tuple[str, int]]] = {}
    for kel, date, n, _people in reinvite:
        rounds.setdefault(kel, []).append((date, n))
    shown = sorted(rounds.items(), key=lambda kv: -sum(n for _d, n in kv[1]))[:15]
    inv = _table(
        f"Invitation rounds to send again ({len(rounds)} kelurahan; all in reinvite.csv)",
        "kelurahan",
        "KK",
        "new dates (KK)",
    )
    for kel, items in shown:
        biggest = sorted(items, key=lambda dn: (-dn[1], dn[0]))[:4]
        dates = ", ".join(f"{d} ({n})" for d, n in sorted(biggest))
        dates += f", +{len(items) - 4} more" if len(items) > 4 else ""
        inv.add_row(kel, f"{sum(n for _d, n in items):,}", dates)
    return [kec, why, inv]


def scaling_table(results: dict[str, Any]) -> Table:
    """One row per size: ektp-opt's time, memory and gaps beside the baselines' outcome."""
    t = _table(
        "Scaling study (ektp-opt, then the baselines)",
        "residents",
        "s",
        "MiB",
        "status",
        "done",
        "wait gap",
        "monolithic",
        "queue done",
        "queue wait",
    )
    by = {(r.get("method"), r.get("residents")): r for r in results["runs"]}
    for n in results["sizes"]:
        ours, mono, queue = by.get(("ektp", n), {}), by.get(("monolithic", n), {}), by.get(("queue", n), {})
        levels = ours.get("levels", {})
        waiting = levels.get("waiting", {})
        q_wait = queue.get("levels", {}).get("waiting", {}).get("value")
        ratio = f"+{q_wait / waiting['value'] - 1:.1%}" if q_wait and waiting.get("value") else "-"
        mono_cell = str(mono.get("status", "-"))
        if mono.get("booleans"):
            mono_cell = mono_cell.replace("NOT_BUILT", "not built") + f" {mono['booleans'] / 1e6:.1f}M x"
        t.add_row(
            f"{n:,}",
            f"{ours.get('total_seconds', '-')}",
            f"{ours.get('peak_rss_mib', '-')}",
            str(ours.get("status", "-"))[:4],
            str(ours.get("completion_date", "-"))[5:],
            f"{waiting.get('gap', 0):.3%}" if waiting else "-",
            mono_cell,
            str(queue.get("completion_date", "-"))[5:],
            ratio,
        )
    return t


def roster_table(rows: list[Any], kecamatan: str, day: Any) -> Table:
    t = _table(
        f"Roster {kecamatan} on {day}", "device", "shift", "time", "KK", "residents", "regular seats", "backlog seats"
    )
    for r in rows:
        t.add_row(
            r.device_id,
            str(r.shift),
            f"{r.start:%H:%M}-{r.end:%H:%M}",
            str(r.kk),
            str(r.residents),
            str(r.regular_seats),
            str(r.backlog_seats),
        )
    t.add_row(
        "total",
        "",
        "",
        str(sum(r.kk for r in rows)),
        str(sum(r.residents for r in rows)),
        str(sum(r.regular_seats for r in rows)),
        str(sum(r.backlog_seats for r in rows)),
    )
    return t


def front_table(front: Any) -> Table:
    """``resolve --tradeoff``: each cap with the KK a plan moves, the proven bound and the
    largest delay in that plan; Pareto points marked."""
    t = _table(
        "Largest delay of a moved KK against KK moved (working days)",
        "cap",
        "KK moved",
        "proven bound",
        "gap",
        "largest delay",
        "Pareto",
        "seconds",
    )
    pareto = {id(p) for p in front.pareto}
    for p in [*front.points, front.no_cap]:
        moved = "no plan" if p.moves is None else f"{p.moves:,}"
        gap = "" if p.moves is None or not p.moves else f"{(p.moves - p.bound) / p.moves:.1%}"
        t.add_row(
            "no cap" if p is front.no_cap else str(p.cap),
            moved,
            f"{p.bound:,}",
            gap,
            "" if p.largest_delay is None else str(p.largest_delay),
            "*" if id(p) in pareto else "",
            f"{p.seconds:.1f}",
        )
    return t


def cap_diagnosis_panel(d: Any) -> Panel:
    """Why ``resolve --max-delay`` cannot keep the cap, and the smallest cap that can be met."""
    lines = [
        f"No re-plan keeps every moved KK within {d.max_delay} working days.",
        f"Smallest cap a plan meets: {d.smallest_cap} working days ({d.moves_at_smallest_cap:,} KK moved); "
        f"no plan meets a cap below {d.smallest_cap_bound} ({d.scope}).",
        "Tightest kecamatan: "
        + ", ".join(
            f"{k.kecamatan} ({k.smallest_cap})" for k in sorted(d.per_kecamatan, key=lambda k: -k.smallest_cap)[:5]
        ),
    ]
    return Panel("\n".join(plain(line) for line in lines), title="Delay cap cannot be met", border_style="yellow")


def campaign_progress_table(st: Any) -> Table:
    """Per kecamatan: residents, planned by as-of, enrolled, the backlog, letters returned."""
    t = _table(
        f"Campaign on {st.as_of} (plan version {st.version})",
        "kecamatan",
        "residents",
        "planned by then",
        "enrolled",
        "of planned",
        "backlog KK",
        "returned KK",
    )
    for code, row in st.kecamatan.items():
        planned = row.get("planned_by_as_of", 0)
        share = f"{row.get('enrolled', 0) / planned:.0%}" if planned else "-"
        t.add_row(
            code,
            f"{row.get('residents', 0):,}",
            f"{planned:,}",
            f"{row.get('enrolled', 0):,}",
            share,
            f"{row.get('backlog_kk', 0):,}",
            f"{row.get('returned_kk', 0):,}",
        )
    share = f"{st.enrolled / st.planned_by_as_of:.0%}" if st.planned_by_as_of else "-"
    t.add_row(
        "city",
        f"{st.residents:,}",
        f"{st.planned_by_as_of:,}",
        f"{st.enrolled:,}",
        share,
        f"{st.backlog['kk']:,}",
        f"{st.backlog['returned_kk']:,}",
    )
    return t


def campaign_parameters_table(st: Any) -> Table:
    """The measured field parameters against the nominal ones, with 90 % intervals."""
    t = _table("What the records say (90 % intervals)", "parameter", "measured", "interval", "observations", "nominal")
    for name, est in st.field.city.items():
        pct = name in ("down_share", "no_show", "came_back", "filled_shifts_served_whole", "letters_returned")

        def fmt(x: float, pct: bool = pct) -> str:
            return "-" if x != x else (f"{x:.1%}" if pct else f"{x:,.1f}")

        nominal = st.field.nominal.get(name)
        t.add_row(
            name.replace("_", " "),
            fmt(est.estimate),
            f"{fmt(est.low)} - {fmt(est.high)}",
            f"{est.observations:,}",
            fmt(nominal) if nominal is not None else "",
        )
    return t

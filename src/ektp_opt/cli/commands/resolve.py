"""`ektp-opt resolve`: plan again after a change, moving as few KK as possible."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ektp_opt.cli.commands.common import (
    SEED,
    Range,
    diagnosis_exit,
    guarded,
    quiet_option,
    scenario_arg,
    workers_option,
)
from ektp_opt.safety.textsafe import plain


@click.command()
@click.option("--plan", "old_plan", type=click.Path(path_type=Path), required=True, help="The plan folder in force.")
@click.option(
    "--scenario", "scenario_path", type=click.Path(path_type=Path), required=True, help="The changed scenario."
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="Today: appointments before it have happened and stay.",
)
@click.option(
    "--notice-days",
    type=click.IntRange(0, 365),
    default=3,
    show_default=True,
    help="Working days from --as-of whose appointments are announced and stay unless their device is gone.",
)
@click.option(
    "--attendance",
    type=click.Path(path_type=Path),
    default=None,
    help="CSV kk_id,attended (1/0) for past appointments; KK that missed go to backlog seats.",
)
@click.option(
    "--max-delay",
    type=click.IntRange(0, 3650),
    default=None,
    help="Cap: no moved KK is appointed more than this many working days after its old appointment; "
    "the fewest KK move within it (exit 4 with the smallest cap that can be met when none can).",
)
@click.option(
    "--tradeoff",
    is_flag=True,
    help="Show the front of (largest delay, KK moved) from the smallest possible cap to none, each with "
    "its proven bound, instead of writing a plan.",
)
@click.option("--caps", default=None, help="With --tradeoff: the caps to evaluate, e.g. 5,10,20 (default: a grid).")
@click.option(
    "--jobs",
    type=click.IntRange(1, 256),
    default=None,
    help="With --tradeoff: processes planning the kecamatan models side by side (default: one per core); "
    "the front is the same for any number.",
)
@click.option("--chart", type=click.Path(path_type=Path), default=None, help="With --tradeoff: write the front as PNG.")
@click.option(
    "--json", "json_out", type=click.Path(path_type=Path), default=None, help="With --tradeoff: the front as JSON."
)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="New plan folder to write.")
@click.option("--time-limit", type=Range(1.0), default=60.0, show_default=True, help="Seconds for CP-SAT.")
@workers_option
@click.option("--seed", type=SEED, default=0, show_default=True, help="CP-SAT random seed.")
@quiet_option
@guarded
def resolve(
    old_plan: Path,
    scenario_path: Path,
    as_of: Any,
    notice_days: int,
    attendance: Path | None,
    max_delay: int | None,
    tradeoff: bool,
    caps: str | None,
    jobs: int | None,
    chart: Path | None,
    json_out: Path | None,
    out: Path | None,
    time_limit: float,
    workers: int | None,
    seed: int,
    quiet: bool,
) -> None:
    """Plan again after a change (a delivery slipped, a holiday moved), keeping every promise that
    can be kept (SPEC.md, "Planning again").

    \b
    - appointments before --as-of stay (they happened);
    - appointments in the next --notice-days working days stay unless their device is not there
      that day; each such forced move is flagged;
    - first objective: the fewest KK whose date or shift changes (proven minimum), then the
      earliest completion, least waiting and compact kelurahan, each with a bound;
    - with --attendance, KK that missed a past slot get backlog seats or catch-up days, never a
      seat someone else holds.

    - with --max-delay N, no moved KK lands more than N working days after its old appointment
      (the working days after the old date up to the new one); extra KK move to make room, as
      few as possible, each within N days itself. Earlier dates are allowed.

    \b
    Writes OUT as a full plan folder (verified before it is written) plus changes.csv,
    reinvite.csv (invitation rounds to send again, per kelurahan) and backlog.csv.
    Examples:
      ektp-opt resolve --plan plans/medan-2011 --scenario data/medan/medan-2011-slip.toml \\
        --as-of 2011-09-05 --notice-days 3 --out plans/medan-2011-slip
      # see the choice: KK moved against the largest delay, as a table and a chart
      ektp-opt resolve --plan plans/medan-2011 --scenario data/medan/medan-2011-slip.toml \\
        --as-of 2011-09-05 --tradeoff --chart slip-front.png
      # then plan the point picked: nobody more than 10 working days later
      ektp-opt resolve --plan plans/medan-2011 --scenario data/medan/medan-2011-slip.toml \\
        --as-of 2011-09-05 --max-delay 10 --out plans/medan-2011-slip-10

    Exit 0 on success; 4 when the changed scenario cannot meet the deadline or the cap
    (OUT/diagnosis.json, as `solve` writes); 3 on bad input; 5 if the new plan would break a
    hard rule.
    """
    from ektp_opt.api import (
        SolveOptions,
        default_workers,
        move_stats,
        reinvite_rows,
        replan_city,
        write_diagnosis,
        write_replan,
    )
    from ektp_opt.cli.console import closing, err, levels_table, loud, progress_display
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import cap_diagnosis_panel, moves_tables
    from ektp_opt.errors import DelayCapError, InfeasibleError
    from ektp_opt.safety.atomic import check_folder_target

    options = SolveOptions(time_limit=time_limit, workers=workers or default_workers(), seed=seed)
    if tradeoff:
        if max_delay is not None or out is not None:
            raise click.UsageError("--tradeoff shows the front and writes no plan: drop --max-delay and --out")
        _tradeoff(
            old_plan,
            scenario_path,
            as_of.date(),
            notice_days,
            attendance,
            options,
            caps,
            jobs or default_workers(),
            chart,
            json_out,
            quiet,
        )
        return
    if out is None:
        raise click.UsageError("Missing option '--out' (the new plan folder)")
    if caps or chart or json_out or jobs:
        raise click.UsageError("--caps, --jobs, --chart and --json go with --tradeoff")
    ls = scenario_arg(scenario_path)
    check_folder_target(out)
    with progress_display(quiet) as rep:
        try:
            replanned = replan_city(old_plan, ls, as_of.date(), notice_days, attendance, options, rep, max_delay)
        except DelayCapError as exc:
            rep.progress.stop()
            written = write_diagnosis(out, exc.diagnosis)
            with loud():
                con.print(cap_diagnosis_panel(exc.diagnosis))
            raise DelayCapError(f"{exc.message}; diagnosis in {written}") from None
        except InfeasibleError as exc:
            diagnosis_exit(out, exc, rep.progress)
        with rep.stage("verify + write"):
            info = write_replan(replanned, out)
    rp, households = replanned.replan, replanned.households
    extra = info.resolve
    assert extra is not None
    kec_names = {k.code: k.name for k in ls.admin.kecamatan}
    for table in moves_tables(move_stats(rp, households), reinvite_rows(rp, households), kec_names):
        con.print(table)
    con.print(levels_table(rp.result.levels))
    bound = extra.moved_kk_proven_minimum
    proof = "proven minimum" if bound == extra.moved_kk else "lower bound"
    within = "" if max_delay is None else f" within {max_delay} working days"
    room = "" if max_delay is None else f", {extra.moved_to_make_room:,} of them to make room"
    con.print(
        f"Moved [bold]{extra.moved_kk:,}[/] KK{within} ({proof} {bound:,}{room}); "
        f"{extra.forced_in_notice_window:,} forced inside the notice window; "
        f"{extra.moved_later:,} to a later day (up to {extra.largest_delay_working_days} working days), "
        f"{extra.moved_earlier:,} to an earlier one; "
        f"{extra.new_device_same_slot:,} keep date and shift on another device; "
        f"{extra.missed_rebooked:,} missed KK re-booked."
    )
    status = rp.result.status
    closing(f"New plan written to [bold]{plain(out)}[/] (changes.csv, reinvite.csv) · status [bold]{status}[/]")
    if extra.missed_not_rebooked:
        err.print(
            f"[yellow]warning:[/] {extra.missed_not_rebooked} missed KK found no backlog seat before the "
            "deadline (backlog.csv lists them without a date)"
        )


def _tradeoff(
    old_plan: Path,
    scenario_path: Path,
    as_of: Any,
    notice_days: int,
    attendance: Path | None,
    options: Any,
    caps: str | None,
    jobs: int,
    chart: Path | None,
    json_out: Path | None,
    quiet: bool,
) -> None:
    """``--tradeoff``: the front as a table (and a chart, and JSON), and the command for a point."""
    from ektp_opt.api import tradeoff_city
    from ektp_opt.cli.console import closing, progress_display
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import front_table
    from ektp_opt.safety.atomic import check_file_target, together, write_json_atomic

    wanted = _caps(caps)
    for target, kind in ((chart, b"\x89PNG"), (json_out, b"{")):  # refused before any work starts
        if target is not None:
            check_file_target(target, kind)
    ls = scenario_arg(scenario_path)
    with progress_display(quiet) as rep:
        front = tradeoff_city(old_plan, ls, as_of, notice_days, attendance, options, rep, wanted, jobs)
        with together():  # the chart and the figures are committed together, or neither
            if chart is not None:
                from ektp_opt.plotting.tradeoff import plot_front

                with rep.stage("chart"):
                    plot_front(front, chart, f"{ls.scenario.name}: re-plan as of {as_of}")
            if json_out is not None:
                write_json_atomic(json_out, {"scenario": ls.scenario.name, "as_of": str(as_of), **front.to_json()})
    if front.must == 0:
        closing("No KK needs to move after this change: there is no trade-off to make (any cap is met).")
        return
    con.print(front_table(front))
    con.print(
        f"{front.must:,} KK must move under any cap (their shift lost seats); no plan meets a cap below "
        f"{front.smallest_cap_bound} working days; from a cap of {front.flat_from} the bound is theirs alone, "
        f"and the plan without a cap keeps every move within {front.no_cap.largest_delay}. {front.seconds:.1f} s."
    )
    closing(
        "Plan a point: ektp-opt resolve --plan PLAN --scenario SCENARIO "
        f"--as-of {as_of} --notice-days {notice_days} --max-delay N --out NEW_PLAN"
    )


def _caps(text_value: str | None) -> list[int] | None:
    if text_value is None:
        return None
    try:
        caps = sorted({int(c) for c in text_value.split(",") if c.strip()})
    except ValueError:
        raise click.BadParameter(
            f"{text_value!r} is not a comma-separated list of working days", param_hint="--caps"
        ) from None
    if not caps or caps[0] < 0 or caps[-1] > 3650:
        raise click.BadParameter("caps must be whole numbers of working days in 0..3650", param_hint="--caps")
    return caps

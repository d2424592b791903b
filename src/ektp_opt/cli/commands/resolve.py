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
@click.option("--out", type=click.Path(path_type=Path), required=True, help="New plan folder to write.")
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
    out: Path,
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

    \b
    Writes OUT as a full plan folder (verified before it is written) plus changes.csv,
    reinvite.csv (invitation rounds to send again, per kelurahan) and backlog.csv.
    Example:
      ektp-opt resolve --plan plans/medan-2011 --scenario data/medan/medan-2011-slip.toml \\
        --as-of 2011-09-05 --notice-days 3 --out plans/medan-2011-slip

    Exit 0 on success; 4 when the changed scenario cannot meet the deadline (OUT/diagnosis.json,
    as `solve` writes); 3 on bad input; 5 if the new plan would break a hard rule.
    """
    from ektp_opt.api import replan_city, write_replan
    from ektp_opt.cli.console import err, levels_table, progress_display
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import moves_tables
    from ektp_opt.errors import InfeasibleError
    from ektp_opt.resolve.output import move_stats, reinvite_rows
    from ektp_opt.safety.atomic import check_folder_target
    from ektp_opt.solver import SolveOptions
    from ektp_opt.solver.params import default_workers

    options = SolveOptions(time_limit=time_limit, workers=workers or default_workers(), seed=seed)
    ls = scenario_arg(scenario_path)
    check_folder_target(out)
    with progress_display(quiet) as rep:
        try:
            replanned = replan_city(old_plan, ls, as_of.date(), notice_days, attendance, options, rep)
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
    con.print(
        f"Moved [bold]{extra.moved_kk:,}[/] KK ({proof} {bound:,}); "
        f"{extra.forced_in_notice_window:,} forced inside the notice window; "
        f"{extra.moved_later:,} to a later day (up to {extra.largest_delay_working_days} working days), "
        f"{extra.moved_earlier:,} to an earlier one; "
        f"{extra.new_device_same_slot:,} keep date and shift on another device; "
        f"{extra.missed_rebooked:,} missed KK re-booked."
    )
    status = rp.result.status
    con.print(f"New plan written to [bold]{plain(out)}[/] (changes.csv, reinvite.csv) · status [bold]{status}[/]")
    if extra.missed_not_rebooked:
        err.print(
            f"[yellow]warning:[/] {extra.missed_not_rebooked} missed KK found no backlog seat before the "
            "deadline (backlog.csv lists them without a date)"
        )

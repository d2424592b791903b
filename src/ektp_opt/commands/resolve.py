"""`ektp-opt resolve`: plan again after a change, moving as few KK as possible."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import click

from ektp_opt.commands.common import (
    SEED,
    Range,
    guarded,
    print_diagnosis,
    quiet_option,
    scenario_arg,
    workers_option,
    write_diagnosis,
)
from ektp_opt.planfiles import HOME_VISITS, SUMMARY
from ektp_opt.textsafe import plain


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
    from ektp_opt.atomic import atomic_folder, check_folder_target
    from ektp_opt.console import err, levels_table, progress_display
    from ektp_opt.console import out as con
    from ektp_opt.errors import InfeasibleError, VerificationError
    from ektp_opt.plan import write_plan_files
    from ektp_opt.population import load_population
    from ektp_opt.resolve import check_home_visits_kept, check_old_plan, read_attendance, summary_extra
    from ektp_opt.resolve import resolve as replan
    from ektp_opt.resolve.output import move_stats, reinvite_rows, write_replan_files
    from ektp_opt.solver import SolveOptions
    from ektp_opt.solver.params import default_workers
    from ektp_opt.summary import moves_tables
    from ektp_opt.verify import verify_plan

    options = SolveOptions(time_limit=time_limit, workers=workers or default_workers(), seed=seed)
    ls = scenario_arg(scenario_path)
    check_folder_target(out)
    check_home_visits_kept(old_plan, ls)
    with progress_display(quiet) as rep:
        with rep.stage("check old plan"):
            check_old_plan(old_plan)
        with rep.stage("load households"):
            households = load_population(ls)
            seen = read_attendance(attendance, households) if attendance else None
        try:
            rp = replan(old_plan, ls, households, as_of.date(), notice_days, seen, options, rep)
        except InfeasibleError as exc:
            from ektp_opt.capacity import diagnose

            with rep.stage("diagnose"):
                diagnosis = diagnose(ls, households, options)
            write_diagnosis(out, diagnosis)
            rep.progress.stop()
            print_diagnosis(diagnosis)
            raise InfeasibleError(f"{exc.message}; diagnosis in {out / 'diagnosis.json'}") from None
        with rep.stage("verify + write"), atomic_folder(out) as tmp:
            info = write_plan_files(tmp, rp.result, ls, households)
            info["resolve"] = summary_extra(rp, old_plan, notice_days)
            if (old_plan / HOME_VISITS).exists():
                shutil.copyfile(old_plan / HOME_VISITS, tmp / HOME_VISITS)
                info["home_visits"] = {"planned": True, "kept_from_old_plan": True}
            (tmp / SUMMARY).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
            write_replan_files(tmp, rp, households)
            report = verify_plan(tmp, ls, households)
            if not report.ok:
                names = ", ".join(v.rule for v in report.violations)
                raise VerificationError(f"the new plan broke a hard rule ({names}); nothing was written")
    extra = info["resolve"]
    kec_names = {k.code: k.name for k in ls.admin.kecamatan}
    for table in moves_tables(move_stats(rp, households), reinvite_rows(rp, households), kec_names):
        con.print(table)
    con.print(levels_table(rp.result.levels))
    bound = extra["moved_kk_proven_minimum"]
    proof = "proven minimum" if bound == extra["moved_kk"] else "lower bound"
    con.print(
        f"Moved [bold]{extra['moved_kk']:,}[/] KK ({proof} {bound:,}); "
        f"{extra['forced_in_notice_window']:,} forced inside the notice window; "
        f"{extra['new_device_same_slot']:,} keep date and shift on another device; "
        f"{extra['missed_rebooked']:,} missed KK re-booked."
    )
    status = rp.result.status
    con.print(f"New plan written to [bold]{plain(out)}[/] (changes.csv, reinvite.csv) · status [bold]{status}[/]")
    if extra["missed_not_rebooked"]:
        err.print(
            f"[yellow]warning:[/] {extra['missed_not_rebooked']} missed KK found no backlog seat before the "
            "deadline (backlog.csv lists them without a date)"
        )

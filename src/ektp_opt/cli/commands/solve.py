"""`ektp-opt solve`: plan every KK and prove how good the plan is."""

from __future__ import annotations

from pathlib import Path

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
from ektp_opt.errors import EktpError, InfeasibleError
from ektp_opt.safety.atomic import check_folder_target
from ektp_opt.safety.textsafe import plain


def _check_preset(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """An unknown preset is a usage error naming the option, before any work starts."""
    from ektp_opt.api import load_preset

    try:
        load_preset(value)
    except EktpError as exc:
        raise click.BadParameter(plain(exc.message)) from None
    return value


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path), required=False)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="Plan folder to write (replaced whole, atomically).",
)
@click.option(
    "--time-limit",
    type=Range(1, 86_400),
    default=120.0,
    show_default=True,
    help="Seconds for all CP-SAT phases together; the best plan found is kept.",
)
@workers_option
@click.option(
    "--seed",
    type=SEED,
    default=0,
    show_default=True,
    help="CP-SAT random seed.",
)
@click.option(
    "--preset",
    default="default",
    show_default=True,
    callback=_check_preset,
    help="CP-SAT parameter preset (default, fast; see solver/presets.toml).",
)
@click.option(
    "--allow-late",
    is_flag=True,
    help="If the deadline cannot be met, plan past it anyway and flag the plan as late.",
)
@quiet_option
@click.option("--log", is_flag=True, help="Print CP-SAT's own search log.")
@guarded
def solve(
    scenario: Path | None,
    out: Path,
    time_limit: float,
    workers: int | None,
    seed: int,
    preset: str,
    allow_late: bool,
    quiet: bool,
    log: bool,
) -> None:
    """Plan every KK to a kecamatan, day, shift and device, and prove how good the plan is.

    \b
    Objectives, in strict order (SPEC.md): 1. earliest completion date; 2. least total
    waiting; 3. fewest (kelurahan, day) pairs; 4. with overflow, fewest residents away from
    home. Each level is reported with its value and a proven bound; "OPTIMAL" only where the
    bound is met. The plan is checked by the independent verifier before it is written.

    \b
    Without SCENARIO the default Medan scenario (2.1 M residents) is planned.
    Writes OUT/appointments.csv, OUT/devices.csv, OUT/summary.json.
    If the deadline cannot be met: exit 4 and OUT/diagnosis.json, no appointments.
    OUT must be new, empty or an earlier ektp-opt output (it holds a .ektp-opt marker);
    anything else is refused (exit 3). Ctrl-C leaves the old OUT untouched (exit 130).

    \b
    Examples:
      ektp-opt solve --out plans/medan-2011               # default Medan, about a minute
      ektp-opt solve data/medan/medan-10k.toml --out plans/10k --workers 1   # byte-identical reruns
      ektp-opt solve data/medan/medan-2011-actual.toml --out plans/late --allow-late
    """
    from ektp_opt.api import SolveOptions, default_workers, plan_city, write_plan
    from ektp_opt.cli.console import closing, err, levels_table, progress_display
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import result_table

    options = SolveOptions(
        time_limit=time_limit,
        workers=workers or default_workers(),
        seed=seed,
        preset=preset,
        log=log,
    )
    ls = scenario_arg(scenario)  # before the display: a bad file gets a clean one-line error
    check_folder_target(out)  # refuse a folder ektp-opt may not replace before any work
    with progress_display(quiet) as rep:
        try:
            planned = plan_city(ls, options=options, reporter=rep, allow_late=allow_late)
        except InfeasibleError as exc:
            diagnosis_exit(out, exc, rep.progress)
        with rep.stage("verify + write"):
            info = write_plan(planned, out)
    result = planned.result
    con.print(result_table(result, info))
    con.print(levels_table(result.levels))
    late = " · [red]LATE[/]" if info.late else ""
    closing(f"Plan written to [bold]{plain(out)}[/] · status [bold]{result.status}[/]{late}")
    if info.late:
        err.print("[yellow]warning:[/] this plan ends after the last regular day (--allow-late)")

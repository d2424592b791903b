"""`ektp-opt capacity`: the earliest completion and the devices that would meet the deadline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ektp_opt.cli.commands.common import (
    chart_option,
    guarded,
    json_option,
    print_diagnosis,
    scenario_arg,
    workers_option,
)
from ektp_opt.safety.textsafe import plain


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path), required=False)
@click.option(
    "--on",
    "on_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Also price extra devices delivered on this date.",
)
@chart_option("pool size against completion date")
@json_option
@workers_option
@guarded
def capacity(
    scenario: Path | None, on_date: Any, chart: Path | None, json_out: Path | None, workers: int | None
) -> None:
    """When can the given deliveries finish, and how many more devices would meet the deadline?

    Prints, with proven figures: the earliest completion date citywide and per kecamatan (the
    calendar is extended past the deadline as far as needed, same working-day rules); the fewest
    extra devices that meet the deadline for each delivery date (and --on DATE) with their split
    across kecamatan; and a table of pool size against completion date. Everything comes from
    the same level-1 model as `solve`, set beside the closed-form seat arithmetic.

    \b
    Examples:
      ektp-opt capacity data/medan/medan-2011-actual.toml --chart pool.png
      ektp-opt capacity data/medan/medan-2011.toml --on 2011-10-03 --json capacity.json

    Exit 0 whether or not the deadline can be met (the answer is the output); 3 on bad input.
    """
    from ektp_opt.api import SolveOptions, default_workers, load_population
    from ektp_opt.api import capacity as capacity_report
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.console import progress_display
    from ektp_opt.cli.tables import sensitivity_table
    from ektp_opt.plotting.capacity import plot_pool_sensitivity
    from ektp_opt.safety.atomic import together, write_json_atomic

    ls = scenario_arg(scenario)
    options = SolveOptions(workers=workers or default_workers())
    with progress_display() as rep:
        with rep.stage("load households"):
            households = load_population(ls)
        diagnosis = capacity_report(ls, households, options, on_date.date() if on_date else None, rep)
    print_diagnosis(diagnosis)
    sensitivity = diagnosis.pool_sensitivity
    assert sensitivity is not None
    on, points = sensitivity.pool_date, sensitivity.points
    current = sum(d.pool for d in ls.scenario.deliveries if d.pool and d.date == on)
    con.print(sensitivity_table(points, on.isoformat(), current, diagnosis.last_regular_day.isoformat()))
    with together():  # the figures and their chart are committed together, or neither
        if json_out is not None:
            write_json_atomic(json_out, diagnosis.to_json())
        if chart is not None:
            plot_pool_sensitivity(
                [(p.pool, p.completion) for p in points], ls.scenario.deadline, on, chart, ls.scenario.name, current
            )
    if json_out is not None:
        con.print(f"Figures written to [bold]{plain(json_out)}[/]")
    if chart is not None:
        con.print(f"Chart written to [bold]{plain(chart)}[/]")

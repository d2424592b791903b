"""`ektp-opt scenario`: what a scenario asks for, in one screen."""

from __future__ import annotations

from pathlib import Path

import click

from ektp_opt.cli.commands.common import (
    guarded,
    scenario_arg,
)


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path), required=False)
@guarded
def scenario(scenario: Path | None) -> None:
    """Summarise a scenario: working days, devices by date, residents per kecamatan, and the
    simple seat bound (seats before the last regular day against residents).

    \b
    Examples:
      ektp-opt scenario                                  # the default Medan scenario
      ektp-opt scenario data/medan/medan-2011-actual.toml
    """
    from ektp_opt.api import build_problem, load_population
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import scenario_tables

    ls = scenario_arg(scenario)
    h = load_population(ls)
    for table in scenario_tables(ls, build_problem(ls, h), h):
        con.print(table)

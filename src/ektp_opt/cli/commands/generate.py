"""`ektp-opt generate`: the synthetic households of a scenario, as a CSV file."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ektp_opt.cli.commands.common import (
    guarded,
    scenario_arg,
)
from ektp_opt.errors import InputError


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path), required=False)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="CSV file to write: kk_id,kelurahan_code,members,lingkungan,needs_home_visit.",
)
@guarded
def generate(scenario: Path | None, out: Path) -> None:
    """Build the scenario's synthetic population and write it as a households CSV.

    The population comes from the scenario's [households] seed, residents and households: the
    same spec always gives the same file. Without SCENARIO, the default Medan scenario is used.

    \b
    Examples:
      ektp-opt generate data/medan/medan-10k.toml --out households-10k.csv
      ektp-opt generate --out medan-2011-households.csv      # the default Medan population
    """
    from ektp_opt.api import GeneratorSpec, generate_households, write_households_csv
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import population_table

    ls = scenario_arg(scenario)
    spec = ls.scenario.households
    if not isinstance(spec, GeneratorSpec):
        raise InputError(ls.path, "households", "this scenario reads a file, it has no generator spec")
    start = time.perf_counter()
    h = generate_households(spec, ls)
    write_households_csv(h, ls.admin, out)
    con.print(population_table(h, f"{ls.scenario.name} (seed {spec.seed})", out, time.perf_counter() - start))

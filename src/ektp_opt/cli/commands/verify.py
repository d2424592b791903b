"""`ektp-opt verify`: check a plan folder against every hard rule."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ektp_opt.cli.commands.common import (
    guarded,
    plan_scenario_option,
    scenario_arg,
)
from ektp_opt.errors import VerificationError


@click.command()
@click.argument("plan_dir", type=click.Path(path_type=Path))
@plan_scenario_option
@guarded
def verify(plan_dir: Path, scenario_path: Path | None) -> None:
    """Check a plan folder against every hard rule in SPEC.md, independently of the solver.

    Exit 0 when the plan is clean; exit 5 with a table of broken rules (how many rows break
    each, and the first examples) otherwise.

    \b
    Examples:
      ektp-opt verify plans/medan-2011
      ektp-opt verify plans/medan-2011 --scenario data/medan/medan-2011.toml
    """
    from ektp_opt.api import load_population, scenario_of, verify_plan
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import verify_table

    start = time.perf_counter()
    ls = scenario_arg(scenario_of(plan_dir, scenario_path))
    households = load_population(ls)
    report = verify_plan(plan_dir, ls, households)
    con.print(verify_table(report, time.perf_counter() - start))
    if not report.ok:
        raise VerificationError(f"{plan_dir}: {len(report.violations)} hard rule(s) broken")

"""The ``ektp-opt`` command: a thin layer over the library.

Every command turns a user's mistake into one line on stderr and an exit code from
``errors.ExitCode``; a traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from ektp_opt import __version__
from ektp_opt.cli.commands.bench import bench as bench_command
from ektp_opt.cli.commands.common import (
    SEED,
    Range,
    chart_option,
    diagnosis_exit,
    guarded,
    json_option,
    plan_scenario_option,
    print_diagnosis,
    quiet_option,
    scenario_arg,
    workers_option,
)
from ektp_opt.cli.commands.national import national as national_command
from ektp_opt.cli.commands.report import invitations as invitations_command
from ektp_opt.cli.commands.report import report as report_command
from ektp_opt.cli.commands.report import roster as roster_command
from ektp_opt.cli.commands.resolve import resolve as resolve_command
from ektp_opt.cli.commands.simulate import simulate as simulate_command
from ektp_opt.errors import EktpError, InfeasibleError, InputError, VerificationError
from ektp_opt.inputs.households import write_households_csv
from ektp_opt.inputs.population import load_population
from ektp_opt.problem import build_problem
from ektp_opt.safety.atomic import check_folder_target
from ektp_opt.safety.textsafe import plain


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ektp-opt")
@click.option("--debug", is_flag=True, help="Show Python tracebacks (for bug reports).")
def main(debug: bool) -> None:
    """Plan a citywide e-KTP enrolment campaign, and prove how good the plan is.

    \b
    Typical use:
      ektp-opt scenario data/medan/medan-2011.toml      # what is being planned
      ektp-opt solve --out plans/medan                  # plan the default Medan scenario
      ektp-opt verify plans/medan                       # check it against SPEC.md's hard rules
      ektp-opt capacity data/medan/medan-2011-actual.toml  # when is the deadline impossible?
      ektp-opt resolve --plan plans/medan --scenario data/medan/medan-2011-slip.toml \\
          --as-of 2011-09-05 --out plans/medan-slip     # plan again, moving the fewest KK
      ektp-opt simulate plans/medan --late-rate 0.1     # can the backlog absorb late arrivals?
      ektp-opt report plans/medan --out medan.html      # the plan for people: charts and tables

    SCENARIO may be a file or the name of a scenario shipped with ektp-opt: medan-2011 (the
    default), medan-2011-actual, medan-2011-slip, medan-2011-homevisits, medan-10k,
    medan-10k-homevisits.

    \b
    Exit codes: 0 ok · 1 internal error · 2 usage · 3 bad input file ·
    4 deadline cannot be met (diagnosis.json written) · 5 plan breaks a hard rule ·
    6 time limit reached with no plan · 130 interrupted · 143 terminated.
    """
    from ektp_opt.cli.console import set_quiet

    set_quiet(False)  # each command starts speaking; its own --quiet (parsed after this) may hush it


@main.command()
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
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import population_table
    from ektp_opt.inputs.generate import generate_population
    from ektp_opt.inputs.scenario import GeneratorSpec

    ls = scenario_arg(scenario)
    spec = ls.scenario.households
    if not isinstance(spec, GeneratorSpec):
        raise InputError(ls.path, "households", "this scenario reads a file, it has no generator spec")
    start = time.perf_counter()
    h = generate_population(spec, ls.admin)
    write_households_csv(h, ls.admin, out)
    con.print(population_table(h, f"{ls.scenario.name} (seed {spec.seed})", out, time.perf_counter() - start))


@main.command()
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
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import scenario_tables

    ls = scenario_arg(scenario)
    h = load_population(ls)
    for table in scenario_tables(ls, build_problem(ls, h), h):
        con.print(table)


def _check_preset(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """An unknown preset is a usage error naming the option, before any work starts."""
    from ektp_opt.solver.params import load_preset

    try:
        load_preset(value)
    except EktpError as exc:
        raise click.BadParameter(plain(exc.message)) from None
    return value


@main.command()
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
    from ektp_opt.api import plan_city, write_plan
    from ektp_opt.cli.console import closing, err, levels_table, progress_display
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import result_table
    from ektp_opt.solver import SolveOptions
    from ektp_opt.solver.params import default_workers

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


@main.command()
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
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import verify_table
    from ektp_opt.plan.read import scenario_of
    from ektp_opt.verify import verify_plan

    start = time.perf_counter()
    ls = scenario_arg(scenario_of(plan_dir, scenario_path))
    households = load_population(ls)
    report = verify_plan(plan_dir, ls, households)
    con.print(verify_table(report, time.perf_counter() - start))
    if not report.ok:
        raise VerificationError(f"{plan_dir}: {len(report.violations)} hard rule(s) broken")


@main.command()
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
    from ektp_opt.api import capacity as capacity_report
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.console import progress_display
    from ektp_opt.cli.tables import sensitivity_table
    from ektp_opt.plotting.capacity import plot_pool_sensitivity
    from ektp_opt.safety.atomic import together, write_json_atomic
    from ektp_opt.solver import SolveOptions
    from ektp_opt.solver.params import default_workers

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


main.add_command(simulate_command)
main.add_command(resolve_command)
main.add_command(bench_command)
main.add_command(national_command)
main.add_command(report_command)
main.add_command(invitations_command)
main.add_command(roster_command)


if __name__ == "__main__":  # pragma: no cover
    main()

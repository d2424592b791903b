"""`ektp-opt simulate`: Monte Carlo of late arrivals over a plan, and backlog sizing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ektp_opt.cli.commands.common import (
    SEED,
    Range,
    chart_option,
    guarded,
    json_option,
    plan_scenario_option,
    quiet_option,
    scenario_arg,
    workers_option,
)
from ektp_opt.safety.textsafe import plain

if TYPE_CHECKING:
    from ektp_opt.api import LoadedScenario


@click.command()
@click.argument("plan_dir", type=click.Path(path_type=Path))
@plan_scenario_option
@click.option(
    "--late-rate",
    "late_rates",
    type=Range(0.0, 1.0),
    multiple=True,
    help="Share of KK that miss their slot; repeat to compare [default: the scenario's late_rate].",
)
@click.option(
    "--runs",
    type=click.IntRange(1, 1_000_000),
    default=1000,
    show_default=True,
    help="Simulated campaigns per late rate.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Same seed, same figures.")
@click.option(
    "--mean-delay",
    type=Range(1.0, 250.0),
    default=5.0,
    show_default=True,
    help="Mean working days before a late KK comes back (geometric).",
)
@click.option(
    "--idle-seats",
    is_flag=True,
    help="Let late KK also take seats the plan left unbooked on regular days (walk-ins on idle devices).",
)
@chart_option("citywide backlog over time with 5-95 % bands")
@json_option
@click.option(
    "--recommend",
    is_flag=True,
    help="Search the smallest reserve_per_shift (per number of catch-up days) reaching --target, "
    "re-planning each candidate.",
)
@click.option(
    "--target",
    type=Range(0.0, 1.0),
    default=0.95,
    show_default=True,
    help="Probability that everyone back by the deadline is enrolled by it.",
)
@click.option(
    "--catch-up",
    "catch_up",
    type=click.IntRange(0, 365),
    multiple=True,
    help="Catch-up day counts to try with --recommend [default: 0 2 4 6 8].",
)
@click.option(
    "--time-limit",
    type=Range(1.0),
    default=20.0,
    show_default=True,
    help="Seconds per re-plan with --recommend.",
)
@workers_option
@quiet_option
@guarded
def simulate(
    plan_dir: Path,
    scenario_path: Path | None,
    late_rates: tuple[float, ...],
    runs: int,
    seed: int,
    mean_delay: float,
    idle_seats: bool,
    chart: Path | None,
    json_out: Path | None,
    recommend: bool,
    target: float,
    catch_up: tuple[int, ...],
    time_limit: float,
    workers: int | None,
    quiet: bool,
) -> None:
    """Will the backlog seats and catch-up days absorb the late arrivals of a plan?

    Each KK misses its appointment with probability --late-rate and comes back a geometric
    number of working days later (mean --mean-delay) to the same office. Late KK queue first
    come, first served in the backlog seats (reserve_per_shift per device-shift; --idle-seats
    adds the seats the plan left unbooked), then in the catch-up days, when whole devices serve
    the queue. Prints the probability that everyone
    who comes back by the deadline is enrolled by it, when the backlog clears (mean and 95th
    percentile, citywide and per kecamatan), the peak backlog and who is still waiting at the
    deadline. The model is documented in ektp_opt/analysis/simulate.py.

    \b
    Examples:
      ektp-opt simulate plans/medan-2011 --late-rate 0.05 --late-rate 0.1 --late-rate 0.3 --chart backlog.png
      ektp-opt simulate plans/medan-2011 --late-rate 0.1 --recommend --target 0.95

    Exit 0 with the figures (a low probability is an answer, not an error); 3 on bad input.
    """
    from ektp_opt.api import scenario_of, simulate_plan
    from ektp_opt.cli.console import closing, progress_display
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import simulation_kecamatan_table, simulation_table
    from ektp_opt.plotting.backlog import plot_backlog
    from ektp_opt.safety.atomic import together, write_json_atomic

    ls = scenario_arg(scenario_of(plan_dir, scenario_path))
    rates = late_rates or (ls.scenario.backlog.late_rate,)
    with progress_display(quiet) as rep:
        campaign, sims = simulate_plan(plan_dir, ls, rates, runs, seed, mean_delay, idle_seats, rep)
    summaries = [sim.summary() for sim in sims]
    series = [(f"late rate {rate:g}", sim.citywide_backlog) for rate, sim in zip(rates, sims, strict=True)]
    con.print(simulation_table(summaries))
    if len(summaries) == 1:
        names = {k.code: k.name for k in ls.admin.kecamatan}
        con.print(simulation_kecamatan_table(summaries[0], names))
    figures: dict[str, object] = {"plan": str(plan_dir), "simulations": [s.to_json() for s in summaries]}
    answer: str | None = None
    if recommend:
        rec = _recommend(ls, rates[0], runs, seed, target, mean_delay, catch_up, idle_seats, time_limit, workers, quiet)
        answer = str(rec.pop("closing"))  # the recommendation closes the run; it is not a figure
        figures["recommendation"] = rec
    with together():  # the figures and their chart are committed together, or neither
        if json_out is not None:
            write_json_atomic(json_out, figures)
        if chart is not None:
            plot_backlog(campaign.days, campaign.days[campaign.regular_days - 1], series, chart, ls.scenario.name)
    written = [f"[bold]{plain(p)}[/]" for p in (json_out, chart) if p is not None]
    if answer is not None:
        closing(answer)
    else:
        closing(f"Simulated {runs:,} runs at {len(summaries)} late rate(s)" + (
            f"; written to {' and '.join(written)}" if written else ""))  # fmt: skip


def _recommend(
    ls: LoadedScenario,
    rate: float,
    runs: int,
    seed: int,
    target: float,
    mean_delay: float,
    catch_up: tuple[int, ...],
    idle_seats: bool,
    time_limit: float,
    workers: int | None,
    quiet: bool,
) -> dict[str, Any]:
    from ektp_opt.api import SolveOptions, default_workers, recommend_backlog
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.console import progress_display
    from ektp_opt.cli.tables import recommendation_table

    options = SolveOptions(time_limit=time_limit, workers=workers or default_workers(), seed=seed)
    with progress_display(quiet) as rep, rep.stage(f"recommend p={rate:g}"):
        best, table = recommend_backlog(
            ls, options, rate, runs, seed, target, mean_delay, catch_up, idle_seats, rep.detail
        )
    con.print(recommendation_table(table, target, best))
    if best is None:
        line = "[red]No setting tried reaches the target[/]; more devices or an earlier start are needed."
    else:
        line = (
            f"Recommended: reserve_per_shift = {best.reserve_per_shift}, catch_up_days = {best.catch_up_days} "
            f"(P(on time) {best.probability:.1%} at late rate {rate:g}; regular appointments end {best.completion})"
        )
    return {
        "closing": line,  # printed last, and not written to the JSON figures
        "late_rate": rate,
        "target": target,
        "recommended": best.as_dict() if best else None,
        "table": [c.as_dict() for c in table],
    }

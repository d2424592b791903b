"""`ektp-opt bench`: the scaling study, ektp-opt beside the monolithic model and the queue."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from ektp_opt.cli.commands.common import Range, guarded, quiet_option, workers_option
from ektp_opt.safety.textsafe import plain

MIN_RESIDENTS = 1_000  # below this a Medan-shaped city leaves kelurahan without a KK
MAX_RESIDENTS = 100_000_000
DEFAULT_OUT = Path("benchmarks") / "results" / "scaling.json"  # from the project folder, as the README runs it


@click.command()
@click.option(
    "--quick", is_flag=True, help="The three smallest sizes, 10 s limits, monolithic capped at 0.5 M Booleans (CI)."
)
@click.option("--sizes", type=str, default=None, help="Comma-separated residents, e.g. 10000,2100000 [default: all 7].")
@click.option("--methods", type=str, default="ektp,monolithic,queue", show_default=True, help="Which to run.")
@click.option("--time-limit", type=Range(1.0), default=None, help="Seconds per solve [default 120; quick 10].")
@workers_option
@click.option(
    "--sweep",
    type=str,
    default=None,
    help="Worker counts for the sweep on the Medan size [default: 1,2 and the cores].",
)
@click.option(
    "--max-booleans",
    type=click.IntRange(1),
    default=None,
    help="Largest monolithic model built [default 3 M; quick 0.5 M].",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Results JSON [default: {DEFAULT_OUT.name} in benchmarks/results].",
)
@click.option("--chart", type=click.Path(path_type=Path), default=None, help="Log-log PNG [default: beside --out].")
@quiet_option
@guarded
def bench(
    quick: bool,
    sizes: str | None,
    methods: str,
    time_limit: float | None,
    workers: int | None,
    sweep: str | None,
    max_booleans: int | None,
    out: Path | None,
    chart: Path | None,
    quiet: bool,
) -> None:
    """Measure solve time and memory against population size, beside the alternatives.

    Synthetic cities in Medan's shape (10 k to 10 M residents, deadline on the 100th working
    day; see ektp_opt/bench/city.py) are planned by ektp-opt, by the textbook monolithic CP-SAT
    model and by the office queue, each in a fresh process. Prints a table, writes the results
    JSON (machine, versions, command) and a log-log chart with the fitted exponent.

    \b
    Examples:
      ektp-opt bench --quick --out /tmp/quick.json          # about a minute
      ektp-opt bench                                         # the whole study (most of an hour)
    """
    from ektp_opt.api import MEDAN, METHODS, QUICK_SIZES, SIZES, scaling_problems, study_scaling
    from ektp_opt.cli.console import closing, progress_display
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import scaling_table
    from ektp_opt.errors import EktpError
    from ektp_opt.plotting.scaling import plot_scaling
    from ektp_opt.safety.atomic import write_json_atomic

    def ints(text: str, what: str, lo: int, hi: int) -> list[int]:
        try:
            values = [int(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise click.UsageError(f"{what}: expected comma-separated integers, got {plain(text)!r}") from None
        bad = [v for v in values if not lo <= v <= hi]
        if not values or bad:
            raise click.UsageError(f"{what}: each value must be in {lo:,}..{hi:,} (got {plain(text)!r})")
        return values

    chosen = ints(sizes, "--sizes", MIN_RESIDENTS, MAX_RESIDENTS) if sizes else list(QUICK_SIZES if quick else SIZES)
    wanted = [m.strip() for m in methods.split(",") if m.strip()]
    unknown = [m for m in wanted if m not in METHODS]
    if unknown:
        raise click.UsageError(f"--methods: unknown {', '.join(unknown)} (have {', '.join(METHODS)})")
    limit = time_limit or (10.0 if quick else 120.0)
    cores = os.cpu_count() or 1
    sweep_list = ints(sweep, "--sweep", 1, 256) if sweep else sorted({1, 2, cores} if not quick else {1, 2})
    sweep_size = MEDAN if MEDAN in chosen else max(chosen)
    out = out or DEFAULT_OUT
    chart = chart or out.with_suffix(".png")
    command = " ".join(["ektp-opt", *sys.argv[1:]]) if sys.argv else "ektp-opt bench"
    with progress_display(quiet) as rep, rep.stage("bench"):
        results: dict[str, Any] = study_scaling(
            chosen, wanted, limit, workers or min(2, cores), sweep_list, sweep_size,
            max_booleans or (500_000 if quick else 3_000_000), command, rep.detail,
        )  # fmt: skip
    problems = scaling_problems(results)
    con.print(scaling_table(results))
    if problems:  # a failed study never replaces the results that are there
        raise EktpError("results incomplete, nothing written: " + "; ".join(problems[:5]))
    write_json_atomic(out, results)
    plot_scaling(results, chart)
    con.print(
        f"Fitted time exponent from 200 k: {results['fit']['time_exponent_from_200k']} · targets: {results['targets']}"
    )
    closing(f"Results written to [bold]{plain(out)}[/] and [bold]{plain(chart)}[/]")

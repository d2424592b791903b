"""`ektp-opt national`: the whole programme, every kab/kota at once, on Ray."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from ektp_opt.cli.commands.common import Range, guarded, quiet_option
from ektp_opt.errors import InfeasibleError, InputError, VerificationError


def _needs_extra() -> None:
    try:
        import pyarrow  # noqa: F401
        import ray  # noqa: F401
    except ImportError:
        raise InputError(
            "ektp-opt national", None, "needs the national extra: pip install 'ektp-opt[national]'"
        ) from None


address_option = click.option(
    "--address", help="A Ray cluster started with `ray start --head` (e.g. 10.0.0.5:6379) [default: a local Ray]."
)
cpus_option = click.option(
    "--cpus", type=click.IntRange(1, 4096), help="CPUs of the local Ray [default: all of this machine's]."
)


@click.group()
def national() -> None:
    """Plan every kab/kota of a national programme at once, on Ray.

    \b
    Shipped scenarios: national-small (Gorontalo, 6 kab/kota, for tests), national-2011 (the
    2011 phase as the sources name it, 147 kab/kota) and national-2012 (all 514, 172 M residents).

    \b
    Examples:
      ektp-opt national capacity national-2012
      ektp-opt national plan national-small --out plans/national-small
      ektp-opt national verify plans/national-small
    """


@national.command("plan")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="National output folder.")
@address_option
@cpus_option
@click.option(
    "--cpus-per-city",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="CPUs (and CP-SAT workers) per city task; 1 gives the same plan on any cluster.",
)
@click.option("--time-limit", type=Range(1.0, 86400.0), default=120.0, show_default=True, help="Seconds per city.")
@click.option(
    "--master-time-limit",
    type=Range(1.0, 86400.0),
    default=300.0,
    show_default=True,
    help="Seconds for the master's waiting model; a tenth of it per completion check.",
)
@quiet_option
@guarded
def plan(
    scenario: Path,
    out: Path,
    address: str | None,
    cpus: int | None,
    cpus_per_city: int,
    time_limit: float,
    master_time_limit: float,
    quiet: bool,
) -> None:
    """Split the national waves among kecamatan (the master plan, proven), then plan every
    kab/kota as a city with its devices fixed, one Ray task each.

    Writes OUT/master.json, OUT/national.json, OUT/plans/<kab/kota>/ (plan folders that
    `ektp-opt verify` accepts), OUT/scenarios/<kab/kota>/ and the Parquet appointment table
    OUT/appointments/province=../kabkota=../part-0.parquet.

    A re-run with the same scenario skips the kab/kota already planned; Ctrl-C keeps every
    finished city and never leaves a half-written one. Exit 4 when no split meets the deadline
    (see `national capacity`).

    \b
    Examples:
      ektp-opt national plan national-small --out plans/national-small
      ektp-opt national plan national-2012 --out plans/national-2012 --address 10.0.0.5:6379
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ektp_opt.api import check_ray_address, load_national_scenario, national_options, plan_national
    from ektp_opt.api import national_scenario_path as national_path
    from ektp_opt.cli.console import err, loud
    from ektp_opt.cli.console import out as con
    from ektp_opt.safety.textsafe import plain

    _needs_extra()
    ln = load_national_scenario(scenario)
    for note in ln.notes():
        err.print(f"note: {plain(note)}")
    check_ray_address(address)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[residents]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
    )
    with progress:
        task = progress.add_task("master plan, then cities", total=len(ln.kabkota), residents="")

        def report(done: int, total: int, residents: int, all_residents: int) -> None:
            progress.update(task, completed=done, total=total, residents=f"{residents:,} / {all_residents:,} residents")

        try:
            summary = plan_national(
                ln,
                out,
                national_options(
                    address=address,
                    cpus=cpus,
                    cpus_per_city=cpus_per_city,
                    time_limit=time_limit,
                    master_time_limit=master_time_limit,
                    progress=report,
                ),
            )
        except InfeasibleError as exc:
            from ektp_opt.api import write_diagnosis

            written = write_diagnosis(out, exc.diagnosis)
            progress.stop()
            with loud():
                _print_national_capacity(con, ln, exc.diagnosis)
            raise InfeasibleError(f"{exc.message}; diagnosis in {written}") from None
    _print_summary(con, summary)
    refused = {c: v["message"] for c, v in summary["cities"].items() if v["status"] == "refused"}
    if refused:
        code, why = next(iter(sorted(refused.items())))
        raise InputError(
            national_path(scenario), None, f"{len(refused)} kab/kota scenario(s) it makes are not valid; {code}: {why}"
        )
    failed = [c for c, v in summary["cities"].items() if v["status"] not in ("planned", "skipped")]
    if failed:
        raise InfeasibleError(
            f"{len(failed)} kab/kota could not be planned (see {out / 'national.json'}): {', '.join(failed[:5])}"
        )


def _print_summary(con: Any, summary: dict[str, Any]) -> None:
    from ektp_opt.cli.console import closing
    from ektp_opt.safety.textsafe import TextTable

    m = summary["master"]
    t = TextTable(
        title=f"National plan {summary['scenario']}: {summary['kabkota_planned']}/{summary['kabkota']} kab/kota, "
        f"{summary['residents']:,} residents",
        title_justify="left",
    )
    for col in ("level", "value", "proven bound", "status"):
        t.add_column(col, justify="right" if col != "level" else "left")
    for name, lv in m["levels"].items():
        t.add_row(name, f"{lv['value']:,}", f"{lv['bound']:,}", lv["status"])
    con.print(t)
    closing(
        f"national completion {summary['national_completion_date']} (master: {m['completion_date']}); "
        f"in {summary['seconds']:.1f} s"
    )


@national.command("verify")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(path_type=Path),
    help="The national scenario [default: the one in master.json].",
)
@address_option
@cpus_option
@guarded
def verify(folder: Path, scenario_path: Path | None, address: str | None, cpus: int | None) -> None:
    """Check every city plan against every rule (one Ray task per city) and the national rules:
    every kab/kota planned, no wave split into more devices than it had, each kecamatan with
    exactly the devices the master gave it. Exit 5 when anything is broken. With --cpus 1 and no
    --address the cities are checked one after another in this process: no Ray, and no national
    extra, needed.

    \b
    Examples:
      ektp-opt national verify plans/national-small
      ektp-opt national verify plans/national-small --cpus 1
    """
    from ektp_opt.api import check_ray_address, national_scenario_path, verify_national_folder
    from ektp_opt.cli.console import out as con
    from ektp_opt.safety.textsafe import plain

    if address is not None or cpus != 1:
        _needs_extra()
        check_ray_address(address)
    start = time.perf_counter()
    named = national_scenario_path(scenario_path) if scenario_path else None
    report = verify_national_folder(folder, named, address, cpus)
    bad = {c: v for c, v in report.cities.items() if not v["ok"]}
    rows = sum(v["rows"] for v in report.cities.values())
    for code, v in sorted(bad.items()):
        con.print(f"[red]{plain(code)}[/]: {plain('; '.join(v['broken']))}")
    for rule in report.national:
        con.print(f"[red]national[/]: {plain(rule)}")
    took = time.perf_counter() - start
    if not report.ok:
        raise VerificationError(f"{folder}: {len(bad)} city plan(s) and {len(report.national)} national rule(s) broken")
    con.print(
        f"national plan is clean: {len(report.cities)} city plans, {rows:,} appointments, "
        f"national rules N1-N3 hold ({took:.1f} s)"
    )


@national.command("capacity")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--time-limit",
    type=Range(1.0, 86400.0),
    default=120.0,
    show_default=True,
    help="Seconds for each model it solves (SCIP): each step of the completion search, and the extra devices.",
)
@guarded
def capacity(scenario: Path, time_limit: float) -> None:
    """The earliest national completion the deliveries allow and, when that is past the deadline,
    the fewest extra devices per wave and province that would meet it.

    \b
    Examples:
      ektp-opt national capacity national-2011
    """

    from ektp_opt.api import load_national_scenario, national_capacity
    from ektp_opt.cli.console import err
    from ektp_opt.cli.console import out as con
    from ektp_opt.safety.textsafe import plain

    ln = load_national_scenario(scenario)
    for note in ln.notes():
        err.print(f"note: {plain(note)}")
    _print_national_capacity(con, ln, national_capacity(ln, time_limit))


def _print_national_capacity(con: Any, ln: Any, d: Any) -> None:
    """The earliest national completion and the fewest extra devices (a NationalDiagnosis)."""
    e = d.earliest_completion
    if e.date is None:
        con.print("the deliveries never finish within three years past the deadline")
    else:
        proven = "proven" if e.status == "OPTIMAL" else f"proven bound {e.bound} working days"
        con.print(
            f"earliest national completion: {e.date} ({e.working_days} working days, {proven}); "
            f"deadline {d.deadline} ({d.regular_working_days} regular working days)"
        )
    if d.extra_devices:
        total = sum(x.devices for x in d.extra_devices)
        con.print(f"fewest extra devices to meet the deadline ({d.extra_status}): {total:,}")
        for x in d.extra_devices:
            con.print(f"  wave {x.wave} ({x.date}) to province {x.province} {x.province_name}: {x.devices:,}")
    elif d.extra_status == "INFEASIBLE":
        con.print("no number of extra wave devices meets the deadline: some kecamatan is reached too late")

"""`ektp-opt campaign ...`: run the campaign as it happens (a store of what was done each day)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from ektp_opt.cli.commands.common import SEED, Range, guarded, json_option, quiet_option
from ektp_opt.safety.textsafe import plain

DB = click.option(
    "--db",
    default="sqlite:///campaign.db",
    show_default=True,
    envvar="EKTP_CAMPAIGN_DB",
    help="The campaign store: sqlite:///FILE (one office) or postgresql://USER@HOST/DB (a city); "
    "also from EKTP_CAMPAIGN_DB. Passwords only in the URL or the environment (PGPASSWORD), never printed.",
)
AS_OF = click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Today [default: today's date]: records after it are refused, figures are as of it.",
)
BY = click.option("--by", default=None, help="Who records (the audit trail) [default: the OS user].")


def _day(value: Any) -> dt.date | None:
    return value.date() if value is not None else None


@click.group()
def campaign() -> None:
    """Run the campaign from the field: record what happened each day, measure, re-plan.

    \b
    The daily loop of an office:
      ektp-opt campaign init --plan plans/medan --db sqlite:///medan.db
      ektp-opt campaign record enrolments.csv device_shifts.csv --db sqlite:///medan.db
      ektp-opt campaign status --db sqlite:///medan.db --json status.json
    A city office with many kecamatan recording at once uses PostgreSQL:
      ektp-opt campaign init --plan plans/medan --db postgresql://ektp@dbhost/medan

    The record formats are in docs/SPEC.md ("Campaign records").
    """


@campaign.command("init")
@click.option("--plan", "plan_dir", type=click.Path(path_type=Path), required=True, help="A verified plan folder.")
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(path_type=Path),
    help="Its scenario [default: the one in summary.json].",
)
@DB
@BY
@quiet_option
@guarded
def init(plan_dir: Path, scenario_path: Path | None, db: str, by: str | None, quiet: bool) -> None:
    """Start a campaign store from a verified plan (its plan version 1).

    The store holds the scenario's files, every household, the plan, and from now on every record
    and who made it. It is created whole or not at all; an existing store is never replaced (exit
    3). A SQLite store is readable by its owner only.

    \b
    Examples:
      ektp-opt campaign init --plan plans/medan-2011 --db sqlite:///medan.db
      PGPASSWORD=... ektp-opt campaign init --plan plans/medan-2011 --db postgresql://ektp@db.local/medan
    """
    from ektp_opt.api import campaign_start
    from ektp_opt.cli.console import closing, progress_display

    with progress_display(quiet) as rep, rep.stage("start campaign"):
        started = campaign_start(plan_dir, db, scenario_path, by)
    closing(
        f"Campaign started in [bold]{plain(started.store)}[/]: {started.households:,} KK, "
        f"{started.residents:,} residents, {started.appointments:,} appointments on {started.devices} devices"
    )


@campaign.command("upgrade")
@DB
@guarded
def upgrade(db: str) -> None:
    """Bring a store made by an earlier version of ektp-opt up to this version (never done silently).

    \b
    Example:
      ektp-opt campaign upgrade --db sqlite:///medan.db
    """
    from ektp_opt.api import campaign_upgrade
    from ektp_opt.api import describe_store as describe
    from ektp_opt.cli.console import closing

    before, after = campaign_upgrade(db)
    what = "already at" if before == after else f"upgraded from revision {before} to"
    closing(f"{plain(describe(db))}: {what} revision {after}")


@campaign.command("record")
@click.argument("files", type=click.Path(path_type=Path), nargs=-1, required=True)
@DB
@AS_OF
@BY
@quiet_option
@guarded
def record(files: tuple[Path, ...], db: str, as_of: Any, by: str | None, quiet: bool) -> None:
    """Record field files: enrolments.csv, device_shifts.csv, deliveries.csv, invitations.csv.

    The kind of each file comes from its header. All files of one call are stored in one
    transaction: a bad row anywhere is exit 3 naming file, row and field, and nothing of the call
    is stored. A file recorded before is stored once (the call says so and exits 0).

    \b
    Examples:
      ektp-opt campaign record day-2011-09-05/*.csv --db sqlite:///medan.db
      ektp-opt campaign record enrolments.csv --db sqlite:///medan.db --as-of 2011-09-05 --by "kec. Medan Kota"
    """
    from ektp_opt.api import campaign_record
    from ektp_opt.cli.console import closing, progress_display
    from ektp_opt.cli.console import out as con

    with progress_display(quiet) as rep, rep.stage("record"):
        done = campaign_record(files, db, _day(as_of), by)
    for r in done:
        if r.before is not None:
            con.print(f"{plain(r.path)}: {r.kind}, recorded before ({plain(r.before)}); not stored again")
        else:
            con.print(f"{plain(r.path)}: {r.kind}, {r.rows:,} rows, {r.new_rows:,} new")
    new = sum(r.new_rows for r in done)
    closing(f"Recorded {new:,} new facts from {len(done)} file(s)")


@campaign.command("status")
@DB
@AS_OF
@json_option
@quiet_option
@guarded
def status(db: str, as_of: Any, json_out: Path | None, quiet: bool) -> None:
    """Enrolled against planned, the backlog, and what the records say about the field.

    Each measured parameter comes with its 90 % interval and the number of observations behind
    it; a kecamatan with few observations is pooled towards the city's figure
    (ektp_opt/campaign/measure.py).

    \b
    Examples:
      ektp-opt campaign status --db sqlite:///medan.db
      ektp-opt campaign status --db sqlite:///medan.db --as-of 2011-09-17 --json status.json
    """
    from ektp_opt.api import campaign_status
    from ektp_opt.cli.console import closing, progress_display
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import campaign_parameters_table, campaign_progress_table
    from ektp_opt.safety.atomic import write_json_atomic

    with progress_display(quiet) as rep, rep.stage("measure"):
        st = campaign_status(db, _day(as_of))
    con.print(campaign_progress_table(st))
    con.print(campaign_parameters_table(st))
    if json_out is not None:
        write_json_atomic(json_out, st.json())
    share = st.enrolled / st.planned_by_as_of if st.planned_by_as_of else 0.0
    closing(
        f"As of {st.as_of}: {st.enrolled:,} of {st.residents:,} residents enrolled, "
        f"{share:.0%} of the {st.planned_by_as_of:,} planned by then; backlog {st.backlog['kk']:,} KK"
    )


@campaign.command("simulate-field")
@click.option("--plan", "plan_dir", type=click.Path(path_type=Path), required=True, help="The plan in force.")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="The last day simulated.")
@click.option(
    "--from",
    "first",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The first day written [default: the campaign's start].",
)
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Folder for the three CSV files.")
@click.option(
    "--throughput",
    type=Range(0.0, 10_000.0),
    default=None,
    help="Residents a device enrols in a day when up [default: the scenario's capacity_per_day].",
)
@click.option(
    "--down-rate",
    type=Range(0.0, 1.0),
    default=0.05,
    show_default=True,
    help="Share of device-shifts down (network, hardware, operator absent).",
)
@click.option(
    "--no-show",
    type=Range(0.0, 1.0),
    default=0.15,
    show_default=True,
    help="Share of invited families who miss their appointment.",
)
@click.option(
    "--come-back",
    type=Range(0.0, 1.0),
    default=0.6,
    show_default=True,
    help="Share of those who come back on their own.",
)
@click.option(
    "--return-days",
    type=Range(1.0, 250.0),
    default=5.0,
    show_default=True,
    help="Mean working days before they do (geometric).",
)
@click.option(
    "--returned",
    type=Range(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of invitation letters that come back undelivered.",
)
@click.option(
    "--kecamatan-spread",
    type=Range(0.0, 2.0),
    default=0.0,
    show_default=True,
    help="Kecamatan differ: each one's throughput and no-show share times exp(Normal(0, this)).",
)
@click.option(
    "--change-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Conditions change from this day on (with --throughput-change, --no-show-change).",
)
@click.option(
    "--throughput-change",
    type=Range(0.0, 10.0),
    default=1.0,
    show_default=True,
    help="Throughput multiplied by this from --change-on.",
)
@click.option(
    "--no-show-change",
    type=Range(0.0, 10.0),
    default=1.0,
    show_default=True,
    help="No-show share multiplied by this for appointments from --change-on.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Same seed, same records.")
@click.option("--db", default=None, help="A campaign store: families it has enrolled are done (the weekly loop).")
@quiet_option
@guarded
def simulate_field(
    plan_dir: Path,
    until: Any,
    first: Any,
    out: Path,
    throughput: float | None,
    down_rate: float,
    no_show: float,
    come_back: float,
    return_days: float,
    returned: float,
    kecamatan_spread: float,
    change_on: Any,
    throughput_change: float,
    no_show_change: float,
    seed: int,
    db: str | None,
    quiet: bool,
) -> None:
    """Write the records a campaign run under stated field conditions would produce.

    For testing the loop and for rehearsal: enrolments.csv, device_shifts.csv and invitations.csv,
    as `campaign record` reads them. The model (devices down, slower than nominal, families who do
    not come, letters that come back) is documented in ektp_opt/campaign/field.py.

    \b
    Examples:
      ektp-opt campaign simulate-field --plan plans/medan --until 2011-09-17 --out field/ --throughput 90 --no-show 0.2
      ektp-opt campaign simulate-field --plan plans/medan-v2 --db sqlite:///medan.db \\
          --from 2011-09-19 --until 2011-09-24 --out field-w6/
      ektp-opt campaign simulate-field --plan plans/medan --until 2011-12-31 --out field/ \\
          --kecamatan-spread 0.2 --change-on 2011-10-03 --throughput-change 0.8
    """
    from ektp_opt.api import field_conditions
    from ektp_opt.api import simulate_field as run
    from ektp_opt.cli.console import closing, progress_display

    cond = field_conditions(
        throughput=throughput,
        down_rate=down_rate,
        no_show=no_show,
        come_back=come_back,
        return_days=return_days,
        returned=returned,
        seed=seed,
        kecamatan_spread=kecamatan_spread,
        change_on=_day(change_on),
        throughput_change=throughput_change,
        no_show_change=no_show_change,
    )
    with progress_display(quiet) as rep, rep.stage("simulate the field"):
        log = run(plan_dir, _day(until), cond, out, first=_day(first), db=db)  # type: ignore[arg-type]
    closing(
        f"Field records written to [bold]{plain(out)}[/]: {len(log.enrolments):,} enrolments, "
        f"{len(log.device_shifts):,} device-shifts, {len(log.invitations):,} invitations"
    )


@campaign.command("replan")
@DB
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="Today: appointments before it happened (or were missed), the new plan is in force from it.",
)
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="The new plan folder.")
@click.option(
    "--confidence",
    type=Range(0.5, 0.999),
    default=0.8,
    show_default=True,
    help="Plan at the pace the records say is reached with this probability (pessimistic quantile).",
)
@click.option(
    "--notice-days",
    type=click.IntRange(0, 365),
    default=3,
    show_default=True,
    help="Working days from --as-of whose appointments are announced and stay unless forced.",
)
@click.option(
    "--max-delay",
    type=click.IntRange(0, 10_000),
    default=None,
    help="No moved KK more than this many working days after its old appointment.",
)
@click.option("--time-limit", type=Range(1.0), default=60.0, show_default=True, help="Seconds per model.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="CP-SAT workers [default: the cores].")
@BY
@quiet_option
@guarded
def replan(
    db: str,
    as_of: Any,
    out: Path,
    confidence: float,
    notice_days: int,
    max_delay: int | None,
    time_limit: float,
    seed: int,
    workers: int | None,
    by: str | None,
    quiet: bool,
) -> None:
    """The next plan version from the records, at the measured pace.

    Enrolled residents are done; no-shows, partly enrolled KK and KK whose letter came back go to
    the back of the queue (backlog seats, then free seats, then catch-up days). From --as-of on, a
    device-day is planned at the residents a device really enrols when up times the share of
    device-shifts up, each at the --confidence quantile of its interval; recorded deliveries replace
    the scenario's. The rules, the notice window, --max-delay and the verifier are `resolve`'s.
    OUT is a normal plan folder (its summary.json says which records and calibration made it; the
    measured scenario is in OUT/scenario/) and is stored as the next plan version; changes.csv
    lists only the KK whose appointment changed (`invitations --changed-only`).

    \b
    Examples:
      ektp-opt campaign replan --db sqlite:///medan.db --as-of 2011-09-19 --out plans/medan-v2
      ektp-opt campaign replan --db sqlite:///medan.db --as-of 2011-09-19 --out plans/medan-v2 --max-delay 10

    Exit 0 on success; 4 when the deadline cannot be met at the measured pace (OUT/diagnosis.json
    says what fixes it at that pace, as `capacity` does); 3 on bad input.
    """
    from ektp_opt.api import SolveOptions, campaign_replan, default_workers
    from ektp_opt.cli.commands.common import diagnosis_exit
    from ektp_opt.cli.console import closing, progress_display
    from ektp_opt.cli.console import out as con
    from ektp_opt.errors import InfeasibleError
    from ektp_opt.safety.atomic import check_folder_target

    check_folder_target(out)
    options = SolveOptions(time_limit=time_limit, workers=workers or default_workers(), seed=seed)
    with progress_display(quiet) as rep:
        try:
            done = campaign_replan(db, as_of.date(), out, confidence, notice_days, max_delay, options, rep, by)
        except InfeasibleError as exc:
            diagnosis_exit(out, exc, rep.progress)
    cal = done.calibration
    extra = done.summary.resolve
    assert extra is not None
    if cal.devices_keep_up:
        pace = "the devices keep up (filled device-shifts often served whole): the nominal pace"
    else:
        pace = f"measured pace {cal.residents_per_device_day:,.1f} residents per device-day when up"
    con.print(
        f"{pace[0].upper()}{pace[1:]}, {cal.up_share:.1%} of device-shifts up (at {cal.confidence:.0%} "
        f"confidence): planned at {cal.capacity_per_day} a device-day (nominal {cal.nominal_capacity_per_day})."
    )
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in done.seconds.items())
    con.print(f"Stages: {stages}")
    closing(
        f"Plan version {done.version} written to [bold]{plain(out)}[/] and stored: {extra.moved_kk:,} KK moved, "
        f"{done.missed:,} missed KK re-queued, completion {done.summary.completion_date}"
    )


@campaign.command("forecast")
@DB
@AS_OF
@click.option("--runs", type=click.IntRange(10, 100_000), default=1000, show_default=True, help="Simulated futures.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Same seed, same figures.")
@json_option
@click.option("--chart", type=click.Path(path_type=Path), default=None, help="PNG: enrolled so far and the fan.")
@click.option(
    "--target-p",
    type=Range(0.01, 0.99),
    default=None,
    help="Also say what would lift P(on time) to this: extra devices, catch-up days, a fifth shift, "
    "home-visit teams, each alone and the cheapest mix.",
)
@click.option(
    "--lead-days",
    type=click.IntRange(0, 365),
    default=10,
    show_default=True,
    help="Days from as-of before a lever can start (devices shipped, staff told).",
)
@quiet_option
@guarded
def forecast(
    db: str,
    as_of: Any,
    runs: int,
    seed: int,
    json_out: Path | None,
    chart: Path | None,
    target_p: float | None,
    lead_days: int,
    quiet: bool,
) -> None:
    """When will it finish if the campaign goes on as the records say?

    The model is first fitted to the campaign's own past (what the records cannot see: families a
    full office kept waiting, those who will never come back); each run then draws its field from
    that fit and from what `status` measured, and follows every kecamatan family by family on the
    devices of the plan in force. Prints the completion date (P10, P50, P90), the dates by which
    90 % and 95 % of residents are enrolled, P(on time) and who is left at the deadline. The model:
    ektp_opt/campaign/forecast.py and history.py; how often its intervals hold on campaigns it did
    not see: README ("Forecast calibration").

    With --target-p, each lever is searched alone for the least that lifts P(on time) to the target,
    then the cheapest mix, counted in device-days of work; each with the forecast it gives
    (ektp_opt/campaign/levers.py).

    \b
    Examples:
      ektp-opt campaign forecast --db sqlite:///medan.db --as-of 2011-09-19 --json forecast.json --chart fan.png
      ektp-opt campaign forecast --db sqlite:///medan.db --as-of 2011-09-19 --target-p 0.9 --lead-days 14
    """
    from ektp_opt.api import campaign_forecast, campaign_levers
    from ektp_opt.cli.console import closing, progress_display
    from ektp_opt.cli.console import out as con
    from ektp_opt.plotting.forecast import forecast_figure
    from ektp_opt.plotting.save import save_png
    from ektp_opt.safety.atomic import together, write_json_atomic

    levers: dict[str, Any] | None = None
    with progress_display(quiet) as rep:
        if target_p is None:
            with rep.stage(f"forecast, {runs:,} runs"):
                fc, st = campaign_forecast(db, _day(as_of), runs, seed)
        else:
            with rep.stage(f"forecast and levers to P(on time) {target_p:.0%}, {runs:,} runs"):
                fc, st, levers = campaign_levers(db, target_p, _day(as_of), runs, seed, lead_days)
    c = fc.completion
    con.print(f"Completion (every family the campaign can reach): P10 {c['p10']}, P50 {c['p50']}, P90 {c['p90']}")
    for share, q in fc.share_dates.items():
        con.print(f"{float(share):.0%} of residents enrolled: P10 {q['p10']}, P50 {q['p50']}, P90 {q['p90']}")
    u = fc.unenrolled_at_deadline
    con.print(
        f"Not enrolled at the deadline {fc.deadline}: mean {u['mean']:,.0f}, P90 {u['p90']:,.0f} "
        f"(of them {u['unreachable']:,.0f} whose letters came back)"
    )
    if levers is not None:
        print_levers(levers)
    with together():
        if json_out is not None:
            write_json_atomic(json_out, fc.json() if levers is None else {**fc.json(), "levers": levers})
        if chart is not None:
            past = [(dt.date.fromisoformat(r["date"]), r["enrolled_total"]) for r in st.by_date]
            fig = forecast_figure(past, fc.days, fc.enrolled_quantiles, st.residents, fc.deadline, st.as_of.isoformat())
            save_png(fig, chart)
    closing(f"P(on time) {fc.p_on_time:.0%} over {fc.runs:,} runs, as of {fc.as_of}")


def print_levers(levers: dict[str, Any]) -> None:
    """What would lift P(on time) to the target, one line per lever and the mix."""
    from ektp_opt.cli.console import out as con

    if levers.get("deadline_passed"):
        con.print("The deadline has passed: no lever can change P(on time) now (forecast without --target-p).")
        return
    if levers.get("already"):
        con.print(
            f"P(on time) is {levers['p_on_time_now']:.0%}, at least the {levers['target_p']:.0%} asked: nothing to add"
        )
        return
    con.print(
        f"To reach P(on time) {levers['target_p']:.0%} (now {levers['p_on_time_now']:.0%}), starting {levers['from']}:"
    )
    names = {
        "devices": "extra devices",
        "catch_up_days": "catch-up days",
        "extra_shift": "a fifth shift",
        "home_teams": "home-visit teams",
        "mix": "cheapest mix",
    }
    for key, name in names.items():
        o = levers[key]
        if not o.get("available", True):
            con.print(f"  {name}: not available ({o['why']})")
            continue
        what = (
            ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in o["parts"].items())
            if key == "mix"
            else f"{o['amount']:,}"
        )
        where = (" at " + ", ".join(f"{k} +{v}" for k, v in o["where"].items())) if o.get("where") else ""
        verdict = "" if o["enough"] else " (not enough)"
        con.print(
            f"  {name}: {what}{where}{verdict}; {o['device_days']:,.0f} device-days, P(on time) "
            f"{o['p_on_time']:.0%}, completion P50 {o['completion']['p50']}"
        )


@campaign.command("report")
@DB
@AS_OF
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="The HTML page to write.")
@click.option("--runs", type=click.IntRange(10, 100_000), default=1000, show_default=True, help="Simulated futures.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Same seed, same figures as `forecast`.")
@quiet_option
@guarded
def report(db: str, as_of: Any, out: Path, runs: int, seed: int, quiet: bool) -> None:
    """The campaign on one page: progress against the plan with the forecast's fan, kecamatan on
    track / at risk / late, the backlog, devices down by reason, the measured field against the
    nominal, and every plan version with what it changed.

    One self-contained HTML file (no network, no script): it opens from a USB stick. Its figures are
    those of `campaign status --json` and `campaign forecast --json` with the same --as-of and --seed.

    \b
    Examples:
      ektp-opt campaign report --db sqlite:///medan.db --as-of 2011-10-14 --out medan-week8.html
    """
    from ektp_opt.api import campaign_report
    from ektp_opt.cli.console import closing, progress_display

    with progress_display(quiet) as rep, rep.stage(f"status, forecast ({runs:,} runs) and page"):
        fc, st = campaign_report(db, out, _day(as_of), runs, seed)
    closing(
        f"Campaign page written to [bold]{plain(out)}[/]: {st.enrolled:,} of {st.residents:,} enrolled as of "
        f"{st.as_of}, P(on time) {fc.p_on_time:.0%}"
    )

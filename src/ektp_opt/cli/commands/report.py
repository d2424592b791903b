"""`ektp-opt report`, `invitations` and `roster`: what kecamatan and kelurahan staff use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ektp_opt.cli.commands.common import guarded, plan_scenario_option, scenario_arg
from ektp_opt.safety.textsafe import plain


def _view(plan_dir: Path, scenario_path: Path | None) -> tuple[Any, Any]:
    from ektp_opt.api import read_plan_view, scenario_of

    ls = scenario_arg(scenario_of(plan_dir, scenario_path))
    return read_plan_view(plan_dir, ls), ls  # whole, made for this scenario, keeping every hard rule


@click.command()
@click.argument("plan_dir", type=click.Path(path_type=Path))
@plan_scenario_option
@click.option("--out", type=click.Path(path_type=Path), required=True, help="HTML file to write.")
@guarded
def report(plan_dir: Path, scenario_path: Path | None, out: Path) -> None:
    """One self-contained HTML report of a plan: headline, objectives with bounds, charts
    (cumulative enrolment, devices in service, seat utilisation heatmap, kelurahan Gantt) and a
    table per kecamatan. Opens offline in any browser.

    \b
    Example:
      ektp-opt report plans/medan-2011 --out medan-2011.html
    """
    from ektp_opt.api import report_html
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.console import progress_display
    from ektp_opt.safety.atomic import write_text_atomic

    with progress_display() as rep:
        with rep.stage("read plan"):
            view, ls = _view(plan_dir, scenario_path)
        with rep.stage("charts + html"):
            write_text_atomic(out, report_html(view, ls))
    con.print(f"Report written to [bold]{plain(out)}[/] ({out.stat().st_size / 1e6:.1f} MB, self-contained)")


@click.command()
@click.argument("plan_dir", type=click.Path(path_type=Path))
@plan_scenario_option
@click.option("--kelurahan", required=True, help="Kelurahan code, e.g. 12.71.01.1001.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "csv"]), default="pdf", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="PDF or CSV file to write.")
@click.option(
    "--changed-only",
    is_flag=True,
    help="A re-plan: letters only for the KK whose appointment changed (moved, or re-booked after a missed slot).",
)
@guarded
def invitations(
    plan_dir: Path, scenario_path: Path | None, kelurahan: str, fmt: str, out: Path, changed_only: bool
) -> None:
    """Invitation letters for one kelurahan, in Indonesian, one A4 page per KK, sorted by
    lingkungan so they can be walked out street by street. --format csv gives the distribution
    list instead (lingkungan, KK, members, date, shift and clock times, office).

    \b
    Examples:
      ektp-opt invitations plans/medan-2011 --kelurahan 12.71.01.1001 --out undangan.pdf
      ektp-opt invitations plans/medan-v2 --kelurahan 12.71.01.1001 --changed-only --out baru.pdf
    """
    from ektp_opt.api import invitation_letters, letters_distribution_csv, letters_pdf
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.console import progress_display
    from ektp_opt.safety.atomic import write_bytes_atomic, write_text_atomic

    with progress_display() as rep:
        with rep.stage("read plan"):
            view, ls = _view(plan_dir, scenario_path)
            items = invitation_letters(plan_dir, view, ls, kelurahan, changed_only)
        with rep.stage(f"{len(items):,} letters"):
            if fmt == "pdf":
                write_bytes_atomic(out, letters_pdf(items, ls.scenario.city))
            else:
                write_text_atomic(out, letters_distribution_csv(items))
    con.print(f"{len(items):,} invitations for {plain(kelurahan)} written to [bold]{plain(out)}[/]")


@click.command()
@click.argument("plan_dir", type=click.Path(path_type=Path))
@plan_scenario_option
@click.option("--kecamatan", required=True, help="Kecamatan code, e.g. 12.71.01.")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="The day, YYYY-MM-DD.")
@click.option("--csv", "csv_out", type=click.Path(path_type=Path), default=None, help="Also write it as CSV.")
@guarded
def roster(plan_dir: Path, scenario_path: Path | None, kecamatan: str, day: Any, csv_out: Path | None) -> None:
    """The day's sheet for one kecamatan office: every device and shift with its clock times, the
    KK and residents expected, and the backlog seats kept free for late arrivals.

    \b
    Example:
      ektp-opt roster plans/medan-2011 --kecamatan 12.71.01 --date 2011-09-12
    """
    from ektp_opt.api import day_roster
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.console import progress_display
    from ektp_opt.cli.tables import roster_table
    from ektp_opt.safety.atomic import write_text_atomic
    from ektp_opt.safety.csvwrite import csv_text

    with progress_display() as rep, rep.stage("read plan"):
        view, ls = _view(plan_dir, scenario_path)
    rows = day_roster(view, ls, kecamatan, day.date())
    con.print(roster_table(rows, kecamatan, day.date()))
    if csv_out is not None:
        header = ("device_id", "shift", "start", "end", "kk", "residents", "regular_seats", "backlog_seats")
        cells = (
            (r.device_id, r.shift, f"{r.start:%H:%M}", f"{r.end:%H:%M}", r.kk, r.residents, r.regular_seats,
             r.backlog_seats)
            for r in rows
        )  # fmt: skip
        write_text_atomic(csv_out, csv_text(header, cells))
        con.print(f"Roster written to [bold]{plain(csv_out)}[/]")

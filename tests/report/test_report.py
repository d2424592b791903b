"""Reports people use: the HTML report, invitation letters and rosters, held against the plan."""

from __future__ import annotations

import csv
import html.parser
from collections import Counter
from pathlib import Path

import pytest

from tests.cli.test_cli import run


class _Collect(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.figures: list[str] = []
        self.images = 0
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "figure":
            self.figures.append(str(a.get("id")))
        if tag == "img" and str(a.get("src", "")).startswith("data:image/png;base64,"):
            self.images += 1
        if tag in ("html", "body", "table"):
            self.tags.append(tag)


def appointments(plan: Path) -> list[dict[str, str]]:
    with (plan / "appointments.csv").open() as fh:
        return list(csv.DictReader(fh))


def test_html_report_parses_and_has_every_chart(medan_10k_plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, _stdout, err = run("report", str(medan_10k_plan), "--out", str(out))
    assert code == 0, err
    text = out.read_text()
    parser = _Collect()
    parser.feed(text)
    assert parser.figures == ["chart-cumulative", "chart-devices", "chart-utilisation", "chart-gantt"]
    assert parser.images == 4 and "table" in parser.tags
    assert "http://" not in text and "https://" not in text and "<script" not in text  # opens offline
    assert "10,000 residents" in text


def _busiest_kelurahan(plan: Path) -> tuple[str, int]:
    counts = Counter(r["kelurahan_code"] for r in appointments(plan))
    return counts.most_common(1)[0]


def test_invitation_pdf_has_one_page_per_kk(medan_10k_plan: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader

    kel, kk = _busiest_kelurahan(medan_10k_plan)
    out = tmp_path / "undangan.pdf"
    code, _o, err = run("invitations", str(medan_10k_plan), "--kelurahan", kel, "--out", str(out))
    assert code == 0, err
    pdf = PdfReader(str(out))
    assert len(pdf.pages) == kk
    first = pdf.pages[0].extract_text()
    assert "SURAT UNDANGAN PEREKAMAN" in first and "Harap membawa" in first and "Kantor Camat" in first


def test_invitation_csv_matches_the_plan_and_walks_by_lingkungan(medan_10k_plan: Path, tmp_path: Path) -> None:
    kel, kk = _busiest_kelurahan(medan_10k_plan)
    out = tmp_path / "list.csv"
    code, _o, err = run("invitations", str(medan_10k_plan), "--kelurahan", kel, "--format", "csv", "--out", str(out))
    assert code == 0, err
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    plan = {r["kk_id"]: r for r in appointments(medan_10k_plan) if r["kelurahan_code"] == kel}
    assert len(rows) == kk == len(plan)
    for r in rows:
        p = plan[r["kk_id"]]
        assert (r["date"], r["shift"], r["members"]) == (p["date"], p["shift"], p["members"])
    ling = [int(r["lingkungan"]) for r in rows]
    assert ling == sorted(ling)


def test_roster_counts_equal_the_plan(medan_10k_plan: Path, tmp_path: Path) -> None:
    rows = appointments(medan_10k_plan)
    kec, date = Counter((r["site_kecamatan"], r["date"]) for r in rows).most_common(1)[0][0]
    out = tmp_path / "roster.csv"
    code, stdout, err = run("roster", str(medan_10k_plan), "--kecamatan", kec, "--date", date, "--csv", str(out))
    assert code == 0, err
    with out.open() as fh:
        sheet = list(csv.DictReader(fh))
    want = Counter((r["device_id"], r["shift"]) for r in rows if (r["site_kecamatan"], r["date"]) == (kec, date))
    got = {(s["device_id"], s["shift"]): int(s["kk"]) for s in sheet}
    assert {k: v for k, v in got.items() if v} == dict(want)
    assert all(int(s["backlog_seats"]) == 2 for s in sheet)  # reserve_per_shift on a regular day
    assert "Roster" in stdout


@pytest.mark.parametrize(("option", "value"), [("--kecamatan", "12.71.99"), ("--date", "2011-08-21")])
def test_roster_of_an_unknown_office_or_day_is_an_input_error(medan_10k_plan: Path, option: str, value: str) -> None:
    args = {"--kecamatan": "12.71.01", "--date": "2011-09-12", option: value}
    code, _o, err = run("roster", str(medan_10k_plan), *[x for kv in args.items() for x in kv])
    assert code == 3 and value in err

"""`campaign report` (issue #29): one self-contained page whose figures are the JSON's, checked in
the page's source and in a real browser (Debian's Chromium, headless: it renders, logs no console
message, and the figures in the DOM it built are the JSON's)."""

from __future__ import annotations

import html.parser
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.campaign.conftest import AS_OF, started
from tests.cli.test_cli import run

RUNS, SEED = "200", "3"


class _Figures(html.parser.HTMLParser):
    """Every element with data-json: its key path and its text; every src and href."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.links: list[str] = []
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.links += [v for k, v in attrs if k in ("src", "href") and v]
        if tag in ("td", "b", "span"):
            self._open.append(a.get("data-json"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "b", "span") and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1]:
            key = self._open[-1]
            self.figures[key] = self.figures.get(key, "") + data


def figures_of(page: str) -> _Figures:
    p = _Figures()
    p.feed(page)
    return p


def same(text: str, value: Any) -> bool:
    """The page's text says the JSON's value (numbers to the 4 significant digits a cell shows)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return text == str(value)
    shown = float(text.replace(",", ""))
    return abs(shown - value) <= max(abs(value) * 5e-4, 1e-9)


def check_against(figures: dict[str, str], status: dict[str, Any], forecast: dict[str, Any]) -> int:
    roots = {"status": status, "forecast": forecast}
    for key, text in figures.items():
        root, *path = key.split("/")
        value: Any = roots[root]
        for part in path:
            value = value[part]
        assert same(text.strip(), value), (key, text, value)
    return len(figures)


@pytest.fixture(scope="module")
def page(plan10k: Path, field: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:  # type: ignore[type-arg]
    tmp = tmp_path_factory.mktemp("report")
    db = started(plan10k, f"sqlite:///{tmp / 'c.db'}")
    files = [str(field / n) for n in ("enrolments.csv", "device_shifts.csv", "invitations.csv")]
    assert run("campaign", "record", *files, "--db", db, "--as-of", AS_OF)[0] == 0
    common = ["--db", db, "--as-of", AS_OF]
    assert run("campaign", "status", *common, "--json", str(tmp / "status.json"), "--quiet")[0] == 0
    fc = ["--runs", RUNS, "--seed", SEED]
    assert run("campaign", "forecast", *common, *fc, "--json", str(tmp / "forecast.json"), "--quiet")[0] == 0
    out = tmp / "campaign.html"
    code, _o, err = run("campaign", "report", *common, *fc, "--out", str(out), "--quiet")
    assert code == 0, err
    return out, json.loads((tmp / "status.json").read_text()), json.loads((tmp / "forecast.json").read_text())


def test_the_page_says_what_the_json_says_and_needs_nothing_else(page: tuple[Path, dict, dict]) -> None:  # type: ignore[type-arg]
    out, status, forecast = page
    p = figures_of(out.read_text(encoding="utf-8"))
    assert check_against(p.figures, status, forecast) >= 40  # the headline, every kecamatan, the backlog
    assert {"forecast/completion/p50", "forecast/p_on_time", "status/backlog/kk"} <= set(p.figures)
    assert p.links and all(link.startswith("data:image/png;base64,") for link in p.links)  # nothing to fetch


def test_the_page_renders_in_a_real_browser(page: tuple[Path, dict, dict], tmp_path: Path) -> None:  # type: ignore[type-arg]
    browser = shutil.which("chromium")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI checks the campaign page in Chromium: .ci/run installs it")
        pytest.skip("no chromium on this machine")
    out, status, forecast = page
    common = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"]
    logged = subprocess.run(
        [*common, "--enable-logging=stderr", "--v=0", "--dump-dom", out.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert logged.returncode == 0, logged.stderr[-2000:]
    console = [line for line in logged.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []  # no script error, nothing the page asked for and could not get
    built = figures_of(logged.stdout)
    assert check_against(built.figures, status, forecast) == len(figures_of(out.read_text()).figures)
    shot = tmp_path / "page.png"
    subprocess.run(
        [*common, "--hide-scrollbars", "--window-size=1280,2400", f"--screenshot={shot}", out.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000  # more than a blank

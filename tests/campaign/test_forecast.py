"""`campaign forecast` (issue #29, first part): the JSON keys of SPEC.md, and a forecast that orders
fields the way the truth does. (Whether its intervals hold on campaigns it did not see is the
calibration study of #29, still to be done.)"""

from __future__ import annotations

import json
from pathlib import Path

from tests.campaign.conftest import started
from tests.campaign.test_loop import field_log, record_all
from tests.cli.test_cli import run

KEYS = {
    "as_of",
    "runs",
    "completion",
    "share_dates",
    "p_on_time",
    "unenrolled_at_deadline",
    "per_kecamatan",
    "parameters",
}


def forecast_of(plan: Path, tmp_path: Path, name: str, *conditions: str) -> dict:  # type: ignore[type-arg]
    db = f"sqlite:///{tmp_path / (name + '.db')}"
    record_all(field_log(plan, tmp_path / name, *conditions, until="2011-08-24"), started(plan, db), "2011-08-25")
    out = tmp_path / f"{name}.json"
    chart = tmp_path / f"{name}.png"
    code, _o, err = run(
        "campaign",
        "forecast",
        "--db",
        db,
        "--as-of",
        "2011-08-25",
        "--runs",
        "300",
        "--json",
        str(out),
        "--chart",
        str(chart),
        "--quiet",
    )
    assert code == 0, err
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return json.loads(out.read_text())


def test_a_slower_field_finishes_later(plan10k: Path, tmp_path: Path) -> None:
    good = forecast_of(plan10k, tmp_path, "good", "--throughput", "120", "--down-rate", "0", "--no-show", "0.02")
    slow = forecast_of(plan10k, tmp_path, "slow", "--throughput", "40", "--down-rate", "0.3", "--no-show", "0.4")
    assert set(good) - {"generator"} == KEYS and set(good["share_dates"]) == {"0.9", "0.95"}
    assert set(good["completion"]) == {"p10", "p50", "p90"}
    assert good["completion"]["p10"] <= good["completion"]["p50"] <= good["completion"]["p90"]
    assert good["p_on_time"] == 1.0  # 10 k residents, a deadline in December: never in doubt
    assert slow["completion"]["p50"] > good["completion"]["p50"]
    assert slow["share_dates"]["0.9"]["p50"] > good["share_dates"]["0.9"]["p50"]
    assert slow["parameters"]["no_show"]["estimate"] > good["parameters"]["no_show"]["estimate"]

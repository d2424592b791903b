"""Hostile records (issue #28): fuzzed files give exit 0 or 3, never 1, and a refused call leaves the
store as it was (SQLite: byte for byte; PostgreSQL: row for row); a `record` killed with SIGKILL at
any moment leaves the store as before the call or with the whole call.

EKTP_FUZZ_EXAMPLES sets the number of fuzzed files (CI: 60 a backend; the issue's 500 were run by
hand: see the closing note of #28).
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.campaign.conftest import AS_OF, started
from tests.campaign.test_store import rows_of, state
from tests.cli.test_cli import run
from tests.conftest import ROOT

EXAMPLES = int(os.environ.get("EKTP_FUZZ_EXAMPLES", "60"))
HEADERS = {
    "enrolments": "kk_id,date,shift,device_id,residents",
    "device_shifts": "device_id,date,shift,status,reason",
    "deliveries": "date,kecamatan,count",
    "invitations": "kk_id,date,status",
}
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "99999999999999999999",
    "1e3",
    "nan",
    "2011-02-30",
    "2011-08-22T10:00",
    "=cmd|' /C calc'!A0",
    "\u202e",
    "\x00",
    "é",
    "上",
    '"',
    "a,b",
    "\n",
    "12.71.01-D001",
    "2011-09-05",
    "up",
    "down",
    "returned",
]


def valid_rows(plan: Path, kind: str) -> list[list[str]]:
    appts = list(csv.DictReader((plan / "appointments.csv").open()))[:30]
    if kind == "enrolments":
        return [[a["kk_id"], a["date"], a["shift"], a["device_id"], "1"] for a in appts]
    if kind == "device_shifts":
        return [
            [a["device_id"], a["date"], a["shift"], "up", "ok"]
            for a in {a["device_id"] + a["date"]: a for a in appts}.values()
        ]
    if kind == "deliveries":
        return [["2011-08-15", "12.71.01", "1"], ["2011-09-05", "12.71.02", "3"]]
    return [[a["kk_id"], "2011-08-15", "delivered"] for a in appts]


@st.composite
def damaged(draw: st.DrawFn, plan: Path) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(sorted(HEADERS)))
    rows = valid_rows(plan, kind)
    for _ in range(draw(st.integers(0, 3))):
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(rows[r]) - 1))
        rows[r][c] = draw(st.sampled_from(NASTY) | st.text(max_size=12))
    if draw(st.booleans()):
        rows.append(list(rows[0]))  # a duplicate key
    header = HEADERS[kind]
    if draw(st.integers(0, 9)) == 0:
        header = header.replace(",", ";")
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = header + end + "".join(",".join(r) + end for r in rows)
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0:
        cut = draw(st.integers(0, len(data)))
        data = data[:cut]
    return kind, data


@pytest.fixture(scope="module")
def base_store(plan10k: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store")
    started(plan10k, f"sqlite:///{root / 'base.db'}")
    return root / "base.db"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_records_are_stored_whole_or_not_at_all(
    plan10k: Path, base_store: Path, tmp_path: Path, data: st.DataObject
) -> None:
    kind, content = data.draw(damaged(plan10k))
    store = tmp_path / "c.db"
    shutil.copyfile(base_store, store)
    os.chmod(store, 0o600)
    f = tmp_path / f"{kind}.csv"
    f.write_bytes(content)
    db = f"sqlite:///{store}"
    before = store.read_bytes()
    code, _o, err = run("campaign", "record", str(f), "--db", db, "--as-of", AS_OF, "--quiet")
    assert code in (0, 3), err
    event(f"{kind}: exit {code}")
    if code == 3:
        assert err.count("\n") <= 2 and str(f) in err, err  # one line, naming the file
        assert store.read_bytes() == before


def test_a_refused_call_leaves_postgresql_row_for_row(plan10k: Path, db: str, tmp_path: Path) -> None:
    """The same refusal against both backends (the fuzz above runs on SQLite files)."""
    started(plan10k, db)
    good = tmp_path / "i.csv"
    good.write_text(
        "kk_id,date,status\n" + "".join(f"{r[0]},{r[1]},{r[2]}\n" for r in valid_rows(plan10k, "invitations"))
    )
    bad = tmp_path / "e.csv"
    rows = valid_rows(plan10k, "enrolments")
    rows[-1][4] = "999"
    bad.write_text(HEADERS["enrolments"] + "\n" + "".join(",".join(r) + "\n" for r in rows))
    before = state(db)
    code, _o, err = run("campaign", "record", str(good), str(bad), "--db", db, "--as-of", AS_OF)
    assert code == 3 and "e.csv" in err, err
    assert state(db) == before


def test_record_killed_at_any_moment_keeps_the_store_whole(plan10k: Path, field: Path, db: str, tmp_path: Path) -> None:
    """SIGKILL at moments spread over a record call: afterwards the store holds either nothing of
    the call or all of it, and a later call records it (or says it is there)."""
    started(plan10k, db)
    files = [str(field / n) for n in ("enrolments.csv", "device_shifts.csv", "invitations.csv")]
    cmd = [
        sys.executable,
        "-m",
        "ektp_opt.cli.entry",
        "campaign",
        "record",
        *files,
        "--db",
        db,
        "--as-of",
        AS_OF,
        "--quiet",
    ]
    empty = rows_of(db)
    whole: dict[str, int] | None = None
    outcomes = []
    for delay in (0.3, 0.6, 0.9, 1.2, 1.6, 2.5):
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = rows_of(db)
        if now == empty:
            outcomes.append("before")
            continue
        whole = whole or now
        assert now == whole and now["imports"] == 3, now  # the whole call, never a part
        outcomes.append("whole")
        break  # recorded: the next calls would only say so
    assert "before" in outcomes, outcomes  # some kill landed mid-call
    code, _o, err = run("campaign", "record", *files, "--db", db, "--as-of", AS_OF, "--quiet")
    assert code == 0, err
    assert rows_of(db)["imports"] == 3

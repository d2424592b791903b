"""The campaign store (issue #28), the same tests against SQLite and a real PostgreSQL server.

PostgreSQL comes from EKTP_TEST_PG_URL (``.ci/run`` starts a server and sets it); without it the
PostgreSQL cases are skipped on a developer's machine and fail in CI.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import pytest

from tests.campaign.conftest import AS_OF, archives_hold, started
from tests.cli.test_cli import run
from tests.conftest import ROOT


def rows_of(db: str) -> dict[str, int]:
    """Every table's row count: a refused call must leave them as they were."""
    from sqlalchemy import create_engine, func, inspect, select

    from ektp_opt.campaign import schema as t
    from ektp_opt.campaign.store import parse_url

    engine = create_engine(parse_url(db))
    try:
        with engine.connect() as conn:
            have = set(inspect(conn).get_table_names())
            return {
                n: conn.execute(select(func.count()).select_from(tb)).scalar_one()
                for n, tb in t.metadata.tables.items()
                if n in have
            }
    finally:
        engine.dispose()


def state(db: str) -> object:
    """SQLite: the file's bytes; PostgreSQL: the row counts."""
    if db.startswith("sqlite:///"):
        return Path(db.removeprefix("sqlite:///")).read_bytes()
    return rows_of(db)


def write(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text(header + "\n" + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_init_record_status(plan10k: Path, field: Path, db: str, tmp_path: Path) -> None:
    started(plan10k, db)
    archives_hold(db, {1: plan10k})
    if db.startswith("sqlite"):
        assert Path(db.removeprefix("sqlite:///")).stat().st_mode & 0o777 == 0o600
    files = [str(field / n) for n in ("enrolments.csv", "device_shifts.csv", "invitations.csv")]
    code, out, err = run("campaign", "record", *files, "--db", db, "--as-of", AS_OF, "--by", "office A")
    assert code == 0, err
    n_enrol = len(list(csv.DictReader(io.StringIO((field / "enrolments.csv").read_text()))))
    assert f"{n_enrol:,} new" in out
    code, out, err = run("campaign", "record", files[0], "--db", db, "--as-of", AS_OF)
    assert code == 0 and "recorded before" in out and "by office A" in out, out  # stored once
    js = tmp_path / "status.json"
    code, out, err = run("campaign", "status", "--db", db, "--as-of", AS_OF, "--json", str(js))
    assert code == 0, err
    import json

    st = json.loads(js.read_text())
    enrolled = sum(int(r["residents"]) for r in csv.DictReader((field / "enrolments.csv").open()))
    assert st["enrolled"] == enrolled
    down = [r["status"] for r in csv.DictReader((field / "device_shifts.csv").open())]
    share = st["parameters"]["down_share"]
    assert share["observations"] > 0 and share["low"] <= 0.1 <= share["high"], share  # the truth: 10 %
    assert abs(share["estimate"] - down.count("down") / len(down)) < 0.02


@pytest.mark.parametrize(
    ("name", "header", "line", "where"),
    [
        (
            "unknown kk",
            "kk_id,date,shift,device_id,residents",
            "NOBODY,2011-08-22,1,12.71.01-D001,1",
            "row 2, column kk_id",
        ),
        (
            "unknown device",
            "kk_id,date,shift,device_id,residents",
            "{kk},2011-08-22,1,X-D9,1",
            "row 2, column device_id",
        ),
        ("future", "kk_id,date,shift,device_id,residents", "{kk},2011-09-20,1,12.71.01-D001,1", "row 2, column date"),
        (
            "before start",
            "kk_id,date,shift,device_id,residents",
            "{kk},2011-08-16,1,12.71.01-D001,1",
            "row 2, column date",
        ),
        (
            "beyond members",
            "kk_id,date,shift,device_id,residents",
            "{kk},2011-08-22,1,12.71.01-D001,99",
            "row 2, column residents",
        ),
        (
            "bad status",
            "device_id,date,shift,status,reason",
            "12.71.01-D001,2011-08-22,1,broken,x",
            "row 2, column status",
        ),
        ("shift beyond", "device_id,date,shift,status,reason", "12.71.01-D001,2011-08-22,9,up,", "row 2, column shift"),
        ("kecamatan", "date,kecamatan,count", "2011-08-22,99.99.99,2", "row 2, column kecamatan"),
        ("not a record", "kk_id,when", "{kk},2011-08-22", "header"),
    ],
)
def test_a_bad_row_anywhere_stores_nothing(
    plan10k: Path, field: Path, db: str, tmp_path: Path, name: str, header: str, line: str, where: str
) -> None:
    started(plan10k, db)
    kk = next(csv.DictReader((plan10k / "appointments.csv").open()))["kk_id"]
    good = write(tmp_path / "good.csv", "kk_id,date,status", [f"{kk},2011-08-15,delivered"])
    bad = write(tmp_path / "bad.csv", header, [line.format(kk=kk)])
    before = state(db)
    code, _o, err = run("campaign", "record", str(good), str(bad), "--db", db, "--as-of", AS_OF)
    assert code == 3, err
    assert "bad.csv" in err and where in err, err
    assert state(db) == before  # the good file of the same call is not stored either


def test_a_fact_that_contradicts_one_recorded_is_refused(plan10k: Path, db: str, tmp_path: Path) -> None:
    started(plan10k, db)
    header = "device_id,date,shift,status,reason"
    one = write(tmp_path / "a.csv", header, ["12.71.01-D001,2011-08-22,1,up,"])
    same = write(tmp_path / "b.csv", header, ["12.71.01-D001,2011-08-22,1,up,", "12.71.01-D001,2011-08-22,2,up,"])
    other = write(tmp_path / "c.csv", header, ["12.71.01-D001,2011-08-22,1,down,network"])
    assert run("campaign", "record", str(one), "--db", db, "--as-of", AS_OF)[0] == 0
    code, out, _e = run("campaign", "record", str(same), "--db", db, "--as-of", AS_OF)
    assert code == 0 and "2 rows, 1 new" in out, out
    code, _o, err = run("campaign", "record", str(other), "--db", db, "--as-of", AS_OF)
    assert code == 3 and "contradicts" in err, err


def test_init_never_replaces_a_store(plan10k: Path, db: str) -> None:
    started(plan10k, db)
    before = state(db)
    code, _o, err = run("campaign", "init", "--plan", str(plan10k), "--db", db, "--quiet")
    assert code == 3, err
    assert state(db) == before


def test_two_offices_record_at_once(plan10k: Path, field: Path, db: str, tmp_path: Path) -> None:
    """Two processes record different halves of the same day at the same moment: both land whole."""
    started(plan10k, db)
    rows = list(csv.DictReader((field / "enrolments.csv").open()))
    halves = [rows[: len(rows) // 2], rows[len(rows) // 2 :]]
    paths = []
    for n, half in enumerate(halves):
        p = tmp_path / f"office{n}.csv"
        write(
            p,
            "kk_id,date,shift,device_id,residents",
            [f"{r['kk_id']},{r['date']},{r['shift']},{r['device_id']},{r['residents']}" for r in half],
        )
        paths.append(p)
    cmd = [sys.executable, "-m", "ektp_opt.cli.entry", "campaign", "record", "--db", db, "--as-of", AS_OF, "--quiet"]
    procs = [subprocess.Popen([*cmd, str(p)], cwd=ROOT, stderr=subprocess.PIPE, text=True) for p in paths]
    for p in procs:
        _o, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert rows_of(db)["enrolments"] == len(rows)
    assert rows_of(db)["imports"] == 2


def test_passwords_are_never_printed(tmp_path: Path) -> None:
    code, out, err = run("campaign", "status", "--db", "postgresql://ektp:s3cret-pw@127.0.0.1:1/none")
    assert code == 3, err
    assert "s3cret-pw" not in out + err and "127.0.0.1" in err, err


def test_schema_and_migrations_agree(plan10k: Path, db: str) -> None:
    """The tables the migrations make are the tables schema.py describes (nothing added to one only)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from ektp_opt.campaign.schema import metadata
    from ektp_opt.campaign.store import parse_url

    started(plan10k, db)
    engine = create_engine(parse_url(db))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_the_known_head_is_the_migrations_head() -> None:
    """store.HEAD_REVISION (read by every command) is the newest migration script's revision."""
    from ektp_opt.campaign.store import head_revision, scripts_head

    assert head_revision() == scripts_head()


def test_an_older_store_is_upgraded_only_when_asked(plan10k: Path, db: str) -> None:
    """A store at the first revision (as an earlier ektp-opt made it) is refused with the command
    that upgrades it; `campaign upgrade` brings it to this version, keeping what it held."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from ektp_opt.campaign.store import _alembic_config, head_revision, parse_url

    started(plan10k, db)
    engine = create_engine(parse_url(db))
    with engine.begin() as conn:  # as an earlier version made it: drop what revisions 0002-0004 added
        conn.execute(text("DROP INDEX ix_enrolments_date"))
        conn.execute(text("DROP INDEX ix_device_shifts_date"))
        conn.execute(text("DROP TABLE plan_files"))
        conn.execute(text("DROP TABLE arrays"))
        command.stamp(_alembic_config(conn), "0001")
    engine.dispose()
    held = rows_of(db)
    code, _o, err = run("campaign", "status", "--db", db, "--as-of", AS_OF)
    assert code == 3 and "campaign upgrade" in err, err
    code, out, err = run("campaign", "upgrade", "--db", db)
    assert code == 0 and f"to revision {head_revision()}" in out, out + err
    after = rows_of(db)
    assert after.pop("plan_files") > 0  # read back from the plan folder, still on disk
    assert after.pop("arrays") == 2  # made from the rows: the households and version 1
    assert after == held
    archives_hold(db, {1: plan10k})
    assert run("campaign", "status", "--db", db, "--as-of", AS_OF)[0] == 0


def test_the_day_is_checked_against_today_by_default(plan10k: Path, db: str, tmp_path: Path) -> None:
    """Without --as-of, today is the limit: a 2011 campaign takes 2011 records."""
    started(plan10k, db)
    f = write(
        tmp_path / "i.csv",
        "kk_id,date,status",
        [f"{next(csv.DictReader((plan10k / 'appointments.csv').open()))['kk_id']},2011-08-15,returned"],
    )
    assert dt.date.today() > dt.date(2011, 8, 15)
    assert run("campaign", "record", str(f), "--db", db)[0] == 0


def test_a_campaign_that_runs_late_goes_on_being_recorded(plan10k: Path, db: str, tmp_path: Path) -> None:
    """Medan 2011 ran four months past its deadline: an enrolment after the deadline is a fact to
    record; one before the campaign's first day is refused, naming the row."""
    started(plan10k, db)
    a = next(csv.DictReader((plan10k / "appointments.csv").open()))
    header = "kk_id,date,shift,device_id,residents"
    late = write(tmp_path / "late.csv", header, [f"{a['kk_id']},2012-01-10,{a['shift']},{a['device_id']},1"])
    code, out, err = run("campaign", "record", str(late), "--db", db, "--as-of", "2012-01-31")
    assert code == 0 and "1 new" in out, out + err
    early = write(tmp_path / "early.csv", header, [f"{a['kk_id']},2011-08-01,{a['shift']},{a['device_id']},1"])
    held = state(db)
    code, _o, err = run("campaign", "record", str(early), "--db", db, "--as-of", "2012-01-31")
    assert code == 3 and "early.csv: row 2, column date" in err and "before the campaign" in err, err
    assert state(db) == held


def test_a_compressed_record_is_read_as_the_text_inside(plan10k: Path, field: Path, db: str, tmp_path: Path) -> None:
    """An office may send enrolments.csv.gz: recorded as the CSV inside, and the same content sent
    again uncompressed is the same file (stored once); a file that only starts like gzip is exit 3."""
    import gzip

    started(plan10k, db)
    packed = tmp_path / "enrolments.csv.gz"
    packed.write_bytes(gzip.compress((field / "enrolments.csv").read_bytes()))
    code, out, err = run("campaign", "record", str(packed), "--db", db, "--as-of", AS_OF)
    assert code == 0 and "enrolments" in out and " new" in out, out + err
    code, out, err = run("campaign", "record", str(field / "enrolments.csv"), "--db", db, "--as-of", AS_OF)
    assert code == 0 and "recorded before" in out, out + err
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(packed.read_bytes()[:200])
    held = state(db)
    code, _o, err = run("campaign", "record", str(broken), "--db", db, "--as-of", AS_OF)
    assert code == 3 and "broken.csv.gz" in err and "gzip" in err, err
    assert state(db) == held

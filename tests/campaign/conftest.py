"""Fixtures of the campaign tests: a store URL per backend, a planned city."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import run
from tests.conftest import MEDAN

AS_OF = "2011-09-17"


def _pg_admin() -> str | None:
    url = os.environ.get("EKTP_TEST_PG_URL")
    if url is None and os.environ.get("CI"):
        pytest.fail("CI runs the campaign store against PostgreSQL: .ci/run sets EKTP_TEST_PG_URL")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL where no store is yet: a file in tmp_path, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'campaign.db'}"
        return
    admin = _pg_admin()
    if admin is None:
        pytest.skip("no PostgreSQL server (EKTP_TEST_PG_URL)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(make_url(admin).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(make_url(admin).set(database=name))
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="module")
def plan10k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan") / "plan"
    assert run("solve", str(MEDAN / "medan-10k.toml"), "--out", str(out), "--workers", "1", "--quiet")[0] == 0
    return out


@pytest.fixture(scope="module")
def field(plan10k: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four weeks of a field that runs at 80 per device-day with a fifth of the families missing."""
    out = tmp_path_factory.mktemp("field") / "log"
    args = ["--throughput", "80", "--no-show", "0.2", "--down-rate", "0.1", "--returned", "0.05", "--seed", "3"]
    code, _o, err = run(
        "campaign", "simulate-field", "--plan", str(plan10k), "--until", AS_OF, "--out", str(out), *args
    )
    assert code == 0, err
    return out


def started(plan: Path, db: str) -> str:
    code, _o, err = run("campaign", "init", "--plan", str(plan), "--db", db, "--quiet")
    assert code == 0, err
    return db


def archives_hold(db: str, plans: dict[int, Path]) -> None:
    """The store's archives (campaign/arrays.py) say what its rows say, and each version's says what
    that plan folder's appointments.csv says (read here with the csv module, not the store's code)."""
    import csv

    import numpy as np
    from sqlalchemy import create_engine, select

    from ektp_opt.campaign import schema as t
    from ektp_opt.campaign.snapshot import household_columns, household_rows
    from ektp_opt.campaign.store import parse_url

    engine = create_engine(parse_url(db))
    try:
        with engine.connect() as conn:
            versions = [v for (v,) in conn.execute(select(t.plan_versions.c.version))]
            assert sorted(versions) == sorted(plans)
            for version, folder in plans.items():
                hh, plan, coded = household_columns(conn, version)
                rows_hh, rows_plan = household_rows(conn, version)
                for name in ("kk", "kelurahan", "home", "members"):
                    assert np.array_equal(hh[name], rows_hh[name]), name
                for name in ("day", "shift", "device", "site"):
                    assert np.array_equal(plan[name], rows_plan[name], equal_nan=name == "day"), name
                for name, (values, codes) in coded.items():
                    column = hh[name] if name in hh else plan[name]
                    assert np.array_equal(values[codes], column), name
                at = {k: i for i, k in enumerate(hh["kk"].tolist())}
                seen = 0
                for r in csv.DictReader((folder / "appointments.csv").open(encoding="utf-8")):
                    i = at[r["kk_id"]]
                    assert str(plan["day"][i]) == r["date"] and int(plan["shift"][i]) == int(r["shift"])
                    assert plan["device"][i] == r["device_id"]
                    seen += 1
                assert seen == int((plan["device"] != "").sum())
    finally:
        engine.dispose()

"""Opening, creating and upgrading a campaign store (SQLite for one office, PostgreSQL for a city).

A URL names the store: ``sqlite:///campaign.db`` (the default) or
``postgresql://user@host/db``. Credentials come only from the URL or the environment (``PGPASSWORD``,
``~/.pgpass``, as libpq reads them); nothing ektp-opt prints shows a password: errors name the
host and the database.

A store is created whole or not at all: a new SQLite file is built under a temporary name and
renamed into place (created readable by its owner only), a PostgreSQL schema is made inside one
transaction. A store made by an earlier version of ektp-opt is never upgraded silently: opening
it says so, and ``ektp-opt campaign upgrade`` runs the migrations.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from ektp_opt.errors import InputError

DEFAULT_URL = "sqlite:///campaign.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreError(InputError):
    """A store that cannot be used as asked (missing, not a campaign, out of date, unreachable): exit 3."""

    def __init__(self, url: URL | str, message: str) -> None:
        super().__init__(Path(describe(url)), None, message)


def describe(url: URL | str) -> str:
    """The store as a message may name it: the SQLite file, or ``postgresql://host/db`` (no user,
    no password)."""
    try:
        u = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "(not a database URL)"
    if u.get_backend_name() == "sqlite":
        return u.database or ":memory:"
    port = f":{u.port}" if u.port else ""
    return f"{u.get_backend_name()}://{u.host or 'localhost'}{port}/{u.database or ''}"


def parse_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise StoreError(raw, "not a database URL: use sqlite:///FILE or postgresql://USER@HOST/DB") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise StoreError(url, "a campaign store needs a file: sqlite:///FILE")
        return url
    if backend in ("postgresql", "postgres"):
        # psycopg 3 is the driver ektp-opt ships with ([postgresql] extra)
        return url.set(drivername="postgresql+psycopg")
    raise StoreError(url, f"{backend} is not supported: use sqlite:///FILE or postgresql://USER@HOST/DB")


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _engine(url: URL) -> Engine:
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"timeout": 60}, poolclass=None)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi: Any, _record: Any) -> None:
            dbapi.isolation_level = None  # ektp-opt says BEGIN itself (IMMEDIATE: one writer at a time)
            cur = dbapi.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA busy_timeout = 60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    try:
        return create_engine(url, pool_pre_ping=True, insertmanyvalues_page_size=10_000)
    except ModuleNotFoundError:
        raise StoreError(url, "PostgreSQL needs the driver: pip install 'ektp-opt[postgresql]'") from None


# The newest migration's revision, known here so that every command need not load Alembic's
# scripts to check a store (0.16 s of each `campaign status`); a test holds it to the scripts.
HEAD_REVISION = "0004"


def head_revision() -> str:
    return HEAD_REVISION


def scripts_head() -> str:
    """The head revision as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def revision_of(conn: Connection) -> str | None:
    """The store's Alembic revision; None when it has no campaign tables at all."""
    names = set(inspect(conn).get_table_names())
    if "campaign" not in names:
        return None
    if "alembic_version" not in names:
        return "(none)"
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else "(none)"


@contextmanager
def connect(url: URL) -> Iterator[Engine]:
    """An engine for an existing store at the current revision (else StoreError, exit 3)."""
    if is_sqlite(url):
        path = Path(url.database or "")
        if not path.is_file():
            raise StoreError(url, "no campaign store here: start one with `ektp-opt campaign init`")
    engine = _engine(url)
    try:
        with _reachable(url), engine.connect() as conn:
            rev = revision_of(conn)
        if rev is None:
            raise StoreError(url, "not a campaign store (no campaign tables)")
        if rev != head_revision():
            raise StoreError(
                url,
                f"made by an earlier version of ektp-opt (revision {rev}); "
                "run `ektp-opt campaign upgrade --db URL` first",
            )
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _reachable(url: URL) -> Iterator[None]:
    """Database errors as one line naming the store (never the password); exit 3."""
    try:
        yield
    except OperationalError as exc:
        first = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip() else type(exc).__name__
        if url.password:
            first = first.replace(str(url.password), "***")
        raise StoreError(url, f"cannot use the database ({first})") from None
    except SQLAlchemyError as exc:
        raise StoreError(url, f"database error ({type(exc).__name__})") from None


def create(url: URL, fill: Any) -> None:
    """Create the store's tables and call ``fill(conn)`` in the same transaction. SQLite: built
    under a temporary name beside the target, readable by its owner only, then renamed into place;
    an existing file is never replaced (exit 3)."""
    from alembic import command

    if is_sqlite(url):
        target = Path(url.database or "")
        if target.exists() or target.is_symlink():
            raise StoreError(url, "exists already: a store is started once (record into it, or choose another file)")
        if not target.parent.is_dir():
            raise StoreError(url, "its folder does not exist")
        tmp = target.with_name(f".{target.name}.ektp-new-{os.getpid()}")
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, stat.S_IRUSR | stat.S_IWUSR)
        os.close(fd)
        engine = _engine(url.set(database=str(tmp)))
        try:
            with engine.begin() as conn:
                command.upgrade(_alembic_config(conn), "head")
                fill(conn)
            engine.dispose()
            try:
                os.link(tmp, target)  # fails if the target appeared meanwhile: never replaced
            except FileExistsError:
                raise StoreError(url, "exists already: a store is started once") from None
        finally:
            engine.dispose()
            tmp.unlink(missing_ok=True)
        return
    engine = _engine(url)
    try:
        with _reachable(url), engine.begin() as conn:
            if revision_of(conn) is not None:
                raise StoreError(url, "holds a campaign already: a store is started once")
            command.upgrade(_alembic_config(conn), "head")
            fill(conn)
    finally:
        engine.dispose()


def upgrade(url: URL) -> tuple[str, str]:
    """Run the migrations a store made by an earlier version needs, in one transaction; returns
    (revision before, revision after)."""
    from alembic import command

    if is_sqlite(url) and not Path(url.database or "").is_file():
        raise StoreError(url, "no campaign store here")
    engine = _engine(url)
    try:
        with _reachable(url), engine.begin() as conn:
            before = revision_of(conn)
            if before is None:
                raise StoreError(url, "not a campaign store (no campaign tables)")
            if before == "(none)":
                raise StoreError(url, "has campaign tables but no revision: not made by ektp-opt")
            command.upgrade(_alembic_config(conn), "head")
            after = revision_of(conn)
    finally:
        engine.dispose()
    return before, str(after)

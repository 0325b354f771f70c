"""Engine creation (SQLite or PostgreSQL), Alembic migrations and the schema check at start."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from ggk.hub.interfaces import SchemaNotCurrent

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version_hub"


def _private_database_file(path: Path) -> None:
    """The SQLite file owner-only (0600) before SQLite opens it; SQLite gives its -wal and -shm
    files the same mode. A directory the hub creates for it is 0700."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def create_engine(url: str) -> sa.Engine:
    """An engine that is safe for several threads (and, on PostgreSQL, several processes).

    SQLite: WAL, a generous busy timeout and `BEGIN IMMEDIATE` so that writers queue instead of
    failing on lock upgrades.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_database_file(Path(parsed.database))
        engine = sa.create_engine(
            url, connect_args={"timeout": 60, "check_same_thread": False}, pool_size=10,
            max_overflow=20,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            write = conn.get_execution_options().get(WRITE_OPTION, False)
            # straight to the driver: this runs for every transaction, and SQLAlchemy's statement
            # machinery costs ten times what SQLite needs for a BEGIN
            conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


WRITE_OPTION = "ggk_hub_write"


@contextlib.contextmanager
def writing(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A write transaction. On SQLite it takes the write lock at once (BEGIN IMMEDIATE), so that
    concurrent writers wait for each other (busy timeout) instead of failing on a lock upgrade;
    plain reads (`engine.connect()`) stay concurrent under WAL."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


def _alembic_config(connection: sa.Connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    config = _alembic_config(None)  # type: ignore[arg-type]
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def migrate(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the hub schema to the newest revision; returns (before, after)."""
    from alembic import command

    before = current_revision(engine)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    return before, head_revision()


def require_current_schema(engine: sa.Engine, url: str) -> None:
    """Raise SchemaNotCurrent (with the command to run) unless the schema is at head."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    where = sa.make_url(url).render_as_string(hide_password=True)
    if current is None:
        raise SchemaNotCurrent(
            f"the hub database {where} has no hub schema yet; run `ggk hub migrate` with the same "
            "--data-dir/--database-url first"
        )
    raise SchemaNotCurrent(
        f"the hub database {where} is at revision {current}, this ggk needs {head}; run "
        "`ggk hub migrate` with the same --data-dir/--database-url first"
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; the hub stores UTC only."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)

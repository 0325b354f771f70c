"""Engine (SQLite or PostgreSQL) and the station's Alembic migrations (version table
`alembic_version_station`, so the station can share a database with the hub)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version_station"
MIGRATION_LOCK = 0x67676B53  # pg advisory lock key of the station migrations ("ggkS")


class SchemaNotCurrent(RuntimeError):
    """The station database is not migrated to this ggk's head revision."""


def create_engine(url: str) -> sa.Engine:
    """SQLite: WAL, busy timeout and BEGIN IMMEDIATE (writers queue); PostgreSQL: a plain pool."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
    if parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=60000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _config(connection: sa.Connection | None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config(None)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision_on(conn)


def current_revision_on(conn: sa.Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(
        conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def migrate(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the station schema to head; returns (before, after)."""
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # several stations starting at once: one migrates
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        before = current_revision_on(conn)
        command.upgrade(_config(conn), "head")
    return before, head_revision()


def require_current_schema(engine: sa.Engine) -> None:
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        raise SchemaNotCurrent(
            f"the station database {where} is at revision {current or 'empty'}, this ggk needs "
            f"{head}; run `ggk station migrate` with the same --data-dir/--database-url first")


class UtcDateTime(sa.TypeDecorator[dt.datetime]):
    """A moment stored as UTC and read back as an aware UTC datetime, on SQLite and PostgreSQL.

    SQLite has no time zone type: SQLAlchemy's DateTime writes an aware value's wall-clock digits
    and drops the offset, so a clock time in Europe/Amsterdam (the simulated clock, `--now`) came
    back two hours off on SQLite while PostgreSQL (timestamptz) converted it. Converting to UTC
    before binding makes both databases hold, and return, the same moment."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None,
                           dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"the station stores timezone-aware moments only, got {value!r}")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None,
                             dialect: sa.Dialect) -> dt.datetime | None:
        return as_utc(value)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """An aware UTC datetime (SQLite hands back naive ones, which UtcDateTime wrote as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)

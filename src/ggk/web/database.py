"""Engine creation for the web applications' database (SQLite or PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event


def create_engine(url: str) -> sa.Engine:
    """An engine safe for several threads; SQLite in WAL mode with a generous busy timeout."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_size=10, max_overflow=40, pool_pre_ping=True)
    if parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                              pool_size=10, max_overflow=40)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes for timezone=True columns: they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _alembic_config(migrations: Path, connection: sa.Connection | None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["connection"] = connection
    return config


def migrate(engine: sa.Engine, migrations: Path) -> None:
    """Bring one package's tables to its newest Alembic revision (each package has its own
    migrations folder and version table, so web applications can add theirs beside ggk.web's)."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_alembic_config(migrations, conn), "head")


def new_revision(engine: sa.Engine, migrations: Path, message: str, rev_id: str) -> None:
    """Developers: write a migration for the difference between the tables and the database."""
    from alembic import command

    with engine.begin() as conn:
        command.revision(_alembic_config(migrations, conn), message=message, autogenerate=True,
                         rev_id=rev_id)

"""The station's tables on the shared database layer (ggk.database): engine, migrations (version
table `alembic_version_station`, so the station can share a database with the hub) and the schema
check at start."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from ggk.database import engine as _engine
from ggk.database.engine import as_utc
from ggk.database.interfaces import SchemaNotCurrent
from ggk.database.migrations import Migrations

__all__ = ["MIGRATIONS", "VERSION_TABLE", "SchemaNotCurrent", "as_utc", "create_engine",
           "current_revision", "head_revision", "migrate", "require_current_schema"]

VERSION_TABLE = "alembic_version_station"
MIGRATIONS = Migrations(Path(__file__).resolve().parent / "migrations", VERSION_TABLE,
                        component="station", migrate_command="ggk station migrate")


def create_engine(url: str) -> sa.Engine:
    """The station's engine: every transaction on SQLite takes the write lock at once (BEGIN
    IMMEDIATE), so writers queue; PostgreSQL: a plain pool."""
    return _engine.create_engine(url, lock_every_transaction=True, pool_size=5, max_overflow=10)


def head_revision() -> str:
    return MIGRATIONS.head_revision()


def current_revision(engine: sa.Engine) -> str | None:
    return MIGRATIONS.current_revision(engine)


def migrate(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the station schema to head; returns (before, after)."""
    return MIGRATIONS.migrate(engine)


def require_current_schema(engine: sa.Engine) -> None:
    """Raise SchemaNotCurrent (with the command to run) unless the schema is at head."""
    MIGRATIONS.require_current(engine)

"""The hub's tables on the shared database layer (ggk.database): engine, migrations (version table
`alembic_version_hub`) and the schema check at start."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from ggk.clock import utcnow
from ggk.database import engine as _engine
from ggk.database.engine import as_utc, writing
from ggk.database.migrations import Migrations

__all__ = ["MIGRATIONS", "VERSION_TABLE", "as_utc", "create_engine", "current_revision",
           "head_revision", "migrate", "require_current_schema", "utcnow", "writing"]

VERSION_TABLE = "alembic_version_hub"
MIGRATIONS = Migrations(Path(__file__).resolve().parent / "migrations", VERSION_TABLE,
                        component="hub", migrate_command="ggk hub migrate")


def create_engine(url: str) -> sa.Engine:
    """The hub's engine: on SQLite only `writing(engine)` takes the write lock at once; plain
    reads (`engine.connect()`) stay concurrent under WAL."""
    return _engine.create_engine(url)


def head_revision() -> str:
    return MIGRATIONS.head_revision()


def current_revision(engine: sa.Engine) -> str | None:
    return MIGRATIONS.current_revision(engine)


def migrate(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the hub schema to the newest revision; returns (before, after)."""
    return MIGRATIONS.migrate(engine)


def require_current_schema(engine: sa.Engine, url: str | None = None) -> None:
    """Raise SchemaNotCurrent (with the command to run) unless the schema is at head."""
    MIGRATIONS.require_current(engine)

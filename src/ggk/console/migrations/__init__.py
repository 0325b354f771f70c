"""Alembic migrations of the console's tables (version table alembic_version_console)."""

from pathlib import Path

from ggk.database.migrations import Migrations

MIGRATIONS = Migrations(Path(__file__).resolve().parent, "alembic_version_console",
                        component="console", migrate_command="ggk console migrate")

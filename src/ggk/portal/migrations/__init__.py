"""Alembic migrations of the portal's tables (version table alembic_version_portal)."""

from pathlib import Path

from ggk.database.migrations import Migrations

MIGRATIONS = Migrations(Path(__file__).resolve().parent, "alembic_version_portal",
                        component="portal", migrate_command="ggk portal migrate")

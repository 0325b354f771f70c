"""Alembic migrations of the dashboard's tables (version table alembic_version_dashboard)."""

from pathlib import Path

from ggk.database.migrations import Migrations

MIGRATIONS = Migrations(Path(__file__).resolve().parent, "alembic_version_dashboard",
                        component="dashboard", migrate_command="ggk dashboard migrate")

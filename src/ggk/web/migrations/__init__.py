"""Alembic migrations of the web foundation's tables (web_*), beside each application's own."""

from pathlib import Path

from ggk.database.migrations import Migrations

MIGRATIONS = Migrations(Path(__file__).resolve().parent, "alembic_version_web",
                        component="web", migrate_command="ggk portal|dashboard|console migrate")

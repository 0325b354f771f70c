"""Alembic environment of ggk.console (version table and connection: its Migrations)."""

from ggk.console.tables import metadata
from ggk.database.migrations import run_env

run_env(metadata)

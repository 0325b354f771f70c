"""Alembic environment of ggk.dashboard (version table and connection: its Migrations)."""

from ggk.dashboard.tables import metadata
from ggk.database.migrations import run_env

run_env(metadata)

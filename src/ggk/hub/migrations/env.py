"""Alembic environment of the hub (version table and connection: its Migrations)."""

from ggk.database.migrations import run_env
from ggk.hub.tables import metadata

run_env(metadata)

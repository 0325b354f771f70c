"""Alembic environment of ggk.portal (version table and connection: its Migrations)."""

from ggk.database.migrations import run_env
from ggk.portal.tables import metadata

run_env(metadata)

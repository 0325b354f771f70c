"""Alembic environment of ggk.web (version table and connection: its Migrations)."""

from ggk.database.migrations import run_env
from ggk.web.tables import metadata

run_env(metadata)

"""Alembic environment of the station (version table and connection: its Migrations)."""

from ggk.database.migrations import run_env
from ggk.station.tables import metadata

run_env(metadata)

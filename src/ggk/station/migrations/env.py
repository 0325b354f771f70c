"""Alembic environment of the station: its own version table beside the hub's."""

from __future__ import annotations

from alembic import context

from ggk.station.tables import metadata

VERSION_TABLE = "alembic_version_station"

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run station migrations through ggk.station.database.migrate()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

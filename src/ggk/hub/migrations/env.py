"""Alembic environment of the hub: its own version table, so other packages can keep theirs."""

from __future__ import annotations

from alembic import context

from ggk.hub.tables import metadata

VERSION_TABLE = "alembic_version_hub"

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run hub migrations through ggk.hub.database.migrate()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

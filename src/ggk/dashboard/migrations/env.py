"""Alembic environment of ggk.dashboard: its own version table, beside other packages' tables."""

from __future__ import annotations

from alembic import context

from ggk.dashboard.tables import metadata

VERSION_TABLE = "alembic_version_dashboard"

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run these migrations through ggk.web.database.migrate()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    # the database may hold other packages' tables: compare only our own
    include_name=lambda name, type_, _parent: type_ != "table" or name in metadata.tables,
)
with context.begin_transaction():
    context.run_migrations()

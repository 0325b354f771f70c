"""The station's Alembic migrations match its tables, on SQLite and PostgreSQL, beside the hub."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ggk.hub.database import create_engine as create_hub_engine
from ggk.hub.database import migrate as migrate_hub
from ggk.station.database import VERSION_TABLE, create_engine, head_revision, migrate
from ggk.station.tables import metadata


def test_migrations_build_exactly_the_tables_and_share_a_database_with_the_hub(
        database_url: str) -> None:
    hub = create_hub_engine(database_url)
    migrate_hub(hub)
    hub.dispose()
    engine = create_engine(database_url)
    assert migrate(engine) == (None, head_revision())
    assert migrate(engine) == (head_revision(), head_revision())  # idempotent
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        diffs = [d for d in compare_metadata(context, metadata) if "station" in repr(d)]
        tables = set(conn.dialect.get_table_names(conn))
    engine.dispose()
    assert diffs == []
    assert {"alembic_version_station", "alembic_version_hub"} <= tables

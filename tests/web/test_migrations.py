"""The Alembic migrations of ggk.web and ggk.portal create exactly the tables the code defines,
side by side in one database (own version tables), on SQLite and PostgreSQL; running them again
changes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ggk.database import create_engine
from ggk.portal import tables as portal_tables
from ggk.portal.migrations import MIGRATIONS as PORTAL
from ggk.web import tables as web_tables
from ggk.web.migrations import MIGRATIONS as WEB


def test_migrations_match_the_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        for _ in range(2):
            WEB.migrate(engine)
            PORTAL.migrate(engine)
        with engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            assert {"alembic_version_web", "alembic_version_portal"} <= names
            for metadata in (web_tables.metadata, portal_tables.metadata):
                context = MigrationContext.configure(conn, opts={
                    "include_name": lambda name, type_, _p, m=metadata:
                        type_ != "table" or name in m.tables})
                assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()

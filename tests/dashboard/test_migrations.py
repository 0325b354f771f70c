"""The Alembic migrations of ggk.dashboard and ggk.console create exactly the tables the code
defines, beside ggk.web's (own version tables), on SQLite and PostgreSQL; running them again
changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ggk.console import tables as console_tables
from ggk.console.migrations import MIGRATIONS as CONSOLE
from ggk.dashboard import tables as dashboard_tables
from ggk.dashboard.migrations import MIGRATIONS as DASHBOARD
from ggk.database import create_engine
from ggk.web.migrations import MIGRATIONS as WEB

PACKAGES = {DASHBOARD: dashboard_tables.metadata, CONSOLE: console_tables.metadata}


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_migrations_match_the_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        for _ in range(2):
            WEB.migrate(engine)
            for migrations in PACKAGES:
                migrations.migrate(engine)
        with engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            assert {"alembic_version_dashboard", "alembic_version_console",
                    "dashboard_contacts", "console_onboarding_steps"} <= names
            for metadata in PACKAGES.values():
                context = MigrationContext.configure(conn, opts={
                    "include_name": lambda name, type_, _p, m=metadata:
                        type_ != "table" or name in m.tables})
                assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()

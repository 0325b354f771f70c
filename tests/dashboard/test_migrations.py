"""The Alembic migrations of ggk.dashboard and ggk.console create exactly the tables the code
defines, beside ggk.web's (own version tables), on SQLite and PostgreSQL; running them again
changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import ggk.console
import ggk.dashboard
import ggk.web
from ggk.console import tables as console_tables
from ggk.dashboard import tables as dashboard_tables
from ggk.web.database import create_engine, migrate

FOLDERS = {Path(package.__file__).parent / "migrations": tables.metadata
           for package, tables in ((ggk.dashboard, dashboard_tables),
                                   (ggk.console, console_tables))}


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_migrations_match_the_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        for _ in range(2):
            migrate(engine, Path(ggk.web.__file__).parent / "migrations")
            for folder in FOLDERS:
                migrate(engine, folder)
        with engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            assert {"alembic_version_dashboard", "alembic_version_console",
                    "dashboard_contacts", "console_onboarding_steps"} <= names
            for metadata in FOLDERS.values():
                context = MigrationContext.configure(conn, opts={
                    "include_name": lambda name, type_, _p, m=metadata:
                        type_ != "table" or name in m.tables})
                assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()

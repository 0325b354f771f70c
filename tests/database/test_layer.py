"""ggk.database carries a package it has never heard of (as the web applications use it): its own
migrations folder and version table beside the hub's and the station's, the schema check naming
the package's own command, and moments stored as UTC on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from ggk.database import Migrations, SchemaNotCurrent, UtcDateTime, create_engine, writing
from ggk.hub.database import migrate as migrate_hub
from ggk.station.database import migrate as migrate_station

ENV = '''
from alembic import context
connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table="alembic_version_extra")
with context.begin_transaction():
    context.run_migrations()
'''
REVISION = '''
import sqlalchemy as sa
from alembic import op
revision = "e1"
down_revision = None
def upgrade():
    op.create_table("extra_notes", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("at", sa.DateTime(timezone=True), nullable=False))
'''


def extra_package(folder: Path) -> Migrations:
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(textwrap.dedent(ENV))
    (folder / "script.py.mako").write_text("")
    (folder / "versions" / "e1_extra.py").write_text(textwrap.dedent(REVISION))
    return Migrations(folder, "alembic_version_extra", component="extra",
                      migrate_command="ggk extra migrate")


def test_a_third_package_migrates_beside_hub_and_station(database_url: str,
                                                          tmp_path: Path) -> None:
    extra = extra_package(tmp_path / "migrations")
    engine = create_engine(database_url)
    try:
        with pytest.raises(SchemaNotCurrent, match="extra database .* no extra schema yet.*"
                                                   "`ggk extra migrate`"):
            extra.require_current(engine)
        migrate_hub(engine)
        migrate_station(engine)
        assert extra.migrate(engine) == (None, "e1")
        assert extra.migrate(engine) == ("e1", "e1")  # idempotent
        extra.require_current(engine)
        with engine.connect() as conn:
            tables = set(conn.dialect.get_table_names(conn))
        assert {"alembic_version_hub", "alembic_version_station", "alembic_version_extra",
                "extra_notes", "station_deliveries", "hub_party"} <= tables
    finally:
        engine.dispose()


def test_moments_are_stored_as_utc_and_read_back_aware(database_url: str) -> None:
    table = sa.Table("moments", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("at", UtcDateTime()))
    engine = create_engine(database_url)
    amsterdam = dt.datetime(2026, 8, 20, 12, tzinfo=ZoneInfo("Europe/Amsterdam"))
    try:
        table.create(engine)
        with writing(engine) as conn:
            conn.execute(table.insert(), [{"id": 1, "at": amsterdam}])
        with engine.connect() as conn:
            stored = conn.execute(sa.select(table.c.at)).scalar_one()
        assert stored == amsterdam and stored.utcoffset() == dt.timedelta(0)
        assert stored.hour == 10
        with pytest.raises(sa.exc.StatementError, match="timezone-aware"), writing(engine) as conn:
            conn.execute(table.insert(), [{"id": 2, "at": dt.datetime(2026, 8, 20, 12)}])
    finally:
        engine.dispose()

"""Alembic for one package: its own migrations folder and version table, so hub, station and the
web applications keep their tables apart in one database; and the schema check at start."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ggk.database.interfaces import SchemaNotCurrent


@dataclass(frozen=True, slots=True)
class Migrations:
    """The migrations of one package.

    `directory` is the Alembic script location; its env.py is `run_env(metadata)`, which takes
    the connection and `version_table` from the Config that `migrate` hands Alembic. `component` and
    `migrate_command` word the SchemaNotCurrent message ("the hub database ... run `ggk hub
    migrate`")."""

    directory: Path
    version_table: str
    component: str
    migrate_command: str

    @property
    def advisory_lock(self) -> int:
        """PostgreSQL advisory lock key: several processes starting at once, one migrates."""
        return zlib.crc32(self.version_table.encode()) & 0x7FFFFFFF

    def config(self, connection: sa.Connection | None = None) -> Any:
        """The Alembic Config (for `alembic.command`), bound to `connection`; `run_env` in the
        package's env.py reads both from it."""
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(self.directory))
        config.attributes["connection"] = connection
        config.attributes["version_table"] = self.version_table
        return config

    def head_revision(self) -> str:
        """The newest revision in the migrations folder."""
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self.config()).get_current_head()
        if head is None:
            raise RuntimeError(f"{self.directory} holds no migration")
        return head

    def current_revision(self, engine_or_connection: sa.Engine | sa.Connection) -> str | None:
        """The revision the database is at (None: the package's tables do not exist yet)."""
        from alembic.runtime.migration import MigrationContext

        if isinstance(engine_or_connection, sa.Engine):
            with engine_or_connection.connect() as conn:
                return self.current_revision(conn)
        return MigrationContext.configure(
            engine_or_connection, opts={"version_table": self.version_table},
        ).get_current_revision()

    def migrate(self, engine: sa.Engine) -> tuple[str | None, str]:
        """Bring the package's tables to head (idempotent); returns (before, after)."""
        from alembic import command

        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                             {"key": self.advisory_lock})
            before = self.current_revision(conn)
            command.upgrade(self.config(conn), "head")
        return before, self.head_revision()

    def require_current(self, engine: sa.Engine) -> None:
        """Raise SchemaNotCurrent (naming the command to run) unless the schema is at head."""
        current, head = self.current_revision(engine), self.head_revision()
        if current == head:
            return
        where = engine.url.render_as_string(hide_password=True)
        state = (f"has no {self.component} schema yet" if current is None
                 else f"is at revision {current}, this ggk needs {head}")
        raise SchemaNotCurrent(
            f"the {self.component} database {where} {state}; run `{self.migrate_command}` with "
            "the same --data-dir/--database-url first")


def run_env(metadata: sa.MetaData) -> None:
    """The whole Alembic env.py of a package: `run_env(<package>.tables.metadata)`.

    Runs on the connection and version table `Migrations.migrate` put in the Config, batch mode on
    SQLite (ALTER TABLE), and compares only the package's own tables: the database may hold other
    packages' tables beside them."""
    from alembic import context

    connection = context.config.attributes.get("connection")
    version_table = context.config.attributes.get("version_table")
    if connection is None or version_table is None:
        raise RuntimeError(
            "run these migrations through ggk.database.Migrations.migrate() (the package's "
            "`ggk ... migrate` command), not the alembic command line")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=lambda name, type_, _parent: type_ != "table" or name in metadata.tables,
    )
    with context.begin_transaction():
        context.run_migrations()

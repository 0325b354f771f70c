"""Engine creation (SQLite or PostgreSQL), the write transaction and the UTC column type."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import overload

import sqlalchemy as sa
from sqlalchemy import event

WRITE_OPTION = "ggk_write"


def private_database_file(path: Path) -> None:
    """The SQLite file owner-only (0600) before SQLite opens it; SQLite gives its -wal and -shm
    files the same mode. A directory created for it is 0700."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def create_engine(url: str, *, lock_every_transaction: bool = False, pool_size: int = 10,
                  max_overflow: int = 20) -> sa.Engine:
    """An engine that is safe for several threads (and, on PostgreSQL, several processes).

    SQLite: the file owner-only (0600), WAL, foreign keys, a generous busy timeout and `BEGIN
    IMMEDIATE` for a write transaction (`writing(engine)`, or every transaction with
    `lock_every_transaction`), so that writers queue instead of failing on a lock upgrade; plain
    reads stay concurrent under WAL.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                                pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        private_database_file(Path(parsed.database))
    engine = sa.create_engine(url, connect_args={"timeout": 60, "check_same_thread": False},
                              pool_size=pool_size, max_overflow=max_overflow)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       "busy_timeout=60000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        write = conn.get_execution_options().get(WRITE_OPTION, lock_every_transaction)
        # straight to the driver: this runs for every transaction, and SQLAlchemy's statement
        # machinery costs ten times what SQLite needs for a BEGIN
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@contextlib.contextmanager
def writing(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A write transaction. On SQLite it takes the write lock at once (BEGIN IMMEDIATE), so that
    concurrent writers wait for each other (busy timeout) instead of failing on a lock upgrade."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


@overload
def as_utc(value: dt.datetime) -> dt.datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """An aware UTC datetime (SQLite hands back naive ones, which were stored as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class UtcDateTime(sa.TypeDecorator[dt.datetime]):
    """A moment stored as UTC and read back as an aware UTC datetime, on SQLite and PostgreSQL.

    SQLite has no time zone type: a plain DateTime writes an aware value's wall-clock digits and
    drops the offset; converting to UTC before binding makes both databases hold the same moment."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None,
                           dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"only timezone-aware moments are stored, got {value!r}")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None,
                             dialect: sa.Dialect) -> dt.datetime | None:
        return as_utc(value)

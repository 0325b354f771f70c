"""Hot statements straight on the SQLite driver connection (the embedded hub's send path).

SQLAlchemy's execution path costs ~40 us per statement on the benchmark VM, SQLite itself ~4 us;
a send runs six statements (measured: hub ~2.0 -> ~1.5 ms CPU per small message). The statements
stay SQLAlchemy Core objects, compiled once for the SQLite dialect, and their parameters go
through SQLAlchemy's own bind processors, so what is stored is exactly what SQLAlchemy would
store. Only for SQLite: PostgreSQL keeps SQLAlchemy's path (network round trips dominate there),
and the tests run both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa


class Direct:
    """One Core statement, compiled for `dialect` (qmark parameters), run on the DBAPI connection
    of an SQLAlchemy connection (inside its transaction)."""

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        self.sql: str = compiled.string
        names = compiled.positiontup or ()
        binds = compiled.binds
        by_key = {bind.key: bind for bind in binds.values()}
        self._order: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        for name in names:
            bind = binds[name] if name in binds else by_key[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            self._order.append((bind.key, bind.value, processor))

    def _values(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        values = []
        for key, default, processor in self._order:
            value = params.get(key, default)
            values.append(processor(value) if processor is not None and value is not None
                          else value)
        return tuple(values)

    def execute(self, conn: sa.Connection, params: Mapping[str, Any] | None = None) -> Any:
        """Returns the DBAPI cursor (fetchone/fetchall for SELECT and RETURNING)."""
        return conn.connection.driver_connection.execute(  # type: ignore[union-attr]
            self.sql, self._values(params or {}))

    def executemany(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        conn.connection.driver_connection.executemany(  # type: ignore[union-attr]
            self.sql, [self._values(row) for row in rows])


def result_processor(type_: sa.types.TypeEngine[Any], dialect: sa.Dialect
                     ) -> Callable[[Any], Any]:
    """SQLAlchemy's conversion of a raw column value of `type_` (e.g. SQLite's datetime text)."""
    processor = type_.dialect_impl(dialect).result_processor(dialect, None)
    return processor if processor is not None else (lambda value: value)

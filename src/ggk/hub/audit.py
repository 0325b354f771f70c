"""The append-only audit log: every hop and state change (who, what, when, message, detail).

Rows are only ever inserted, inside the same transaction as the change they describe; database
triggers refuse UPDATE and DELETE (see the initial migration).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from ggk.hub.database import as_utc, utcnow
from ggk.hub.interfaces import AuditEntry
from ggk.hub.tables import audit_log

_INSERT = audit_log.insert()  # built once; parameters are passed per call


def entry(*, actor: str, action: str, message_id: str | None,
          detail: dict[str, Any] | None = None, at: dt.datetime | None = None) -> dict[str, Any]:
    """One audit row's values, for `record_many`."""
    return {"at": at or utcnow(), "actor": actor, "action": action, "message_id": message_id,
            "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")) if detail
            else "{}"}


def record(conn: sa.Connection, *, actor: str, action: str, message_id: str | None,
           detail: dict[str, Any] | None = None) -> None:
    conn.execute(_INSERT, entry(actor=actor, action=action, message_id=message_id, detail=detail))


def record_many(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Insert several `entry()` rows with one statement (executemany)."""
    if rows:
        conn.execute(_INSERT, rows)


def entries(conn: sa.Connection, message_id: str | None = None, limit: int | None = None
            ) -> list[AuditEntry]:
    query = sa.select(audit_log).order_by(audit_log.c.id)
    if message_id is not None:
        query = query.where(audit_log.c.message_id == message_id)
    if limit is not None:
        query = query.limit(limit)
    return [
        AuditEntry(id=row.id, at=as_utc(row.at), actor=row.actor, action=row.action,  # type: ignore[arg-type]
                   message_id=row.message_id, detail=json.loads(row.detail))
        for row in conn.execute(query)
    ]

"""The audit trail of a web application: who (person, and namens which gemeente) did what."""

from __future__ import annotations

import sqlalchemy as sa

from ggk.clock import utcnow
from ggk.database import as_utc
from ggk.web import tables as t
from ggk.web.interfaces import AuditEntry, User


class AuditTrail:
    """`ggk.web.interfaces.AuditLog` on the web_audit table (append only)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def record(self, user: User | None, action: str, detail: str, *,
               organisation: str | None = None, address: str | None = None,
               email: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(t.audit).values(
                at=utcnow(), account_id=user.id if user else None,
                email=user.email if user else (email or "-"), organisation=organisation,
                action=action, detail=detail[:4000], address=address))

    def entries(self, *, organisation: str | None = None, limit: int = 200) -> list[AuditEntry]:
        query = sa.select(t.audit).order_by(t.audit.c.id.desc()).limit(limit)
        if organisation is not None:
            query = query.where(t.audit.c.organisation == organisation)
        with self.engine.connect() as conn:
            return [AuditEntry(as_utc(r.at), r.account_id, r.email, r.organisation, r.action,
                               r.detail, r.address) for r in conn.execute(query)]

"""`ggk.hub.interfaces.ChannelWatch` over the hub's database: channel health per party, recent
messages and the audit trail of one message, for the hub operator's console."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ggk.hub import audit
from ggk.hub.database import as_utc, utcnow
from ggk.hub.interfaces import INBOX_STATES, AuditEntry, MessageSummary, PartyHealth
from ggk.hub.tables import audit_log, messages, parties

_SUMMARY = (messages.c.id, messages.c.sender, messages.c.receiver, messages.c.type,
            messages.c.state, messages.c.refusal_reason, messages.c.created_at,
            messages.c.acknowledged_at, messages.c.expires_at)


def _summary(row: sa.Row) -> MessageSummary:
    return MessageSummary(row.id, row.sender, row.receiver, row.type, row.state,
                          row.refusal_reason, as_utc(row.created_at),  # type: ignore[arg-type]
                          as_utc(row.acknowledged_at), as_utc(row.expires_at))  # type: ignore[arg-type]


class HubChannelWatch:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def health(self, now: dt.datetime | None = None) -> list[PartyHealth]:
        now = now or utcnow()
        m = messages
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(parties).order_by(parties.c.role, parties.c.oin)).all()
            waiting = {r.receiver: (r.n, as_utc(r.oldest)) for r in conn.execute(
                sa.select(m.c.receiver, sa.func.count().label("n"),
                          sa.func.min(m.c.available_at).label("oldest"))
                .where(m.c.state.in_(INBOX_STATES)).group_by(m.c.receiver))}
            expired = dict(conn.execute(sa.select(m.c.receiver, sa.func.count()).where(
                m.c.state == "expired").group_by(m.c.receiver)).all())
            refused = dict(conn.execute(sa.select(m.c.sender, sa.func.count()).where(
                m.c.state == "refused").group_by(m.c.sender)).all())
            seen = {actor: as_utc(at) for actor, at in conn.execute(
                sa.select(audit_log.c.actor, sa.func.max(audit_log.c.at))
                .group_by(audit_log.c.actor))}
        result = []
        for p in rows:
            count, oldest = waiting.get(p.oin, (0, None))
            result.append(PartyHealth(
                p.oin, p.name, p.role, p.gemeentecode, bool(p.active), seen.get(p.oin),
                int(count), (now - oldest).total_seconds() if oldest else None,
                int(expired.get(p.oin, 0)), int(refused.get(p.oin, 0)),
                as_utc(p.cert_not_after)))
        return result

    def recent(self, limit: int = 50, party: str | None = None) -> list[MessageSummary]:
        query = sa.select(*_SUMMARY).order_by(messages.c.created_at.desc()).limit(limit)
        if party:
            query = query.where(sa.or_(messages.c.sender == party, messages.c.receiver == party))
        with self.engine.connect() as conn:
            return [_summary(r) for r in conn.execute(query)]

    def messages(self, message_id: str) -> list[MessageSummary]:
        with self.engine.connect() as conn:
            return [_summary(r) for r in conn.execute(
                sa.select(*_SUMMARY).where(messages.c.id == message_id))]

    def trail(self, message_id: str) -> list[AuditEntry]:
        with self.engine.connect() as conn:
            return audit.entries(conn, message_id)

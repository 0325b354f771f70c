"""Server-side sessions: the cookie carries a random 256-bit id, the database keeps its sha256.

A session gets a new id and a new CSRF token on every change of who is logged in (login, TOTP
step, logout), so an id planted before login (session fixation) is worth nothing afterwards; an id
the server did not issue is never adopted. Sessions end after `idle` without requests and after
`absolute` in any case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ggk.clock import utcnow
from ggk.database import as_utc
from ggk.web import tables as t

COOKIE_NAME = "__Host-ggk-sessie"  # __Host-: Secure, Path=/, no Domain, enforced by browsers


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class WebSession:
    cookie: str
    csrf_token: str
    account_id: int | None = None
    pending_account_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    new: bool = False  # the cookie must be (re)sent
    ended: bool = False  # the cookie must be cleared


class SessionStore:
    def __init__(self, engine: sa.Engine, *, idle: dt.timedelta = dt.timedelta(minutes=30),
                 absolute: dt.timedelta = dt.timedelta(hours=10)) -> None:
        self.engine = engine
        self.idle = idle
        self.absolute = absolute

    def start(self, *, account_id: int | None = None, pending_account_id: int | None = None,
              data: dict[str, Any] | None = None) -> WebSession:
        session = WebSession(secrets.token_urlsafe(32), secrets.token_urlsafe(32), account_id,
                             pending_account_id, dict(data or {}), new=True)
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(sa.insert(t.sessions).values(
                id_hash=_hash(session.cookie), account_id=account_id,
                pending_account_id=pending_account_id, csrf_token=session.csrf_token,
                data=session.data, created_at=now, last_seen_at=now))
        return session

    def load(self, cookie: str | None) -> WebSession | None:
        """The live session of this cookie (and marks it seen); None when unknown or expired."""
        if not cookie or len(cookie) > 200:
            return None
        now = utcnow()
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t.sessions).where(
                t.sessions.c.id_hash == _hash(cookie))).first()
            if row is None:
                return None
            if (now - as_utc(row.last_seen_at) > self.idle
                    or now - as_utc(row.created_at) > self.absolute):
                conn.execute(sa.delete(t.sessions).where(t.sessions.c.id_hash == row.id_hash))
                return None
            if now - as_utc(row.last_seen_at) > dt.timedelta(seconds=30):
                conn.execute(sa.update(t.sessions).where(t.sessions.c.id_hash == row.id_hash)
                             .values(last_seen_at=now))
        return WebSession(cookie, row.csrf_token, row.account_id, row.pending_account_id,
                          dict(row.data or {}))

    def save_data(self, session: WebSession) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.sessions).where(
                t.sessions.c.id_hash == _hash(session.cookie)).values(data=session.data))

    def rotate(self, session: WebSession, *, account_id: int | None,
               pending_account_id: int | None = None) -> WebSession:
        """End `session` and start a fresh one (new id, new CSRF token) for this account."""
        self.end(session)
        data = {k: v for k, v in session.data.items() if k == "next"}
        return self.start(account_id=account_id, pending_account_id=pending_account_id,
                          data=data)

    def end(self, session: WebSession) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t.sessions).where(
                t.sessions.c.id_hash == _hash(session.cookie)))
        session.ended = True

    def end_all_for(self, account_id: int, *, keep: WebSession | None = None) -> int:
        """End every session of this account (but `keep`); returns how many ended."""
        query = sa.delete(t.sessions).where(t.sessions.c.account_id == account_id)
        if keep is not None:
            query = query.where(t.sessions.c.id_hash != _hash(keep.cookie))
        with self.engine.begin() as conn:
            return int(conn.execute(query).rowcount or 0)

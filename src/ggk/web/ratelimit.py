"""Rate-limited login: failed attempts are counted per account and per client address in a
sliding window; past the limit every attempt is refused (even a correct one) until it slides."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ggk.clock import utcnow
from ggk.web import tables as t
from ggk.web.interfaces import TooManyAttempts


class LoginLimiter:
    def __init__(self, engine: sa.Engine, *, per_account: int = 5, per_address: int = 30,
                 window: dt.timedelta = dt.timedelta(minutes=15)) -> None:
        self.engine = engine
        self.per_account = per_account
        self.per_address = per_address
        self.window = window

    def _keys(self, email: str, address: str | None) -> list[tuple[str, int]]:
        keys = [(f"email:{email.strip().lower()}", self.per_account)]
        if address:
            keys.append((f"addr:{address}", self.per_address))
        return keys

    def check(self, email: str, address: str | None) -> None:
        """TooManyAttempts when this account or address failed too often recently."""
        since = utcnow() - self.window
        with self.engine.connect() as conn:
            for key, limit in self._keys(email, address):
                count = conn.execute(sa.select(sa.func.count()).select_from(t.login_attempts)
                                     .where(t.login_attempts.c.key == key,
                                            t.login_attempts.c.at > since)).scalar_one()
                if count >= limit:
                    minutes = int(self.window.total_seconds() // 60)
                    raise TooManyAttempts(
                        "Te veel mislukte inlogpogingen. Probeer het over "
                        f"{minutes} minuten opnieuw, of neem contact op met de beheerder.")

    def failed(self, email: str, address: str | None) -> None:
        with self.engine.begin() as conn:
            now = utcnow()
            conn.execute(sa.delete(t.login_attempts).where(
                t.login_attempts.c.at < now - self.window))
            for key, _limit in self._keys(email, address):
                conn.execute(sa.insert(t.login_attempts).values(key=key, at=now))

    def succeeded(self, email: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t.login_attempts).where(
                t.login_attempts.c.key == f"email:{email.strip().lower()}"))

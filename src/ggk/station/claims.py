"""Claims: which station instance works on a message (or a mirror report) now.

A station inserts a row in `station_claims` before working on a message; the primary key makes
sure that two stations on one database never work on the same message at the same time. A claim
whose lease ran out (its station died) may be taken over by compare-and-set on (worker,
claimed_at). Every claim rule lives in this module.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ggk.station import tables as t
from ggk.station.database import as_utc


def claim(conn: sa.Connection, message_id: str, worker: str, now: dt.datetime,
          lease: dt.timedelta) -> bool:
    """True when this worker may work on the message now (new claim, own claim, or expired one)."""
    row = conn.execute(sa.select(t.claims).where(t.claims.c.message_id == message_id)
                       ).mappings().first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(t.claims).values(
                    message_id=message_id, worker=worker, claimed_at=now, lease_until=now + lease,
                    done=False))
        except sa.exc.IntegrityError:
            return False
        return True
    if row["worker"] == worker:
        return True
    if row["done"] or as_utc(row["lease_until"]) > now:  # type: ignore[operator]
        return False
    taken = conn.execute(sa.update(t.claims).where(
        t.claims.c.message_id == message_id, t.claims.c.worker == row["worker"],
        t.claims.c.claimed_at == row["claimed_at"]).values(
            worker=worker, claimed_at=now, lease_until=now + lease))
    return taken.rowcount == 1


def finish_claim(conn: sa.Connection, message_id: str) -> None:
    """The work is done: nobody claims this id again."""
    conn.execute(sa.update(t.claims).where(t.claims.c.message_id == message_id).values(done=True))

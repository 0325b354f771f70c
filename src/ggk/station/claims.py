"""Station claims with a heartbeat and fencing (several stations on one database).

A station claims a message before working on it (`records.claim`: a row in `station_claims`;
an expired claim of a dead station may be taken over by compare-and-set). A claim's
`claimed_at` is its fencing token: a takeover writes a new one. While a station works, a
heartbeat thread renews its lease (`Heartbeat`), so a delivery that takes longer than the lease
is not taken over. Should it be taken over anyway (the station stalled longer than the lease),
the old holder's decision is refused at commit: the decision's transaction first locks the
claim row and checks the token (`still_mine`), so it records its decision only while the claim
is still its own; on PostgreSQL the row lock makes a takeover wait until that transaction ends.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

import sqlalchemy as sa

from ggk.station import records
from ggk.station import tables as t

log = logging.getLogger("ggk.station.claims")


class ClaimLost(RuntimeError):
    """Another station took this claim over: this station must not record its decision."""


@dataclass(frozen=True, slots=True)
class Claim:
    message_id: str
    worker: str
    claimed_at: dt.datetime  # the fencing token, exactly as stored


def take(conn: sa.Connection, message_id: str, worker: str, now: dt.datetime,
         lease: dt.timedelta) -> Claim | None:
    """Claim the message (new, own or expired claim) and return it with its token; None when
    another station holds it."""
    if not records.claim(conn, message_id, worker, now, lease):
        return None
    row = conn.execute(sa.select(t.claims.c.worker, t.claims.c.claimed_at)
                       .where(t.claims.c.message_id == message_id)).one()
    return Claim(message_id, row.worker, row.claimed_at)


def _mine(claim: Claim) -> sa.ColumnElement[bool]:
    return sa.and_(t.claims.c.message_id == claim.message_id, t.claims.c.worker == claim.worker,
                   t.claims.c.claimed_at == claim.claimed_at)


def still_mine(conn: sa.Connection, claim: Claim) -> bool:
    """Inside the transaction that records a decision: lock the claim row (FOR UPDATE on
    PostgreSQL; SQLite writers are serialised anyway) and check that it still carries this
    station's token."""
    row = conn.execute(sa.select(t.claims.c.message_id).where(_mine(claim))
                       .with_for_update()).first()
    return row is not None


def ensure_mine(conn: sa.Connection, claim: Claim) -> None:
    """`still_mine` or ClaimLost (the transaction is then rolled back by the caller)."""
    if not still_mine(conn, claim):
        raise ClaimLost(f"message {claim.message_id}: another station took the claim over; "
                        "its decision counts, this one is dropped")


def renew(engine: sa.Engine, claim: Claim, lease: dt.timedelta) -> bool:
    """Extend the lease from now; False when the claim is no longer this station's."""
    with engine.begin() as conn:
        done = conn.execute(sa.update(t.claims).where(_mine(claim)).values(
            lease_until=dt.datetime.now(dt.UTC) + lease))
        return done.rowcount == 1


class Heartbeat:
    """Renews a claim's lease every third of the lease while the work goes on (a thread);
    `lost` is set once a renewal finds the claim taken over."""

    def __init__(self, engine: sa.Engine, claim: Claim, lease: dt.timedelta) -> None:
        self.engine, self.claim, self.lease = engine, claim, lease
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"ggk-claim-{claim.message_id[:8]}")

    def _run(self) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.05)
        while not self._stop.wait(interval):
            try:
                if not renew(self.engine, self.claim, self.lease):
                    self.lost.set()
                    return
            except sa.exc.SQLAlchemyError:  # the next beat tries again; the lease still runs
                log.warning("could not renew the claim of %s", self.claim.message_id,
                            exc_info=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

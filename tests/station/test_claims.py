"""Claims with a heartbeat and fencing, on SQLite and PostgreSQL: a claim kept alive beyond its
lease is not taken over; a claim taken over refuses the old holder's decision."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import sqlalchemy as sa

from ggk.station import claims
from ggk.station.database import create_engine, migrate

LEASE = dt.timedelta(seconds=0.6)


@pytest.fixture
def engine(database_url: str) -> sa.Engine:
    engine = create_engine(database_url)
    migrate(engine)
    return engine


def _take(engine: sa.Engine, worker: str) -> claims.Claim | None:
    with engine.begin() as conn:
        return claims.take(conn, "m1", worker, dt.datetime.now(dt.UTC), LEASE)


def test_a_heartbeat_keeps_a_claim_beyond_its_lease(engine: sa.Engine) -> None:
    mine = _take(engine, "station-a")
    assert mine is not None
    with claims.Heartbeat(engine, mine, LEASE) as heartbeat:
        time.sleep(LEASE.total_seconds() * 3)  # three leases: renewed meanwhile
        assert _take(engine, "station-b") is None
        assert not heartbeat.lost.is_set()
    with engine.begin() as conn:
        assert claims.still_mine(conn, mine)


def test_a_claim_taken_over_refuses_the_old_holders_decision(engine: sa.Engine) -> None:
    stalled = _take(engine, "station-a")
    assert stalled is not None
    time.sleep(LEASE.total_seconds() * 1.5)  # no heartbeat: the lease runs out
    taker = _take(engine, "station-b")
    assert taker is not None and taker.claimed_at != stalled.claimed_at
    with engine.begin() as conn, pytest.raises(claims.ClaimLost):
        claims.ensure_mine(conn, stalled)
    with engine.begin() as conn:
        claims.ensure_mine(conn, taker)
    assert not claims.renew(engine, stalled, LEASE)  # its heartbeat would notice too
    engine.dispose()

"""Claims with a heartbeat and fencing, on SQLite and PostgreSQL: a claim kept alive beyond its
lease is not taken over; a claim taken over refuses the old holder's decision."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ggk.station.claims import ClaimBook, ClaimLost, renew
from ggk.station.database import create_engine, migrate

LEASE_SECONDS = 0.6


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _book(engine: sa.Engine, tmp_path: Path, worker: str, host: str) -> ClaimBook:
    # instances on different hosts (folders): only the lease rule applies between them
    book = ClaimBook(engine, worker, LEASE_SECONDS, tmp_path / host)
    book.start()
    return book


def test_a_heartbeat_keeps_a_claim_beyond_its_lease(engine: sa.Engine, tmp_path: Path) -> None:
    a, b = _book(engine, tmp_path, "a", "host-a"), _book(engine, tmp_path, "b", "host-b")
    with engine.begin() as conn:
        mine = a.take(conn, "m1")
    assert mine is not None
    with a.holding(mine) as heartbeat:
        time.sleep(LEASE_SECONDS * 3)  # three leases: renewed meanwhile
        with engine.begin() as conn:
            assert b.take(conn, "m1") is None
            a.ensure_held(conn, "m1")
        assert not heartbeat.lost.is_set()
    a.close()
    b.close()


def test_a_claim_taken_over_refuses_the_old_holders_decision(engine: sa.Engine,
                                                             tmp_path: Path) -> None:
    a, b = _book(engine, tmp_path, "a", "host-a"), _book(engine, tmp_path, "b", "host-b")
    with engine.begin() as conn:
        stalled = a.take(conn, "m2")
    assert stalled is not None
    time.sleep(LEASE_SECONDS * 1.5)  # a stalls before its heartbeat ran: the lease runs out
    with engine.begin() as conn:
        taker = b.take(conn, "m2")
    assert taker is not None and taker.claimed_at != stalled.claimed_at
    with a.holding(stalled):  # a wakes up and records its decision: refused
        with engine.begin() as conn, pytest.raises(ClaimLost):
            a.ensure_held(conn, "m2")
    with b.holding(taker), engine.begin() as conn:
        b.ensure_held(conn, "m2")
    assert not renew(engine, stalled, b.lease)
    a.close()
    b.close()

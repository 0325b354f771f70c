"""Claims: which station instance works on a message (or a mirror report) now.

A station inserts a row in `station_claims` before working on a message; the primary key makes
sure that two stations on one database never work on the same message at the same time. A claim
whose lease ran out (its station died) may be taken over by compare-and-set on (worker,
claimed_at). Every claim rule lives in this module.

A restarted station does not wait out the leases of its own previous run:
- on a clean stop (`ClaimBook.close`) an instance gives its unfinished claims up;
- every running instance holds an exclusive `flock` on its own file
  `<store>/instances/<host>/<instance>.lock`. At start an instance looks at the files of its
  host: one it can lock belongs to an instance that is gone (a kill, a crash), whose unfinished
  claims it gives up at once. Instances on other hosts keep the lease rule.

Heartbeat and fencing (several stations on one database): a claim's `claimed_at` is its fencing
token, a takeover writes a new one. While a station works on a message, a heartbeat thread
renews the lease every third of it (`Heartbeat`), so a delivery that takes longer than the lease
is not taken over. Should it be taken over anyway (the station stalled longer than the lease),
the old holder's decision is refused at commit: the transaction that records a decision first
locks the claim row and checks the token (`ClaimBook.ensure_held`, called by the Recorder), so
a decision is recorded only while the claim is still this station's; on PostgreSQL the row lock
makes a takeover wait until that transaction has ended.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import sqlalchemy as sa

from ggk.station import tables as t
from ggk.station.database import as_utc

log = logging.getLogger("ggk.station")


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


def release_claims(conn: sa.Connection, worker: str, now: dt.datetime) -> int:
    """Let every unfinished claim of `worker` expire now (another instance may take it)."""
    return conn.execute(sa.update(t.claims).where(
        t.claims.c.worker == worker, t.claims.c.done.is_(False)).values(
            lease_until=now)).rowcount


class ClaimLost(RuntimeError):
    """Another station took this claim over: this station must not record its decision."""


@dataclass(frozen=True, slots=True)
class Claim:
    claim_id: str
    worker: str
    claimed_at: dt.datetime  # the fencing token, exactly as stored


def _current(claim: Claim) -> sa.ColumnElement[bool]:
    return sa.and_(t.claims.c.message_id == claim.claim_id, t.claims.c.worker == claim.worker,
                   t.claims.c.claimed_at == claim.claimed_at)


def still_held(conn: sa.Connection, claim: Claim) -> bool:
    """Inside the transaction that records a decision: lock the claim row (FOR UPDATE on
    PostgreSQL; SQLite writers are serialised anyway) and check that it carries `claim`'s
    token."""
    return conn.execute(sa.select(t.claims.c.message_id).where(_current(claim))
                        .with_for_update()).first() is not None


def renew(engine: sa.Engine, claim: Claim, lease: dt.timedelta) -> bool:
    """Extend the lease from now; False when the claim is no longer this station's."""
    with engine.begin() as conn:
        return conn.execute(sa.update(t.claims).where(_current(claim)).values(
            lease_until=dt.datetime.now(dt.UTC) + lease)).rowcount == 1


class Heartbeat:
    """Renews a claim's lease every third of the lease while the work goes on (a thread);
    `lost` is set once a renewal finds the claim taken over."""

    def __init__(self, engine: sa.Engine, claim: Claim, lease: dt.timedelta) -> None:
        self.engine, self.claim, self.lease = engine, claim, lease
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"ggk-claim-{claim.claim_id[:8]}")

    def _run(self) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.05)
        while not self._stop.wait(interval):
            try:
                if not renew(self.engine, self.claim, self.lease):
                    self.lost.set()
                    return
            except sa.exc.SQLAlchemyError:  # the next beat tries again; the lease still runs
                log.warning("could not renew the claim of %s", self.claim.claim_id,
                            exc_info=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text) or "_"


class ClaimBook:
    """The claims of one station instance (`worker`, unique per run)."""

    def __init__(self, engine: sa.Engine, worker: str, lease_seconds: float,
                 instances_dir: Path) -> None:
        self.engine = engine
        self.worker = worker
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.directory = Path(instances_dir) / _safe(socket.gethostname())
        self._lock: IO[str] | None = None
        self._path: Path | None = None
        self._held: dict[str, Claim] = {}  # claims being worked on under a heartbeat
        self._held_guard = threading.Lock()

    def start(self) -> int:
        """Give up the claims of this host's instances that are gone, then mark this one as
        running. Returns the number of claims given up."""
        self.directory.mkdir(parents=True, exist_ok=True)
        released = 0
        for path in sorted(self.directory.glob("*.lock")):
            released += self._release_if_gone(path)
        path = self.directory / f"{_safe(self.worker)}.lock"
        partial = path.with_name(f".{path.name}.partial")  # locked and written before it shows
        lock = open(partial, "w", encoding="utf-8")  # noqa: SIM115 (held until close)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write(self.worker)
        lock.flush()
        os.replace(partial, path)
        self._lock = lock
        self._path = path
        return released

    def _release_if_gone(self, path: Path) -> int:
        try:
            handle = open(path, "r+", encoding="utf-8")  # noqa: SIM115
        except FileNotFoundError:  # another instance cleaned it up just now
            return 0
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0  # that instance is running
            worker = handle.read().strip()
            released = 0
            if worker:
                with self.engine.begin() as conn:
                    released = release_claims(conn, worker, dt.datetime.now(dt.UTC))
                if released:
                    log.info("gave up %d claims of stopped instance %s", released, worker)
            path.unlink(missing_ok=True)
            return released

    def claim(self, conn: sa.Connection, claim_id: str) -> bool:
        """True when this instance may work on `claim_id` now (real time, also under a simulated
        clock)."""
        return claim(conn, claim_id, self.worker, dt.datetime.now(dt.UTC), self.lease)

    def take(self, conn: sa.Connection, claim_id: str) -> Claim | None:
        """`claim`, returning the claim with its fencing token; None when another has it."""
        if not self.claim(conn, claim_id):
            return None
        row = conn.execute(sa.select(t.claims.c.worker, t.claims.c.claimed_at)
                           .where(t.claims.c.message_id == claim_id)).one()
        return Claim(claim_id, row.worker, row.claimed_at)

    @contextmanager
    def holding(self, claim: Claim) -> Iterator[Heartbeat]:
        """While the work on `claim` goes on: its lease is renewed, and `ensure_held` fences
        decisions recorded for its id."""
        with self._held_guard:
            self._held[claim.claim_id] = claim
        try:
            with Heartbeat(self.engine, claim, self.lease) as heartbeat:
                yield heartbeat
        finally:
            with self._held_guard:
                self._held.pop(claim.claim_id, None)

    def ensure_held(self, conn: sa.Connection, claim_id: str) -> None:
        """In the transaction that records a decision about `claim_id`: raise ClaimLost (and
        so roll the decision back) when the claim being worked on was taken over meanwhile.
        Nothing to check for an id not held under `holding`."""
        with self._held_guard:
            claim = self._held.get(claim_id)
        if claim is not None and not still_held(conn, claim):
            raise ClaimLost(f"{claim_id}: another station took the claim over; its decision "
                            "counts, this one is dropped")

    def finish(self, conn: sa.Connection, claim_id: str) -> None:
        finish_claim(conn, claim_id)

    def close(self) -> None:
        """A clean stop: give up the unfinished claims, so a restart (or another station) takes
        them over at once."""
        if self._lock is None:
            return
        with self.engine.begin() as conn:
            release_claims(conn, self.worker, dt.datetime.now(dt.UTC))
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        self._lock.close()
        self._lock = None

"""Per-message failure bookkeeping: one bad message never stops the station's queue.

A message whose handling raises is tried again after a back-off (`retry_seconds`, doubling per
attempt, at most an hour); after `max_attempts` it becomes a dead letter: no longer tried, listed
by `ggk station status`, released by `ggk station retry`. The bookkeeping is in the database, so
it holds across restarts and for every station on it. Times are real (UTC), as for claims.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import sqlalchemy as sa

from ggk.client.interfaces import Message
from ggk.station import tables as t
from ggk.station.database import as_utc
from ggk.station.masking import masked

log = logging.getLogger("ggk.station")

MAX_BACKOFF = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Failure:
    message_id: str
    type: str
    sender: str
    attempts: int
    first_failed_at: dt.datetime
    last_failed_at: dt.datetime
    next_attempt_at: dt.datetime
    last_error: str
    dead_at: dt.datetime | None

    @property
    def dead(self) -> bool:
        return self.dead_at is not None

    def waits(self, now: dt.datetime) -> bool:
        """True when the message is not to be tried at `now` (dead, or backing off)."""
        return self.dead or self.next_attempt_at > now


def _failure(row: sa.RowMapping) -> Failure:
    values = dict(row)
    for name in ("first_failed_at", "last_failed_at", "next_attempt_at", "dead_at"):
        values[name] = as_utc(values[name])
    return Failure(**values)


class FailureBook:
    def __init__(self, engine: sa.Engine, max_attempts: int, retry_seconds: float) -> None:
        self.engine = engine
        self.max_attempts = max_attempts
        self.retry_seconds = retry_seconds

    def of(self, message_ids: list[str]) -> dict[str, Failure]:
        """The failures recorded for these messages (one query for a page)."""
        if not message_ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.failures).where(
                t.failures.c.message_id.in_(message_ids))).mappings().all()
        return {row["message_id"]: _failure(row) for row in rows}

    def failed(self, message: Message, error: BaseException, now: dt.datetime) -> Failure:
        """Count one more failed attempt; a dead letter after `max_attempts`."""
        text = masked(f"{type(error).__name__}: {error}")[:600]
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t.failures).where(
                t.failures.c.message_id == message.id)).mappings().first()
            attempts = (row["attempts"] if row else 0) + 1
            backoff = min(dt.timedelta(seconds=self.retry_seconds * 2 ** (attempts - 1)),
                          MAX_BACKOFF)
            values = {"attempts": attempts, "last_failed_at": now, "last_error": text,
                      "next_attempt_at": now + backoff,
                      "dead_at": now if attempts >= self.max_attempts else None}
            if row is None:
                conn.execute(sa.insert(t.failures).values(
                    message_id=message.id, type=message.type[:64], sender=message.sender[:20],
                    first_failed_at=now, **values))
            else:
                conn.execute(sa.update(t.failures).where(
                    t.failures.c.message_id == message.id).values(**values))
        failure = self.of([message.id])[message.id]
        if failure.dead:
            log.error("message %s (%s from %s) is a dead letter after %d attempts: %s",
                      message.id, message.type, message.sender, attempts, text)
        else:
            log.error("message %s (%s) failed (attempt %d of %d, next in %.0f s): %s",
                      message.id, message.type, attempts, self.max_attempts,
                      backoff.total_seconds(), text)
        return failure

    def succeeded(self, message_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t.failures).where(t.failures.c.message_id == message_id))

    def dead_letters(self) -> list[Failure]:
        """Every dead letter, oldest first (the operator view)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.failures).where(t.failures.c.dead_at.is_not(None))
                                .order_by(t.failures.c.dead_at)).mappings().all()
        return [_failure(row) for row in rows]

    def release(self, message_id: str | None = None) -> int:
        """Forget the failures of one message (or of every dead letter): tried again on the
        next poll. Returns how many were released."""
        query = sa.delete(t.failures)
        query = query.where(t.failures.c.message_id == message_id) if message_id else \
            query.where(t.failures.c.dead_at.is_not(None))
        with self.engine.begin() as conn:
            return conn.execute(query).rowcount

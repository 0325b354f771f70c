"""Injectable time: hub, station and the web applications ask a Clock, so a whole period can be
simulated (tests, pilot); `utcnow()` is the real time for what is never simulated."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol


def utcnow() -> dt.datetime:
    """The real time, aware UTC."""
    return dt.datetime.now(dt.UTC)


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current moment, timezone-aware."""


def sent_moment(created_at: dt.datetime | None, clock: Clock) -> dt.datetime | None:
    """When a message was sent (the hub's `created_at`, real time), on `clock`: the clock's now
    minus how long ago it really was. With the system clock that is `created_at` itself; under a
    simulated clock it keeps the real time between sending and handling, so durations measured on
    the station's clock (delivery -> technical report) stay true."""
    if created_at is None:
        return None
    return clock.now() - (dt.datetime.now(dt.UTC) - created_at)


class SystemClock:
    """The real time (UTC)."""

    def now(self) -> dt.datetime:
        return utcnow()


class SimulatedClock:
    """A clock that stands still until moved: `set(...)` or `advance(...)` (thread-safe)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimulatedClock needs a timezone-aware datetime")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def set(self, moment: dt.datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("SimulatedClock needs a timezone-aware datetime")
        with self._lock:
            self._now = moment

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        with self._lock:
            self._now += delta
            return self._now

    @classmethod
    def on(cls, day: dt.date | str, hour: int = 12) -> SimulatedClock:
        """A clock standing at noon (Europe/Amsterdam) of a calendar day."""
        from zoneinfo import ZoneInfo

        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        zone = ZoneInfo("Europe/Amsterdam")
        return cls(dt.datetime(day.year, day.month, day.day, hour, tzinfo=zone))

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

"""Waking long polls: in this process, and with PostgreSQL on every hub node (LISTEN/NOTIFY).

A transaction that changes what a party's inbox or outbox shows sends `NOTIFY ggk_hub_mailbox`
with that party's OIN as payload (`announce`); PostgreSQL delivers it at commit to every
listening connection, one per hub process (`PostgresListener`), which wakes the long polls of
that party only. A long poll still re-queries now and then as a safety net, and every poll
re-queries when the listener (re)connects, since notifications sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import psycopg
import sqlalchemy as sa

log = logging.getLogger("ggk.hub.notify")

CHANNEL = "ggk_hub_mailbox"
EVERYONE = "*"
_NOTIFY = sa.text(f"SELECT pg_notify('{CHANNEL}', :oin)")


def announce(conn: sa.Connection, *oins: str) -> None:
    """Inside a PostgreSQL transaction: wake the long polls of these parties at commit."""
    for oin in dict.fromkeys(oins):
        conn.execute(_NOTIFY, {"oin": oin})


class MailboxNotifier:
    """Wakes long-polling requests of this process: per party (by OIN), or all of them.

    Thread-safe `notify`; `token` and `wait` run on the event loop."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.generation = 0  # bumped for every wake-up of everyone
        self._events: dict[str, asyncio.Event] = {}  # per OIN with waiters

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def _bump(self, oin: str) -> None:
        if oin == EVERYONE:
            self.generation += 1
            waiting, self._events = self._events, {}
            for event in waiting.values():
                event.set()
            return
        event = self._events.pop(oin, None)
        if event is not None:
            event.set()

    def notify(self, oin: str = EVERYONE) -> None:
        """Wake the long polls of `oin` (default: all); may be called from any thread."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._bump, oin)

    def token(self, oin: str) -> tuple[int, asyncio.Event]:
        """Taken before a long poll looks: a wake-up after it ends the following `wait`."""
        event = self._events.get(oin)
        if event is None:
            event = self._events[oin] = asyncio.Event()
        return self.generation, event

    async def wait(self, token: tuple[int, asyncio.Event], timeout: float) -> bool:
        """Until a wake-up since `token` or `timeout`; True when woken."""
        generation, event = token
        if self.generation != generation or event.is_set():
            return True
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True


class PostgresListener:
    """A thread with one connection that LISTENs and wakes this process's long polls."""

    def __init__(self, url: sa.URL, notifier: MailboxNotifier) -> None:
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.notifier = notifier
        self.listening = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ggk-hub-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self.notifier.notify(EVERYONE)  # what was sent while not listening
                    while not self._stop.is_set():
                        for notification in conn.notifies(timeout=1.0):
                            self.notifier.notify(notification.payload or EVERYONE)
            except psycopg.Error:
                log.warning("mailbox listener lost its PostgreSQL connection; reconnecting",
                            exc_info=True)
            finally:
                self.listening.clear()
            self._stop.wait(1.0)


"""Waking long polls: in this process, and with PostgreSQL on every hub node (LISTEN/NOTIFY).

A transaction that changes what a party's inbox or outbox shows sends `NOTIFY ggk_hub_mailbox`
with that party's OIN as payload (`announce`); PostgreSQL delivers it at commit to every
listening connection, one per hub process (`PostgresListener`), which wakes the long polls of
that party only.

While listening, each process also keeps a view of the mailboxes its long polls found empty
(`MailboxNotifier.known_empty`): a poll of a mailbox known empty since the listener connected
asks the database nothing. A notification for a party forgets what is known of its mailboxes; a
(re)connect or a lost connection of the listener forgets everything, since notifications sent
meanwhile are lost. As a safety net against a notification that never arrives, one batched query
per process and interval (`safety_net`) checks every mailbox known empty at once. A change of a
party (`party:<OIN>`) makes every process read that party again (`PartyRegistry`'s cache).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable

import psycopg
import sqlalchemy as sa

from ggk.hub.interfaces import INBOX_STATES
from ggk.hub.tables import messages as m

log = logging.getLogger("ggk.hub.notify")

CHANNEL = "ggk_hub_mailbox"
EVERYONE = "*"
PARTY_PREFIX = "party:"  # payload of a party change: `party:<OIN>`
_NOTIFY = sa.text(f"SELECT pg_notify('{CHANNEL}', :oin)")


def announce(conn: sa.Connection, *oins: str) -> None:
    """Inside a PostgreSQL transaction: wake the long polls of these parties at commit."""
    for oin in dict.fromkeys(oins):
        conn.execute(_NOTIFY, {"oin": oin})


def announce_party(conn: sa.Connection, oin: str) -> None:
    """Inside a PostgreSQL transaction: every hub process reads this party again after commit."""
    conn.execute(_NOTIFY, {"oin": PARTY_PREFIX + oin})


MailboxKey = tuple[str, str | None]
"""(box, message type or None) of one party's mailbox query."""

Token = tuple[int, asyncio.Event]


class MailboxNotifier:
    """Wakes long-polling requests of this process: per party (by OIN), or all of them; and
    remembers which mailboxes were found empty since then (forgotten at every wake-up).

    Thread-safe `notify`; everything else runs on the event loop."""

    UNUSED_SECONDS = 600.0  # a known-empty mailbox nobody polled for this long is forgotten

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.generation = 0  # bumped for every wake-up of everyone
        self._events: dict[str, asyncio.Event] = {}  # per OIN with waiters
        # per OIN: mailbox -> (cursor, last used): nothing in it after that cursor
        self._empty: dict[str, dict[MailboxKey, tuple[int, float]]] = {}

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def _bump(self, oin: str) -> None:
        if oin == EVERYONE:
            self.generation += 1
            self._empty = {}
            waiting, self._events = self._events, {}
            for event in waiting.values():
                event.set()
            return
        self._empty.pop(oin, None)
        event = self._events.pop(oin, None)
        if event is not None:
            event.set()

    def notify(self, oin: str = EVERYONE) -> None:
        """Wake the long polls of `oin` (default: all); may be called from any thread."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._bump, oin)

    def token(self, oin: str) -> Token:
        """Taken before a long poll looks: a wake-up after it ends the following `wait`."""
        event = self._events.get(oin)
        if event is None:
            event = self._events[oin] = asyncio.Event()
        return self.generation, event

    def _valid(self, token: Token) -> bool:
        return token[0] == self.generation and not token[1].is_set()

    def known_empty(self, oin: str, box: MailboxKey, after: int | None) -> bool:
        """True when this mailbox held nothing after a cursor <= `after` when last looked at,
        and no wake-up came since."""
        known = self._empty.get(oin, {}).get(box)
        if known is None or (after if after is not None else -1) < known[0]:
            return False
        self._empty[oin][box] = (known[0], time.monotonic())
        return True

    def remember_empty(self, token: Token, oin: str, box: MailboxKey, after: int | None) -> None:
        """A look taken after `token` found nothing after `after`: remembered unless a wake-up
        came since the token (the look may have missed what that wake-up announced)."""
        if self._valid(token):
            self._empty.setdefault(oin, {})[box] = (-1 if after is None else after,
                                                    time.monotonic())

    def known_empty_mailboxes(self) -> dict[str, dict[MailboxKey, int]]:
        """Per OIN, the cursor after which each mailbox known empty held nothing; forgets the
        ones nobody polled for `UNUSED_SECONDS`."""
        stale = time.monotonic() - self.UNUSED_SECONDS
        for oin in list(self._empty):
            boxes = self._empty[oin]
            for box in [b for b, (_, used) in boxes.items() if used < stale]:
                del boxes[box]
            if not boxes:
                del self._empty[oin]
        return {oin: {box: cursor for box, (cursor, _) in boxes.items()}
                for oin, boxes in self._empty.items()}

    def forget_changed(self, known: dict[str, dict[MailboxKey, int]],
                       newest: Callable[[str, str], int | None]) -> list[str]:
        """The safety net's verdict: forget and wake every party whose mailbox known empty has
        a message after the remembered cursor (`newest(box, oin)`, the highest cursor in it);
        returns their OINs."""
        changed = [oin for oin, boxes in known.items()
                   if any((n := newest(box, oin)) is not None and n > cursor
                          for (box, _), cursor in boxes.items())]
        for oin in changed:
            self._bump(oin)
        return changed

    async def wait(self, token: Token, timeout: float) -> bool:
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

    def __init__(self, url: sa.URL, notifier: MailboxNotifier,
                 forget_party: Callable[[str | None], None] = lambda _oin: None) -> None:
        """`forget_party(oin)` on a party change, `forget_party(None)` whenever notifications
        may have been lost (connect, connection lost)."""
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.notifier = notifier
        self.forget_party = forget_party
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
                    # what was sent while not listening
                    self.forget_party(None)
                    self.notifier.notify(EVERYONE)
                    while not self._stop.is_set():
                        for notification in conn.notifies(timeout=1.0):
                            self._deliver(notification.payload)
            except psycopg.Error:
                log.warning("mailbox listener lost its PostgreSQL connection; reconnecting",
                            exc_info=True)
            finally:
                self.listening.clear()
                self.forget_party(None)
                self.notifier.notify(EVERYONE)  # what is known may miss what comes now
            self._stop.wait(1.0)

    def _deliver(self, payload: str) -> None:
        if payload.startswith(PARTY_PREFIX):
            self.forget_party(payload.removeprefix(PARTY_PREFIX))
        else:
            self.notifier.notify(payload or EVERYONE)


def newest_cursors(conn: sa.Connection, oins: Iterable[str]) -> dict[tuple[str, str], int]:
    """The safety net's one query: per (box, OIN) the highest cursor in the party's inbox
    (available or fetched messages to it) and outbox (change cursor of its messages)."""
    oins = list(oins)
    inbox = (sa.select(sa.literal("inbox").label("box"), m.c.receiver.label("oin"),
                       sa.func.max(m.c.cursor).label("newest"))
             .where(m.c.receiver.in_(oins), m.c.state.in_(INBOX_STATES))
             .group_by(m.c.receiver))
    outbox = (sa.select(sa.literal("outbox").label("box"), m.c.sender.label("oin"),
                        sa.func.max(m.c.change_cursor).label("newest"))
              .where(m.c.sender.in_(oins)).group_by(m.c.sender))
    return {(row.box, row.oin): row.newest
            for row in conn.execute(sa.union_all(inbox, outbox)) if row.newest is not None}


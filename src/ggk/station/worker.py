"""The station's worker: polls the CBS mailbox and hands every message to its handler.

Dispatch is a table from message type to the handler that decides about it (intake for an
aanlevering, the besluit desk for a besluit). For every message the order is always: claim ->
decide (recorded in one transaction with the replies) -> send the replies (deterministic ids) ->
acknowledge. One message that fails never stops the others: it is logged and tried again later.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import sqlalchemy as sa

from ggk.client.interfaces import HubApi, HubUnreachable, Message
from ggk.clock import Clock
from ggk.conversation import PING_TYPES, Kind, kind_of
from ggk.station import records
from ggk.station import tables as t
from ggk.station.checkpoints import checkpoint
from ggk.station.claims import ClaimBook, ClaimLost
from ggk.station.failures import FailureBook
from ggk.station.interfaces import Decide, StationEvents
from ggk.station.masking import masked
from ggk.station.mirror_jobs import MirrorJobs
from ggk.station.outcomes import Outcome, Recorder, ReplySender
from ggk.station.settings import StationSettings
from ggk.station.storage import FileStore
from ggk.station.workflow import Refused

log = logging.getLogger("ggk.station")


class Worker:
    def __init__(self, settings: StationSettings, client: HubApi, engine: sa.Engine,
                 store: FileStore, clock: Clock, handlers: Mapping[Kind, Decide],
                 recorder: Recorder, sender: ReplySender, mirrors: MirrorJobs,
                 failures: FailureBook, claims: ClaimBook, events: StationEvents,
                 chores: Sequence[Callable[[], object]] = ()) -> None:
        self.settings = settings
        self.client = client
        self.engine = engine
        self.store = store
        self.clock = clock
        self.handlers = dict(handlers)
        self.recorder = recorder
        self.sender = sender
        self.mirrors = mirrors
        self.failures = failures
        self.claims = claims
        self.events = events
        self.chores = tuple(chores)  # after every poll (e.g. extension notices)
        self._cursor: int | None = None
        self._last_rescan = 0.0

    # -- loops ---------------------------------------------------------------------------------

    def run_once(self, wait: float = 0) -> int:
        """Handle every message now in the inbox (long-poll `wait` seconds when empty), then the
        pending mirror reports; returns the number of messages handled (pings included)."""
        handled = 0
        cursor: int | None = None
        first = True
        while True:
            page = self.client.mailbox(after=cursor, wait=wait if first else 0)
            self.events.mailbox_read(page.messages)
            first = False
            handled += self.handle_page(list(page.messages))
            if not page.messages or page.cursor == cursor:
                self.mirrors.send_pending()
                self._chores()
                return handled
            cursor = page.cursor

    def run_forever(self, stop_event: threading.Event) -> None:
        """Poll and handle until `stop_event` is set; transient hub errors are logged, retried.
        Mirror reports are built in a second thread, so they never delay a technical report."""
        mirrors = threading.Thread(target=self._mirror_loop, args=(stop_event,),
                                   name="ggk-station-mirrors", daemon=True)
        mirrors.start()
        try:
            self._poll_loop(stop_event)
        finally:
            mirrors.join(60)

    def _mirror_loop(self, stop_event: threading.Event) -> None:
        while not stop_event.is_set():
            try:
                sent = self.mirrors.send_pending(stop=stop_event)
            except Exception as e:  # database or hub away: try again later
                log.warning("spiegelrapport loop error: %s", masked(str(e)))
                sent = 0
            if not sent:
                stop_event.wait(1.0)

    def _poll_loop(self, stop_event: threading.Event) -> None:
        backoff = 1.0
        while not stop_event.is_set():
            try:
                if time.monotonic() - self._last_rescan > self.settings.rescan_seconds:
                    self._cursor = None  # re-read the whole inbox: claims of dead stations
                    self._last_rescan = time.monotonic()
                page = self.client.mailbox(after=self._cursor, wait=self.settings.poll_wait)
                self.events.mailbox_read(page.messages)
                self.handle_page(list(page.messages))
                self._chores()
                if page.cursor is not None:
                    self._cursor = page.cursor
                backoff = 1.0
            except Exception as e:  # the hub or the database is away; the page is read again
                self.events.mailbox_failed(e)
                log.warning("station loop error (retry in %.0fs): %s", backoff, masked(str(e)))
                stop_event.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def handle_page(self, messages: list[Message]) -> int:
        """Handle each message on its own: one that fails (a reply id someone else took, a
        sender revoked meanwhile, a broken file) is booked for a later attempt, or as a dead
        letter, and never stops the others. Pings are answered the same way."""
        failures = self.failures.of([m.id for m in messages])
        now = dt.datetime.now(dt.UTC)
        for message in messages:
            failure = failures.get(message.id)
            if failure is not None and failure.waits(now):
                continue
            started = time.monotonic()
            try:
                if message.type in PING_TYPES:
                    self.client.answer_pings([message])
                    self.events.message_handled(message.type, "pong",
                                                time.monotonic() - started)
                else:
                    self.handle(message)
            except HubUnreachable:  # the hub is away, not this message's fault: the poll loop
                raise  # backs off and reads the page again (no attempt booked, no dead letter)
            except Exception as e:
                booked = self.failures.failed(message, e, dt.datetime.now(dt.UTC))
                self.events.message_failed(message.type, booked.attempts, booked.dead)
            else:
                if failure is not None:
                    self.failures.succeeded(message.id)
        return len(messages)

    def _chores(self) -> None:
        """Each chore on its own: one that fails is logged and tried after the next poll, and
        never holds up the mailbox (a failing chore used to make every poll read the page again)."""
        for chore in self.chores:
            try:
                chore()
            except HubUnreachable:
                raise  # the hub is away: the poll loop backs off
            except Exception as e:
                log.warning("station chore %s failed (tried again after the next poll): %s",
                            getattr(chore, "__name__", chore), masked(str(e)))

    # -- one message ---------------------------------------------------------------------------

    def handle(self, message: Message) -> str | None:
        """Claim, decide, reply, acknowledge. The outcome; None when another station has it."""
        started = time.monotonic()
        with self.engine.begin() as conn:
            done = records.processed(conn, message.id)
            if done is not None and done["acked_at"] is not None:
                return None  # finished (by this or another station) after the inbox was read
            claim = self.claims.take(conn, message.id)
            if claim is None:
                return None
        # the lease is renewed while the work goes on, and a decision is recorded only while
        # the claim is still this station's (heartbeat and fencing, ggk.station.claims)
        with self.claims.holding(claim):
            try:
                outcome = self.decide(message) if done is None else Recorder.outcome_of(done)
            except ClaimLost as lost:
                log.warning("%s", lost)
                return None
            checkpoint("decided")
            self.sender.send(outcome.replies)
            checkpoint("replied")
            self.client.ack(message.id)
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.processed_messages).where(
                t.processed_messages.c.message_id == message.id).values(
                    acked_at=self.clock.now()))
            self.claims.finish(conn, message.id)
        self.store.clear_incoming(message.id)
        log.info("message %s (%s from %s): %s", message.id, message.type, message.sender,
                 outcome.outcome)
        self.events.message_handled(message.type, outcome.outcome, time.monotonic() - started)
        return outcome.outcome

    def decide(self, message: Message) -> Outcome:
        """The handler of the message's type, or a weigering for a type nobody handles."""
        kind = kind_of(message.type)
        handler = self.handlers.get(kind) if kind is not None else None
        if handler is not None:
            return handler(message)
        known = "' of '".join(kind.value for kind in self.handlers)
        refusal = Refused("onbekend-berichttype", (
            f"CBS verwerkt geen berichten van het type '{message.type}'. Stuur een bericht van "
            f"de soort '{known}'."))
        return self.recorder.refuse(message, refusal, conversation_id=message.conversation_id or "")

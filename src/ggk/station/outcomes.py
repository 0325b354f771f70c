"""What the station decided about one message and the replies that say so.

A decision is recorded (`station_processed_messages`, with the replies to send) in the same
transaction as its effects, before anything is sent: a crash after it resends the same replies
with the same ids, and the hub treats a repeated id with the same content as the same message.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ggk.client.interfaces import Conflict, HubApi, Message
from ggk.clock import Clock
from ggk.conversation import Kind, MessageType, WeigeringMetadata, message_type
from ggk.station import records
from ggk.station import tables as t
from ggk.station.claims import ClaimBook
from ggk.station.records import WorkflowKey
from ggk.station.storage import FileStore
from ggk.station.workflow import Refused

log = logging.getLogger("ggk.station")

def answer_type(message: Message, kind: Kind, statistic: str | None = None) -> str:
    """The type of the station's answer of `kind` to `message`: about `statistic` when known
    (from the metadata, found in the definitions), else in the family of the message."""
    return message_type(statistic or MessageType.family_of(message.type), kind)


class ReplyIds:
    """The ids of the station's replies: deterministic for the station (a resend after a crash
    has the same id, so the hub keeps one message), unpredictable for everyone else (HMAC-SHA256
    under the station's secret), so no party can take a reply's id before the station sends it.
    Every station on one database has the same secret (the pseudonym key file)."""

    LABEL = b"ggk-station/reply-id/v1"

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, self.LABEL, hashlib.sha256).digest()

    def __call__(self, message_id: str, reply_type: str) -> str:
        """The id of the station's reply of `reply_type` to `message_id`."""
        digest = hmac.new(self._key, f"{message_id}/{reply_type}".encode(),
                          hashlib.sha256).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))


@dataclass
class Reply:
    """One message the station sends (stored as JSON with the decision until it is sent)."""

    type: str
    id: str
    receiver: str
    metadata: dict[str, Any]
    in_reply_to: str
    conversation_id: str
    directory: str | None = None  # relative to the store; every file in it is an attachment

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Outcome:
    """What the station decided about one message (stored before anything is sent)."""

    outcome: str
    replies: list[Reply] = field(default_factory=list)


class Recorder:
    """Records decisions and refusals (the only writer of `station_processed_messages`)."""

    def __init__(self, engine: sa.Engine, clock: Clock, ids: ReplyIds,
                 claims: ClaimBook | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.ids = ids
        self.claims = claims  # fences every decision (see ggk.station.claims)

    def record(self, conn: sa.Connection, message: Message, outcome: Outcome) -> None:
        """Store the outcome and its replies in the caller's transaction; ClaimLost (the whole
        decision rolls back) when another station took the message's claim over meanwhile."""
        if self.claims is not None:
            self.claims.ensure_held(conn, message.id)
        first = outcome.replies[0] if outcome.replies else None
        conn.execute(sa.insert(t.processed_messages).values(
            message_id=message.id, type=message.type, sender=message.sender,
            outcome=outcome.outcome, reply_type=first.type if first else None,
            reply_id=first.id if first else None,
            reply_metadata=[r.as_json() for r in outcome.replies], reply_dir=None,
            decided_at=self.clock.now()))

    def refuse(self, message: Message, refusal: Refused, *, conversation_id: str,
               key: WorkflowKey | None = None, statistic: str | None = None,
               **extra: str) -> Outcome:
        """A weigering (Dutch reason) recorded with its audit row; nothing else changes. `extra`
        repeats what the refused message said (period, dataset, gemeente, besluit)."""
        metadata = WeigeringMetadata(refusal.code, refusal.message, statistic=statistic,
                                     **extra).as_metadata()
        kind = answer_type(message, Kind.WEIGERING)  # its statistic may be what is wrong
        reply = Reply(kind, self.ids(message.id, kind), message.sender, metadata,
                      message.id, conversation_id)
        outcome = Outcome("geweigerd", [reply])
        with self.engine.begin() as conn:
            self.record(conn, message, outcome)
            records.write_audit(conn, self.clock.now(), "geweigerd", key=key,
                                message_id=message.id, detail=f"{refusal.code}: {refusal.message}")
        log.info("message %s refused: %s", message.id, refusal.code)
        return outcome

    def recorded(self, message_id: str) -> dict[str, Any] | None:
        """The recorded decision about a message, or None."""
        with self.engine.connect() as conn:
            return records.processed(conn, message_id)

    @staticmethod
    def outcome_of(row: dict[str, Any]) -> Outcome:
        """A recorded decision as an Outcome (to resend its replies)."""
        return Outcome(row["outcome"], [Reply(**r) for r in (row["reply_metadata"] or [])])


class ReplySender:
    """Sends recorded replies with their files (a reply's directory in the store)."""

    def __init__(self, client: HubApi, store: FileStore) -> None:
        self.client = client
        self.store = store

    def send(self, replies: list[Reply]) -> None:
        for reply in replies:
            with contextlib.ExitStack() as stack:
                files = (stack.enter_context(self.store.reply_files(reply.directory))
                         if reply.directory else [])
                try:
                    self.client.send(reply.receiver, reply.type, reply.metadata, files,
                                     id=reply.id, conversation_id=reply.conversation_id,
                                     in_reply_to=reply.in_reply_to)
                except Conflict:  # the same id was sent before with other bytes (a PDF date)
                    log.info("reply %s was already sent", reply.id)

"""Messages and their life cycle: accepted -> available -> fetched -> acknowledged, or refused /
expired. Every state change is audited in the same transaction and bumps the change cursor.

Cursors come from one counter row that is incremented with `UPDATE ... RETURNING` as the last step
of a transaction: the row lock serialises those transactions, so they commit in cursor order and a
reader never skips a cursor that commits later (safe with several hub processes on PostgreSQL).

The request-facing methods (`create`, `mailbox`, `get_for`, `acknowledge`, `acknowledge_many`) take
the caller either as a `Party` or as a function that authenticates it in a given connection: then
authentication and the work share one connection and one transaction (one pool checkout, one
commit per request).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from ggk.hub import audit
from ggk.hub.database import as_utc, utcnow, writing
from ggk.hub.direct import Direct
from ggk.hub.interfaces import (
    FINAL_STATES,
    INBOX_STATES,
    Attachment,
    AttachmentStore,
    HubError,
    Message,
    MessageState,
    Party,
)
from ggk.hub.notify import announce
from ggk.hub.receipts import HubKey, canonical_json
from ggk.hub.routing import PING_TYPES, check_ping, route_allowed
from ggk.hub.settings import HubSettings
from ggk.hub.tables import attachments, audit_log, counters, messages, parties
from ggk.privacy import mask_bsn_like

Caller = Party | Callable[[sa.Connection], Party]
"""A party, or a function that authenticates the caller in the given connection."""


def _who(caller: Caller, conn: sa.Connection) -> Party:
    return caller if isinstance(caller, Party) else caller(conn)

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STATE_ACTIONS = ("accepted", "available", "fetched", "acknowledged", "refused", "expired")


@dataclass(frozen=True, slots=True)
class AttachmentDeclaration:
    name: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class MessageDeclaration:
    id: str
    receiver: str
    type: str
    conversation_id: str | None
    in_reply_to: str | None
    metadata: dict[str, Any]
    attachments: tuple[AttachmentDeclaration, ...]

    def content_hash(self) -> str:
        content = {
            "receiver": self.receiver, "type": self.type,
            "conversation_id": self.conversation_id, "in_reply_to": self.in_reply_to,
            "metadata": self.metadata,
            "attachments": [[a.name, a.content_type, a.size, a.sha256] for a in self.attachments],
        }
        return hashlib.sha256(canonical_json(content)).hexdigest()


@dataclass(frozen=True, slots=True)
class _Receiver:
    role: str
    active: bool


def not_found(message_id: str) -> HubError:
    return HubError(404, "message-not-found", f"no message {message_id} in your mailbox")


def _not_acknowledgeable(message: Message) -> HubError:
    return HubError(409, "not-acknowledgeable",
                    f"message {message.id} is {message.state}; it cannot be acknowledged")


_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
# Hot statements built once: SQLAlchemy then skips rebuilding them and their cache keys.
_MESSAGE_BY_ID = sa.select(messages).where(messages.c.id == sa.bindparam("message_id"))
_MESSAGES_BY_IDS = sa.select(messages).where(
    messages.c.id.in_(sa.bindparam("ids", expanding=True)))
_EXISTING = sa.select(messages.c.sender, messages.c.content_hash).where(
    messages.c.id == sa.bindparam("message_id"))
_ACKNOWLEDGE = messages.update().where(
    messages.c.id == sa.bindparam("b_id"), messages.c.state.in_(("available", "fetched"))
).values(state="acknowledged", change_cursor=sa.bindparam("b_cursor"),
         acknowledged_at=sa.bindparam("b_now"))

def _mailbox_query(box: str, typed: bool) -> sa.Select:
    """inbox by cursor (available/fetched messages to me), outbox by change cursor (mine)."""
    if box == "inbox":
        column = messages.c.cursor
        query = sa.select(messages).where(messages.c.receiver == sa.bindparam("oin"),
                                          messages.c.state.in_(INBOX_STATES),
                                          messages.c.cursor.is_not(None))
    else:
        column = messages.c.change_cursor
        query = sa.select(messages).where(messages.c.sender == sa.bindparam("oin"))
    query = query.where(column > sa.bindparam("after", type_=sa.BigInteger))
    if typed:
        query = query.where(messages.c.type == sa.bindparam("type"))
    return query.order_by(column).limit(sa.bindparam("limit", type_=sa.Integer))


_MAILBOX = {(box, typed): _mailbox_query(box, typed)
            for box in ("inbox", "outbox") for typed in (False, True)}
_ATTACHMENTS_OF = (sa.select(attachments)
                   .where(attachments.c.message_id.in_(sa.bindparam("ids", expanding=True)))
                   .order_by(attachments.c.message_id, attachments.c.position))


def canonical_message_id(message_id: str) -> str:
    """Message ids are UUIDs in canonical form; anything else cannot exist (404)."""
    try:
        return str(uuid.UUID(message_id))
    except ValueError:
        raise not_found(message_id) from None


_NEXT_CURSOR = (counters.update().where(counters.c.name == "cursor")
                .values(value=counters.c.value + sa.bindparam("n", type_=sa.BigInteger))
                .returning(counters.c.value))
_INSERT_MESSAGE = messages.insert()
_PARTY_BY_OIN = sa.select(parties.c.role, parties.c.active).where(
    parties.c.oin == sa.bindparam("oin"))


class _DirectSend:
    """The statements of a send, for SQLite's driver connection (see `ggk.hub.direct`)."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.existing = Direct(_EXISTING, dialect)
        self.receiver = Direct(_PARTY_BY_OIN, dialect)
        self.audit = Direct(audit_log.insert(), dialect)
        self.next_cursor = Direct(_NEXT_CURSOR, dialect)
        self.insert = Direct(_INSERT_MESSAGE, dialect)


def next_cursor(conn: sa.Connection, n: int = 1) -> int:
    """Take `n` cursors (the row stays locked until commit); returns the last of them."""
    return int(conn.execute(_NEXT_CURSOR, {"n": n}).scalar_one())


class MessageService:
    """All message state lives in the database; this class holds no state between calls."""

    def __init__(self, engine: sa.Engine, settings: HubSettings, store: AttachmentStore,
                 on_available: Callable[[], None] = lambda: None,
                 id_scope_secret: bytes = b"") -> None:
        """`id_scope_secret` (the same in every hub process) makes the ids of `scoped_id`
        unpredictable to the parties."""
        self.engine = engine
        # PostgreSQL: NOTIFY wakes the long polls of the parties concerned on every hub node
        self._notifying = engine.dialect.name == "postgresql"
        self.settings = settings
        self.store = store
        self.on_available = on_available
        self.id_scope_secret = id_scope_secret
        # a send's statements on SQLite go straight to the driver connection (ggk.hub.direct)
        self._direct = (_DirectSend(engine.dialect) if engine.dialect.name == "sqlite" else None)

    # ---- reading -------------------------------------------------------------------------
    def _load(self, conn: sa.Connection, rows: Sequence[sa.Row]) -> list[Message]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        by_message: dict[str, list[Attachment]] = {i: [] for i in ids}
        with_attachments = [row.id for row in rows if row.attachment_count]
        for a in (conn.execute(_ATTACHMENTS_OF, {"ids": with_attachments})
                  if with_attachments else ()):
            by_message[a.message_id].append(Attachment(
                id=a.id, message_id=a.message_id, name=a.name, content_type=a.content_type,
                size=a.size, sha256=a.sha256, state=a.state, upload_offset=a.upload_offset))
        return [
            Message(
                id=row.id, sender=row.sender, receiver=row.receiver, type=row.type,
                conversation_id=row.conversation_id, in_reply_to=row.in_reply_to,
                metadata=json.loads(row.metadata_json), state=row.state,
                refusal_reason=row.refusal_reason, created_at=as_utc(row.created_at),  # type: ignore[arg-type]
                available_at=as_utc(row.available_at), fetched_at=as_utc(row.fetched_at),
                acknowledged_at=as_utc(row.acknowledged_at), expires_at=as_utc(row.expires_at),  # type: ignore[arg-type]
                cursor=row.cursor, change_cursor=row.change_cursor,
                attachments=tuple(by_message[row.id]),
            )
            for row in rows
        ]

    def _get(self, conn: sa.Connection, message_id: str) -> Message | None:
        rows = conn.execute(_MESSAGE_BY_ID, {"message_id": message_id}).all()
        loaded = self._load(conn, rows)
        return loaded[0] if loaded else None

    def get_for(self, party: Caller, message_id: str) -> Message:
        """The message if `party` is its sender, or its receiver once it is available."""
        with self.engine.connect() as conn:
            return self._get_for(conn, _who(party, conn), message_id)

    def _get_for(self, conn: sa.Connection, party: Party, message_id: str) -> Message:
        message_id = canonical_message_id(message_id)
        message = self._get(conn, message_id)
        if message is None or not self.visible_to(message, party):
            raise not_found(message_id)
        return message

    @staticmethod
    def visible_to(message: Message, party: Party) -> bool:
        if message.sender == party.oin:
            return True
        return message.receiver == party.oin and message.cursor is not None

    def mailbox(self, party: Caller, box: str, after: int | None, limit: int,
                message_type: str | None) -> tuple[list[Message], int | None]:
        """inbox: available/fetched messages to me by cursor; outbox: my messages by change."""
        with self.engine.connect() as conn:
            party = _who(party, conn)
            query = _MAILBOX[box, message_type is not None]
            rows = conn.execute(query, {"oin": party.oin, "after": -1 if after is None else after,
                                        "type": message_type, "limit": limit}).all()
            loaded = self._load(conn, rows)
        cursor = after
        if loaded:
            last = loaded[-1]
            cursor = last.cursor if box == "inbox" else last.change_cursor
        return loaded, cursor

    # ---- sending -------------------------------------------------------------------------
    def create(self, sender: Caller, declaration: MessageDeclaration) -> tuple[Message, bool]:
        """Store a new message; returns (message, created). Same id + same content -> original.

        One write transaction: authentication, the duplicate check, the route and limit checks
        and the insert (with its audit entries and cursor)."""
        content_hash = declaration.content_hash()
        now = utcnow()
        available = not declaration.attachments
        party: Party | None = None
        try:
            with writing(self.engine) as conn:
                party = _who(sender, conn)
                if self._direct is None or self._direct.existing.execute(
                        conn, {"message_id": declaration.id}).fetchone() is not None:
                    existing = conn.execute(_EXISTING, {"message_id": declaration.id}).first()
                else:
                    existing = None
                if existing is not None and existing.sender != party.oin:
                    declaration, existing = self._scoped(conn, party, declaration)
                if existing is not None:
                    return self._duplicate(conn, party, declaration, existing, content_hash), False
                self._check_route_and_limits(conn, party, declaration)
                cursor = self._insert(conn, party, declaration, content_hash, now, available)
                if self._notifying:
                    announce(conn, party.oin, *((declaration.receiver,) if available else ()))
        except (sa.exc.IntegrityError, sqlite3.IntegrityError):
            if party is None:
                raise
            # another request inserted the same id concurrently
            with self.engine.connect() as conn:
                existing = conn.execute(_EXISTING, {"message_id": declaration.id}).first()
                if existing is not None and existing.sender != party.oin:
                    declaration, existing = self._scoped(conn, party, declaration)
                if existing is None:
                    raise
                return self._duplicate(conn, party, declaration, existing, content_hash), False
        if available:
            self.on_available()
            return Message(
                id=declaration.id, sender=party.oin, receiver=declaration.receiver,
                type=declaration.type, conversation_id=declaration.conversation_id,
                in_reply_to=declaration.in_reply_to, metadata=declaration.metadata,
                state="available", refusal_reason=None, created_at=now, available_at=now,
                fetched_at=None, acknowledged_at=None, expires_at=now + dt.timedelta(
                    seconds=self.settings.message_ttl_seconds),
                cursor=cursor, change_cursor=cursor), True
        message = self.get_for(party, declaration.id)
        empty = [a.id for a in message.attachments if a.size == 0]
        for attachment_id in empty:  # zero-byte attachments are complete when declared
            message = self.finish_upload(attachment_id)
        return message, True

    def scoped_id(self, sender_oin: str, message_id: str) -> str:
        """The id a message of `sender_oin` gets when another party already uses `message_id`.

        Message ids are chosen by the sender. If the hub answered "already used" (409) for an id
        another party took, a party could claim the id of someone else's next message (a reply
        whose id is derived from what it answers) and so stop that party's queue, and it would
        learn which ids exist. Instead an id is, in effect, scoped per sender: another party's id
        is treated as a free one, and the message is stored under this derived id (the same on
        every retry, unpredictable without the hub's secret); the answer carries it."""
        digest = hmac.new(self.id_scope_secret, f"{sender_oin}/{message_id}".encode(),
                          hashlib.sha256).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def _scoped(self, conn: sa.Connection, sender: Party, declaration: MessageDeclaration
                ) -> tuple[MessageDeclaration, sa.Row | None]:
        scoped = replace(declaration, id=self.scoped_id(sender.oin, declaration.id))
        existing = conn.execute(_EXISTING, {"message_id": scoped.id}).first()
        if existing is not None and existing.sender != sender.oin:
            raise HubError(409, "duplicate-id", f"message id {declaration.id} cannot be used; "
                           "choose a new id")
        return scoped, existing

    def _duplicate(self, conn: sa.Connection, sender: Party, declaration: MessageDeclaration,
                   existing: sa.Row, content_hash: str) -> Message:
        if existing.content_hash != content_hash:
            raise HubError(409, "duplicate-id",
                           f"message id {declaration.id} is already used for other content")
        return self._get_for(conn, sender, declaration.id)

    def _check_route_and_limits(self, conn: sa.Connection, sender: Party,
                                declaration: MessageDeclaration) -> None:
        if sender.role == "operator" and declaration.type not in PING_TYPES:
            raise HubError(403, "route-not-allowed", "operators only send ggk.ping/ggk.pong")
        if declaration.type in PING_TYPES:
            check_ping(declaration)
        if self._direct is not None:
            found = self._direct.receiver.execute(conn, {"oin": declaration.receiver}).fetchone()
            receiver = None if found is None else _Receiver(found[0], bool(found[1]))
        else:
            receiver = conn.execute(_PARTY_BY_OIN, {"oin": declaration.receiver}).first()
        if receiver is None or not receiver.active:
            raise HubError(422, "unknown-receiver",
                           f"receiver {declaration.receiver} is not an active party of this hub")
        if not route_allowed(sender.role, receiver.role, declaration.type):
            raise HubError(403, "route-not-allowed",
                           f"a {sender.role} may not send {declaration.type!r} "
                           f"to a {receiver.role}")
        metadata_size = len(canonical_json(declaration.metadata))
        if metadata_size > self.settings.max_metadata_bytes:
            raise HubError(413, "metadata-too-large",
                           f"metadata is {metadata_size} bytes; at most "
                           f"{self.settings.max_metadata_bytes} allowed")
        names = [a.name for a in declaration.attachments]
        if len(set(names)) != len(names):
            raise HubError(422, "duplicate-attachment-name", "attachment names must be unique")
        total = sum(a.size for a in declaration.attachments)
        limit = sender.max_message_bytes or self.settings.max_message_bytes
        if total > limit:
            raise HubError(413, "message-too-large",
                           f"attachments total {total} bytes; your limit is {limit} bytes")
        if total and self.store.free_bytes() - total < self.settings.min_free_bytes:
            raise HubError(507, "insufficient-storage",
                           "the hub has not enough free disk space for these attachments now; "
                           "try again later")

    def _insert(self, conn: sa.Connection, sender: Party, declaration: MessageDeclaration,
                content_hash: str, now: dt.datetime, available: bool) -> int:
        entries = [audit.entry(actor=sender.oin, action="accepted", message_id=declaration.id,
                               detail={"receiver": declaration.receiver, "type": declaration.type,
                                       "attachments": [[a.name, a.size, a.sha256]
                                                       for a in declaration.attachments]},
                               at=now)]
        if available:
            entries.append(audit.entry(actor="hub", action="available",
                                       message_id=declaration.id, at=now))
        direct = self._direct
        if direct is not None:
            direct.audit.executemany(conn, entries)
        else:
            audit.record_many(conn, entries)
        # the cursor as late as possible: the counter row stays locked until commit
        cursor = (int(direct.next_cursor.execute(conn, {"n": 1}).fetchone()[0]) if direct
                  else next_cursor(conn))
        row = dict(
            id=declaration.id, sender=sender.oin, receiver=declaration.receiver,
            type=declaration.type, conversation_id=declaration.conversation_id,
            in_reply_to=declaration.in_reply_to,
            metadata_json=json.dumps(declaration.metadata, sort_keys=True),
            content_hash=content_hash, state="available" if available else "accepted",
            created_at=now, available_at=now if available else None,
            cursor=cursor if available else None, change_cursor=cursor,
            attachment_count=len(declaration.attachments), refusal_reason=None,
            fetched_at=None, acknowledged_at=None,
            expires_at=now + dt.timedelta(seconds=self.settings.message_ttl_seconds),
        )
        if direct is not None:
            direct.insert.execute(conn, row)
        else:
            conn.execute(_INSERT_MESSAGE, row)
        if declaration.attachments:
            rows = [dict(id=uuid.uuid4().hex, message_id=declaration.id, position=position,
                         name=a.name, content_type=a.content_type, size=a.size, sha256=a.sha256,
                         state="pending", upload_offset=0)
                    for position, a in enumerate(declaration.attachments)]
            conn.execute(attachments.insert(), rows)
            for row in rows:
                self.store.create(row["id"], row["size"])
        return cursor

    def _make_available(self, conn: sa.Connection, message_id: str, now: dt.datetime) -> None:
        audit.record(conn, actor="hub", action="available", message_id=message_id)
        cursor = next_cursor(conn)
        conn.execute(messages.update().where(messages.c.id == message_id).values(
            state="available", available_at=now, cursor=cursor, change_cursor=cursor))
        self._announce_message(conn, message_id)

    def _announce_message(self, conn: sa.Connection, message_id: str) -> None:
        """PostgreSQL: wake the long polls of the message's sender and receiver at commit."""
        if self._notifying:
            row = conn.execute(sa.select(messages.c.sender, messages.c.receiver)
                               .where(messages.c.id == message_id)).one()
            announce(conn, row.sender, row.receiver)

    def _change_state(self, conn: sa.Connection, message_id: str, state: MessageState,
                      actor: str, detail: dict[str, Any] | None = None, *,
                      allowed_from: tuple[MessageState, ...], **values: Any) -> bool:
        """Move the message to `state` if it is in one of `allowed_from` (checked by the UPDATE
        itself, so concurrent requests cannot both win); audits it. False if it was not."""
        cursor = next_cursor(conn)  # a gap in the cursors when False is harmless
        done = conn.execute(messages.update().where(
            messages.c.id == message_id, messages.c.state.in_(allowed_from))
            .values(state=state, change_cursor=cursor, **values))
        if done.rowcount == 0:
            return False
        audit.record(conn, actor=actor, action=state, message_id=message_id, detail=detail)
        self._announce_message(conn, message_id)
        return True

    # ---- uploads -------------------------------------------------------------------------
    def upload_target(self, party: Party, attachment_id: str) -> tuple[Message, Attachment]:
        """The attachment behind a tus upload URL; only its sender may see it (else 404)."""
        if not _UPLOAD_ID.fullmatch(attachment_id):
            raise HubError(404, "upload-not-found", f"no upload {attachment_id!r} of yours")
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(attachments.c.message_id)
                               .where(attachments.c.id == attachment_id)).first()
            message = self._get(conn, row.message_id) if row else None
        if message is None or message.sender != party.oin:
            raise HubError(404, "upload-not-found", f"no upload {attachment_id} of yours")
        attachment = next(a for a in message.attachments if a.id == attachment_id)
        return message, attachment

    def find_upload(self, party: Party, message_id: str, name: str) -> Attachment:
        name = mask_bsn_like(name)  # as it was stored
        message = self.get_for(party, message_id)
        if message.sender != party.oin:
            raise not_found(message_id)
        for attachment in message.attachments:
            if attachment.name == name:
                return attachment
        raise HubError(404, "attachment-not-found",
                       f"message {message_id} declares no attachment {name!r}")

    def record_offset(self, attachment_id: str, old: int, new: int, actor: str) -> bool:
        """Record upload progress (after the bytes are fsync'ed); False if someone else moved."""
        with writing(self.engine) as conn:
            done = conn.execute(attachments.update().where(
                attachments.c.id == attachment_id, attachments.c.upload_offset == old,
                attachments.c.state == "pending").values(upload_offset=new))
            return done.rowcount == 1

    def finish_upload(self, attachment_id: str, computed_sha256: str | None = None) -> Message:
        """Verify a fully uploaded attachment; complete it (and maybe the message) or refuse."""
        with self.engine.connect() as conn:
            a = conn.execute(sa.select(attachments).where(attachments.c.id == attachment_id)).one()
        self.store.complete(attachment_id, a.size)
        actual_size = self.store.size(attachment_id)
        actual_sha = computed_sha256 or self.store.sha256(attachment_id)
        reason = None
        if actual_size != a.size:
            reason = "size-mismatch"
        elif actual_sha != a.sha256:
            reason = "checksum-mismatch"
        now = utcnow()
        became_available = False
        with writing(self.engine) as conn:
            current = conn.execute(sa.select(messages.c.state, messages.c.sender).where(
                messages.c.id == a.message_id)).one()
            if reason is not None:
                conn.execute(attachments.update().where(attachments.c.id == attachment_id,
                                                        attachments.c.state == "pending")
                             .values(state="refused"))
                self._change_state(conn, a.message_id, "refused", "hub",
                                   {"attachment": a.name, "reason": reason,
                                    "declared_sha256": a.sha256, "actual_sha256": actual_sha,
                                    "declared_size": a.size, "actual_size": actual_size},
                                   allowed_from=("accepted",), refusal_reason=reason)
            else:
                updated = conn.execute(attachments.update().where(
                    attachments.c.id == attachment_id, attachments.c.state == "pending")
                    .values(state="complete", completed_at=now))
                if updated.rowcount:
                    audit.record(conn, actor=current.sender, action="attachment-complete",
                                 message_id=a.message_id,
                                 detail={"attachment": a.name, "size": a.size, "sha256": a.sha256})
                pending = conn.execute(sa.select(sa.func.count()).select_from(attachments).where(
                    attachments.c.message_id == a.message_id,
                    attachments.c.state != "complete")).scalar_one()
                if pending == 0 and current.state == "accepted":
                    self._make_available(conn, a.message_id, now)
                    became_available = True
        if became_available:
            self.on_available()
        if reason is not None:
            self.store.delete(attachment_id)  # a refused upload is never delivered
        with self.engine.connect() as conn:
            message = self._get(conn, a.message_id)
        assert message is not None
        return message

    def terminate_upload(self, party: Party, attachment_id: str) -> None:
        """tus termination: the attachment (and so its message) is withdrawn by the sender."""
        message, attachment = self.upload_target(party, attachment_id)
        if attachment.state != "pending":
            raise HubError(409, "upload-finished", "this upload is already finished")
        with writing(self.engine) as conn:
            conn.execute(attachments.update().where(attachments.c.id == attachment_id)
                         .values(state="refused"))
            self._change_state(conn, message.id, "refused", party.oin,
                               {"attachment": attachment.name, "reason": "upload-terminated"},
                               allowed_from=("accepted",), refusal_reason="upload-terminated")
        self.store.delete(attachment_id)

    # ---- receiving -----------------------------------------------------------------------
    def download_target(self, party: Party, message_id: str, name: str
                        ) -> tuple[Message, Attachment]:
        name = mask_bsn_like(name)  # as it was stored
        message = self.get_for(party, message_id)
        for attachment in message.attachments:
            if attachment.name == name:
                if attachment.state != "complete":
                    raise HubError(409, "attachment-not-complete",
                                   f"attachment {name!r} is {attachment.state}, not complete")
                return message, attachment
        raise HubError(404, "attachment-not-found",
                       f"message {message_id} has no attachment {name!r}")

    def mark_fetched(self, party: Party, message: Message, name: str) -> None:
        with writing(self.engine) as conn:
            audit.record(conn, actor=party.oin, action="download", message_id=message.id,
                         detail={"attachment": name})
            if message.receiver == party.oin and message.state == "available":
                self._change_state(conn, message.id, "fetched", party.oin, {"attachment": name},
                                   allowed_from=("available",), fetched_at=utcnow())

    def acknowledge(self, party: Caller, message_id: str) -> Message:
        """Acknowledge one message (receiver only; idempotent)."""
        return self.acknowledge_many(party, [message_id])[0]

    def acknowledge_many(self, party: Caller, message_ids: Sequence[str]) -> list[Message]:
        """Acknowledge messages in one transaction: all of them or none (the first that cannot be
        acknowledged raises its 404/403/409). Each acknowledgement is its own state change with
        its own change cursor and audit entry; already acknowledged ones are left as they are.
        Returns the messages in the given order (repeated ids once)."""
        now = utcnow()
        with writing(self.engine) as conn:
            who = _who(party, conn)
            ids = list(dict.fromkeys(canonical_message_id(i) for i in message_ids))
            rows = (conn.execute(_MESSAGE_BY_ID, {"message_id": ids[0]}).all() if len(ids) == 1
                    else conn.execute(_MESSAGES_BY_IDS, {"ids": ids}).all() if ids else [])
            found = {m.id: m for m in self._load(conn, rows)}
            for message_id in ids:
                message = found.get(message_id)
                if message is None or not self.visible_to(message, who):
                    raise not_found(message_id)
                if message.receiver != who.oin:
                    raise HubError(403, "not-receiver",
                                   "only the receiver acknowledges a message")
                if message.state not in ("available", "fetched", "acknowledged"):
                    raise _not_acknowledgeable(message)
            due = [found[i] for i in ids if found[i].state != "acknowledged"]
            if due:
                last = next_cursor(conn, len(due))
                changed = []
                for cursor, message in enumerate(due, start=last - len(due) + 1):
                    done = conn.execute(_ACKNOWLEDGE, {"b_id": message.id, "b_cursor": cursor,
                                                       "b_now": now})
                    if done.rowcount:
                        found[message.id] = replace(message, state="acknowledged",
                                                    acknowledged_at=now, change_cursor=cursor)
                        changed.append(message.id)
                        continue
                    current = self._get(conn, message.id)  # changed meanwhile (another process)
                    if current is None or current.state != "acknowledged":
                        raise _not_acknowledgeable(current or message)
                    found[message.id] = current
                audit.record_many(conn, [audit.entry(actor=who.oin, action="acknowledged",
                                                     message_id=i, at=now) for i in changed])
                if self._notifying and changed:
                    announce(conn, *(found[i].sender for i in changed))
        return [found[i] for i in ids]

    EXPIRY_BATCH = 100

    def expire_due(self, now: dt.datetime | None = None) -> int:
        """Expire messages that were not acknowledged within their TTL; returns how many.

        In batches, each in one transaction; on PostgreSQL the batch's rows are taken with
        `FOR UPDATE SKIP LOCKED`, so the sweeps of several hub nodes share the work instead of
        queueing behind each other (SQLite: one writer at a time anyway)."""
        now = now or utcnow()
        expired = 0
        while True:
            with writing(self.engine) as conn:
                due = conn.execute(sa.select(messages.c.id).where(
                    messages.c.state.in_(("accepted", "available", "fetched")),
                    messages.c.expires_at < now).order_by(messages.c.expires_at)
                    .limit(self.EXPIRY_BATCH).with_for_update(skip_locked=True)).scalars().all()
                for message_id in due:
                    self._change_state(conn, message_id, "expired", "hub",
                                       {"ttl_seconds": self.settings.message_ttl_seconds},
                                       allowed_from=("accepted", "available", "fetched"))
                attachment_ids = conn.execute(sa.select(attachments.c.id).where(
                    attachments.c.message_id.in_(due))).scalars().all() if due else []
            for attachment_id in attachment_ids:  # expired payloads free their space
                self.store.delete(attachment_id)
            expired += len(due)
            if len(due) < self.EXPIRY_BATCH:
                return expired

    def purge_retained(self, now: dt.datetime | None = None) -> int:
        """Delete the rows (and any files left) of messages that reached a final state and are
        older than the retention (`message_retention_seconds`, counted from when the hub
        accepted them); returns how many. The audit log keeps its entries (no payload, no
        metadata values): what happened stays provable, what was said does not stay."""
        now = now or utcnow()
        cutoff = now - dt.timedelta(seconds=self.settings.message_retention_seconds)
        with writing(self.engine) as conn:
            due = conn.execute(sa.select(messages.c.id).where(
                messages.c.state.in_(FINAL_STATES), messages.c.created_at < cutoff)
                .limit(1000)).scalars().all()
            if not due:
                return 0
            attachment_ids = conn.execute(sa.select(attachments.c.id).where(
                attachments.c.message_id.in_(due))).scalars().all()
            conn.execute(attachments.delete().where(attachments.c.message_id.in_(due)))
            conn.execute(messages.delete().where(messages.c.id.in_(due)))
            audit.record_many(conn, [audit.entry(actor="hub", action="purged", message_id=i,
                                                 at=now) for i in due])
        for attachment_id in attachment_ids:
            self.store.delete(attachment_id)
        return len(due)

    # ---- receipts and monitoring ---------------------------------------------------------
    def receipt(self, party: Party, message_id: str, key: HubKey) -> dict[str, Any]:
        message = self.get_for(party, message_id)
        with self.engine.connect() as conn:
            events = [e for e in audit.entries(conn, message_id) if e.action in STATE_ACTIONS]
        receipt = {
            "message_id": message.id, "sender": message.sender, "receiver": message.receiver,
            "type": message.type,
            "attachments": [{"name": a.name, "sha256": a.sha256, "size": a.size}
                            for a in message.attachments],
            "events": [{"state": e.action, "at": e.at.isoformat(), "by": e.actor}
                       for e in events],
            "state": message.state, "refusal_reason": message.refusal_reason,
            "issued_at": utcnow().isoformat(), "hub_key_id": key.key_id,
        }
        return {"receipt": receipt, "jws": key.sign(receipt)}

    def monitoring(self, now: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Per party: unacknowledged messages waiting for it, the oldest one's age, bytes in/out."""
        now = now or utcnow()
        with self.engine.connect() as conn:
            party_rows = conn.execute(sa.select(parties).order_by(parties.c.oin)).all()
            waiting = {row.receiver: (row.count, as_utc(row.oldest)) for row in conn.execute(
                sa.select(messages.c.receiver, sa.func.count().label("count"),
                          sa.func.min(messages.c.available_at).label("oldest"))
                .where(messages.c.state.in_(INBOX_STATES)).group_by(messages.c.receiver))}
            sent = dict(conn.execute(
                sa.select(messages.c.sender, sa.func.coalesce(sa.func.sum(attachments.c.size), 0))
                .join(attachments, attachments.c.message_id == messages.c.id)
                .where(attachments.c.state == "complete").group_by(messages.c.sender)).all())
            delivered = dict(conn.execute(
                sa.select(messages.c.receiver,
                          sa.func.coalesce(sa.func.sum(attachments.c.size), 0))
                .join(attachments, attachments.c.message_id == messages.c.id)
                .where(messages.c.fetched_at.is_not(None)).group_by(messages.c.receiver)).all())
        result = []
        for p in party_rows:
            count, oldest = waiting.get(p.oin, (0, None))
            result.append({
                "oin": p.oin, "name": p.name, "role": p.role, "gemeentecode": p.gemeentecode,
                "active": bool(p.active), "unacknowledged": int(count),
                "oldest_unacknowledged_seconds":
                    round((now - oldest).total_seconds(), 3) if oldest else None,
                "bytes_in": int(sent.get(p.oin, 0)), "bytes_out": int(delivered.get(p.oin, 0)),
            })
        return result

    def counts_by_type_and_state(self) -> list[tuple[str, str, int]]:
        with self.engine.connect() as conn:
            return [(r.type, r.state, int(r.n)) for r in conn.execute(
                sa.select(messages.c.type, messages.c.state, sa.func.count().label("n"))
                .group_by(messages.c.type, messages.c.state))]

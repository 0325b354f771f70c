"""Contract of the hub package: parties, messages, attachments, and the errors the hub raises.

The HTTP API (docs/hub-api.md) is the hub's external contract; these types are what its services
exchange internally and what embedding code (`ggk.hub.server.HubServer`) sees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

Role = Literal["gemeente", "cbs", "operator"]
MessageState = Literal["accepted", "available", "fetched", "acknowledged", "refused", "expired"]
AttachmentState = Literal["pending", "complete", "refused"]

INBOX_STATES: tuple[MessageState, ...] = ("available", "fetched")
FINAL_STATES: tuple[MessageState, ...] = ("acknowledged", "refused", "expired")


class HubError(Exception):
    """A problem to report to the caller as application/problem+json (RFC 9457).

    `code` is a stable machine string (e.g. `sender-mismatch`); `detail` is a clear English
    sentence.
    """

    def __init__(self, status: int, code: str, detail: str, title: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or code.replace("-", " ").capitalize()
        self.headers = headers or {}


class SchemaNotCurrent(RuntimeError):
    """The hub database is not migrated to this version's schema (`ggk hub migrate`)."""


class PartyError(ValueError):
    """Bad input to party administration (`ggk party add|revoke`)."""


@dataclass(frozen=True, slots=True)
class Party:
    oin: str
    name: str
    role: Role
    gemeentecode: str | None
    cert_fingerprint: str
    active: bool
    cert_not_after: dt.datetime | None = None
    max_message_bytes: int | None = None

    def public(self) -> dict[str, Any]:
        return {"oin": self.oin, "name": self.name, "role": self.role,
                "gemeentecode": self.gemeentecode, "active": self.active}


@dataclass(frozen=True, slots=True)
class Attachment:
    id: str
    message_id: str
    name: str
    content_type: str
    size: int
    sha256: str
    state: AttachmentState
    upload_offset: int


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    sender: str
    receiver: str
    type: str
    conversation_id: str | None
    in_reply_to: str | None
    metadata: dict[str, Any]
    state: MessageState
    refusal_reason: str | None
    created_at: dt.datetime
    available_at: dt.datetime | None
    fetched_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    expires_at: dt.datetime
    cursor: int | None
    change_cursor: int
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    message_id: str | None
    detail: dict[str, Any]


class PartyDirectory(Protocol):
    """The hub's parties (implemented by `ggk.hub.parties.PartyRegistry`)."""

    def add(self, cert: Path | bytes, *, role: str | None = None, name: str | None = None,
            gemeentecode: str | None = None, max_message_bytes: int | None = None,
            replace: bool = False) -> Party:
        """Register the holder of `cert` (OIN, name and hints read from it); PartyError if bad."""
        ...

    def get(self, oin: str) -> Party | None:
        """The party with this OIN, active or revoked, or None."""
        ...

    def list(self) -> list[Party]:
        """All parties, by role and OIN."""
        ...

    def revoke(self, oin: str) -> Party:
        """Revoke a party: its certificate is refused (403) from now on."""
        ...


class Mailboxes(Protocol):
    """Messages and their life cycle (implemented by `ggk.hub.messages.MessageService`).

    Every method raises HubError (404 for what the party may not see) rather than leaking."""

    def get_for(self, party: Party, message_id: str) -> Message:
        """The message, if `party` is its sender or (once available) its receiver."""
        ...

    def mailbox(self, party: Party, box: str, after: int | None, limit: int,
                message_type: str | None) -> tuple[list[Message], int | None]:
        """inbox (available/fetched, by cursor) or outbox (all states, by change cursor)."""
        ...

    def acknowledge(self, party: Party, message_id: str) -> Message:
        """Receiver only; idempotent."""
        ...

    def expire_due(self, now: dt.datetime | None = None) -> int:
        """Expire unacknowledged messages past their TTL; returns how many."""
        ...

    def monitoring(self, now: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Per party: unacknowledged count, oldest age, bytes in and out."""
        ...


@dataclass(frozen=True, slots=True)
class PartyHealth:
    """How one party's channel is doing, as the hub sees it (for the operator console)."""

    oin: str
    name: str
    role: Role
    gemeentecode: str | None
    active: bool
    last_seen: dt.datetime | None  # the party's newest audited action (send, download, ack)
    waiting: int  # messages available to it and not acknowledged
    oldest_waiting_seconds: float | None
    expired: int  # messages to it that expired unacknowledged (the hub's dead letters)
    refused: int  # messages from it the hub refused
    cert_not_after: dt.datetime | None


@dataclass(frozen=True, slots=True)
class MessageSummary:
    """A message without its metadata or files: who, what, when, where it is now."""

    id: str
    sender: str
    receiver: str
    type: str
    state: MessageState
    refusal_reason: str | None
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    expires_at: dt.datetime


class ChannelWatch(Protocol):
    """What the hub operator's console reads (implemented by `ggk.hub.channel_watch`). Reads
    only the hub's own records; never a payload."""

    def health(self, now: dt.datetime | None = None) -> list[PartyHealth]:
        """Every party, by role and OIN."""
        ...

    def recent(self, limit: int = 50, party: str | None = None) -> list[MessageSummary]:
        """The newest messages (of one party as sender or receiver), newest first."""
        ...

    def messages(self, message_id: str) -> list[MessageSummary]:
        """The messages with this id (ids are unique per sender)."""
        ...

    def trail(self, message_id: str) -> list[AuditEntry]:
        """The audit trail of one message id, oldest first."""
        ...

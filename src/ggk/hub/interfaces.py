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


class StoreUnwritable(OSError):
    """The hub's file store cannot be written (permissions, read-only or broken disk): answered
    as 507 `store-unwritable`, and `/healthz` says so."""


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
    previous_cert_fingerprint: str | None = None
    previous_cert_valid_until: dt.datetime | None = None

    def accepts(self, fingerprint: str, now: dt.datetime) -> bool:
        """True if `fingerprint` is this party's certificate, or its previous one during the
        renewal window (overlapping rotation)."""
        if fingerprint == self.cert_fingerprint:
            return True
        return (fingerprint == self.previous_cert_fingerprint
                and self.previous_cert_valid_until is not None
                and now < self.previous_cert_valid_until)

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
            replace: bool = False, change_role: bool = False, allow_expired: bool = False,
            overlap_seconds: int = 0) -> Party:
        """Register the holder of `cert` (OIN, name and hints read from it); PartyError if bad.
        `replace` gives a known OIN a new certificate and keeps its role and gemeentecode
        unless `change_role` (audited); the old certificate stays valid `overlap_seconds`."""
        ...

    def remove(self, oin: str) -> None:
        """Delete a party (audited); its messages and audit entries stay."""
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

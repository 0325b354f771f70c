"""Contract of the hub package: parties, messages, attachments, and the errors the hub raises.

The HTTP API (docs/hub-api.md) is the hub's external contract; these types are what its services
exchange internally and what embedding code (`ggk.hub.server.HubServer`) sees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ggk.database import interfaces as _database

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


SchemaNotCurrent = _database.SchemaNotCurrent  # the hub database is not migrated (ggk hub migrate)


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


class UploadHandle(Protocol):
    """One writer's hold on an upload in progress (`AttachmentStore.open_at`)."""

    def truncate(self, size: int) -> object:
        """Drop what was written beyond `size` (an offset not beyond the one opened at)."""
        ...

    def close(self) -> None:
        """Let go of the upload (and its lock, for the local folder)."""
        ...


class BlockSink(Protocol):
    """Receives the bytes of one PATCH in blocks (`AttachmentStore.sink`), on worker threads."""

    def write(self, parts: list[bytes]) -> None:
        """Append these pieces after what was written before."""
        ...

    def flush(self) -> None:
        """Hand everything written so far to the storage (not yet durable: see `sync`)."""
        ...

    def close(self, flush: bool = True) -> None:
        """Let go of the sink's buffers; with flush=False what `flush` did not take is dropped."""
        ...


class AttachmentStore(Protocol):
    """Where attachment bytes live: the local folder (`ggk.hub.storage.FileStore`, embedded
    default) or S3-compatible object storage (`ggk.hub.objectstore.S3Store`, several hubs).

    The database's recorded offset is the truth: the store keeps at least the bytes up to it
    once `sync` returned, and ignores or cuts what lies beyond it after a crash."""

    def create(self, attachment_id: str, size: int) -> None:
        """Prepare an empty upload of `size` bytes (a zero-byte attachment is complete at once)."""
        ...

    def open_at(self, attachment_id: str, offset: int, size: int) -> UploadHandle:
        """Open the upload for writing at the recorded `offset`, dropping anything beyond it.
        Raises `ggk.hub.storage.UploadBusy` when another writer holds it (local folder)."""
        ...

    def sink(self, attachment_id: str, handle: UploadHandle, position: int,
             block: int) -> BlockSink:
        """A writer for one PATCH's bytes into `handle` from `position`."""
        ...

    def sync(self, handle: UploadHandle, upto: int) -> None:
        """Make the bytes up to offset `upto` durable (before that offset is recorded)."""
        ...

    def cut_to(self, attachment_id: str, recorded_offset: Any) -> None:
        """Cut unrecorded bytes beyond the recorded offset (a callable read under the lock)."""
        ...

    def complete(self, attachment_id: str, size: int) -> None:
        """All `size` bytes are recorded: make the attachment one readable whole (idempotent)."""
        ...

    def sha256(self, attachment_id: str) -> str:
        """The sha256 (hex) of the stored attachment, read in full."""
        ...

    def size(self, attachment_id: str) -> int:
        """The stored attachment's size in bytes (0 when there is none)."""
        ...

    def delete(self, attachment_id: str) -> None:
        """Remove the attachment and anything of its upload (idempotent)."""
        ...

    def read_range(self, attachment_id: str, start: int, end: int,
                   block: int) -> Generator[bytes, None, None]:
        """The bytes start..end-1 of a complete attachment, in blocks of at most `block`."""
        ...

    def free_bytes(self) -> int:
        """Free space for new uploads (the disk guard; object storage reports a large number)."""
        ...

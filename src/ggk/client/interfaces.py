"""Contract of the client package: typed results and errors of the hub API (docs/hub-api.md).

Everything a caller of `ggk.client.HubClient` handles is defined here: the dataclasses the client
returns (parties, messages, receipts, transfer results) and the exceptions it raises. Exception
messages are English sentences meant for operators.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

Role = Literal["gemeente", "cbs", "operator"]
Box = Literal["inbox", "outbox"]
MessageState = Literal["accepted", "available", "fetched", "acknowledged", "refused", "expired"]

PING_TYPE = "ggk.ping"
PONG_TYPE = "ggk.pong"

# progress(name, bytes_done, bytes_total): called after every chunk of an upload or download.
ProgressCallback = Callable[[str, int, int], None]


# ---------------------------------------------------------------------------------------------
# Errors


class ClientError(Exception):
    """Base of every error the hub client raises."""


class HubUnreachable(ClientError):
    """No HTTP answer from the hub: connection refused, TLS handshake failure, timeout."""


class HubError(ClientError):
    """The hub answered with an error (an RFC 9457 problem document)."""

    def __init__(
        self, status: int, code: str | None, detail: str, title: str | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title
        label = f"{status} {code}" if code else str(status)
        super().__init__(f"hub refused the request ({label}): {detail}")


class Forbidden(HubError):
    """403: the certificate is unknown, revoked or expired, or the route is not allowed."""


class NotFound(HubError):
    """404: no such message or attachment visible to this party."""


class Conflict(HubError):
    """409: e.g. the same message id with different content."""


class TransferFailed(ClientError):
    """An upload or download could not be completed after the bounded retries."""


class ReceiptInvalid(ClientError):
    """A receipt whose Ed25519 signature does not verify with the hub key: do not trust it."""


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Party:
    oin: str
    name: str
    role: Role
    gemeentecode: str | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class HubKey:
    key_id: str
    algorithm: str
    public_key_pem: str


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    content_type: str
    size: int
    sha256: str
    state: Literal["pending", "complete", "refused"] = "pending"
    upload_url: str | None = None
    download_url: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    sender: str
    receiver: str
    type: str
    state: MessageState
    metadata: dict[str, Any] = field(default_factory=dict)
    conversation_id: str | None = None
    in_reply_to: str | None = None
    refusal_reason: str | None = None
    created_at: dt.datetime | None = None
    available_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    cursor: int | None = None
    attachments: tuple[Attachment, ...] = ()

    def attachment(self, name: str) -> Attachment:
        for attachment in self.attachments:
            if attachment.name == name:
                return attachment
        raise KeyError(f"message {self.id} has no attachment named {name!r}")


@dataclass(frozen=True, slots=True)
class MailboxPage:
    messages: tuple[Message, ...]
    cursor: int | None


@dataclass(frozen=True, slots=True)
class AttachmentSource:
    """A file to attach; `name` defaults to the file name, `sha256` is computed when omitted."""

    path: Path
    name: str | None = None
    content_type: str | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class DownloadResult:
    path: Path
    size: int
    sha256: str
    resumed_from: int  # bytes already on disk when the final (successful) attempt started
    attempts: int


@dataclass(frozen=True, slots=True)
class ReceiptEvent:
    state: str
    at: dt.datetime
    by: str | None


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt whose signature has been verified with the hub key."""

    message_id: str
    sender: str
    receiver: str
    type: str
    attachments: tuple[dict[str, Any], ...]
    events: tuple[ReceiptEvent, ...]
    issued_at: dt.datetime
    hub_key_id: str
    signature: str  # the compact JWS as received
    document: dict[str, Any]  # the signed `receipt` object exactly as received
    state: str | None = None  # the message's state when the receipt was issued
    refusal_reason: str | None = None

    def event(self, state: str) -> ReceiptEvent | None:
        for event in self.events:
            if event.state == state:
                return event
        return None


@dataclass(frozen=True, slots=True)
class PartyMonitoring:
    oin: str
    unacknowledged: int
    oldest_unacknowledged_seconds: float | None
    bytes_in: int
    bytes_out: int
    name: str = ""
    role: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PingAnswers:
    """What `answer_pings` did: pongs sent (and pings sent back when asked), messages acked."""

    pongs: tuple[Message, ...] = ()
    pings_back: tuple[Message, ...] = ()
    acknowledged: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# The client contract


class HubApi(Protocol):
    """The hub API as the station and the gemeente packages use it (implemented by HubClient)."""

    def me(self) -> Party:
        """The party this client's certificate authenticates as."""

    def parties(self) -> list[Party]:
        """All parties known to the hub (to find the CBS OIN or a gemeente's OIN)."""

    def find_party(self, *, role: Role | None = None, gemeentecode: str | None = None) -> Party:
        """The one active party with this role and/or gemeentecode; NotFound when none."""

    def send(
        self,
        receiver: str,
        type: str,
        metadata: dict[str, Any] | None = None,
        attachments: Sequence[Path | AttachmentSource] = (),
        *,
        id: str | None = None,
        conversation_id: str | None = None,
        in_reply_to: str | None = None,
        progress: ProgressCallback | None = None,
        hold_back: int = 0,
    ) -> Message:
        """Create a message and upload its attachments (tus, resumable); sending the same id
        again resumes unfinished uploads. Returns the message as the hub sees it afterwards.
        `hold_back` leaves the last bytes of each attachment unsent: the message stays
        incomplete, so never delivered, until the same send is made again without it."""

    def mailbox(
        self,
        after: int | None = None,
        wait: float = 0,
        box: Box = "inbox",
        type: str | None = None,
        limit: int = 100,
    ) -> MailboxPage:
        """One page of the inbox (unacknowledged messages for me) or outbox, after a cursor;
        with `wait` > 0 long-polls up to that many seconds (at most 30)."""

    def iter_new(
        self, after: int | None = None, wait: float = 0, type: str | None = None
    ) -> Iterator[Message]:
        """All inbox messages after the cursor, following pages; long-polls once with `wait`."""

    def message(self, id: str) -> Message:
        """One message of mine (as sender or receiver)."""

    def download(
        self, id: str, name: str, dest: Path, progress: ProgressCallback | None = None
    ) -> DownloadResult:
        """Stream an attachment to `dest` (a file path or an existing directory), resuming a
        partial `<dest>.part` with Range + If-Range and verifying the sha256."""

    def ack(self, id: str) -> Message:
        """Acknowledge a received message (idempotent)."""

    def ack_many(self, ids: Sequence[str]) -> list[Message]:
        """Acknowledge several received messages in one request, all or none (idempotent)."""

    def receipt(self, id: str) -> Receipt:
        """The hub-signed receipt of a message; raises ReceiptInvalid on a bad signature."""

    def monitoring(self) -> list[PartyMonitoring]:
        """Per-party unacknowledged counts and bytes (roles operator and cbs)."""

    def pong_id(self, ping_id: str) -> str:
        """The id of our pong to `ping_id`: the same for every client with our certificate,
        impossible for another party to compute (so nobody can take it first)."""

    def answer_pings(self, messages: Sequence[Message]) -> PingAnswers:
        """Answer every `ggk.ping` addressed to me with a `ggk.pong` (and a ping back when the
        ping asks for it) and ack it; ack pongs that answer such pings back."""

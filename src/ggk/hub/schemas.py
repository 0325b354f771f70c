"""Request and response bodies of the hub API (pydantic; they make the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, Field, field_validator, model_validator

from ggk.hub.interfaces import Message

OIN_PATTERN = r"^[0-9]{20}$"
TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
NAME_PATTERN = r"^[^/\\\x00-\x1f\x7f]+$"
SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
API = "/api/v1"


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str


class AttachmentIn(BaseModel):
    name: str = Field(min_length=1, max_length=255, pattern=NAME_PATTERN)
    content_type: str = Field("application/octet-stream", min_length=1, max_length=200)
    size: int = Field(ge=0, le=2**62)
    sha256: str = Field(pattern=SHA256_PATTERN)

    @field_validator("name")
    @classmethod
    def _not_dots(cls, value: str) -> str:
        if value.strip(".") == "":
            raise ValueError("an attachment name cannot be only dots")
        return value


def _refuse_nul(value: Any, where: str = "") -> None:
    """Refuse up front (422, not 500) what the databases cannot store or JSON cannot say:
    NUL characters (PostgreSQL text), lone surrogates (not UTF-8), NaN and Infinity."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"NUL character not allowed{' in ' + where if where else ''}")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("lone surrogate characters are not allowed") from None
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN and Infinity are not allowed in JSON")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, where)
            _refuse_nul(item, where)
    elif isinstance(value, list):
        for item in value:
            _refuse_nul(item, where)


class MessageIn(BaseModel):
    id: uuid.UUID
    receiver: str = Field(pattern=OIN_PATTERN)
    type: str = Field(min_length=1, max_length=200, pattern=TYPE_PATTERN)
    sender: str | None = Field(None, pattern=OIN_PATTERN)
    conversation_id: str | None = Field(None, max_length=200)
    in_reply_to: uuid.UUID | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        _refuse_nul(data)
        return data


class AttachmentOut(BaseModel):
    name: str
    content_type: str
    size: int
    sha256: str
    state: Literal["pending", "complete", "refused"]
    upload_url: str
    download_url: str


class MessageOut(BaseModel):
    id: str
    sender: str
    receiver: str
    type: str
    conversation_id: str | None
    in_reply_to: str | None
    metadata: dict[str, Any]
    state: Literal["accepted", "available", "fetched", "acknowledged", "refused", "expired"]
    refusal_reason: str | None
    created_at: dt.datetime
    available_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    cursor: int | None
    attachments: list[AttachmentOut]

    @classmethod
    def of(cls, m: Message) -> MessageOut:
        return cls(
            id=m.id, sender=m.sender, receiver=m.receiver, type=m.type,
            conversation_id=m.conversation_id, in_reply_to=m.in_reply_to, metadata=m.metadata,
            state=m.state, refusal_reason=m.refusal_reason, created_at=m.created_at,
            available_at=m.available_at, acknowledged_at=m.acknowledged_at, cursor=m.cursor,
            attachments=[AttachmentOut(
                name=a.name, content_type=a.content_type, size=a.size, sha256=a.sha256,
                state=a.state, upload_url=f"{API}/uploads/{a.id}",
                download_url=f"{API}/messages/{m.id}/attachments/{quote(a.name, safe='')}",
            ) for a in m.attachments],
        )


class Mailbox(BaseModel):
    messages: list[MessageOut]
    cursor: int | None


class AcknowledgeIn(BaseModel):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=1000)


class MessageList(BaseModel):
    messages: list[MessageOut]


class Me(BaseModel):
    oin: str
    name: str
    role: str
    gemeentecode: str | None


class PartyOut(Me):
    active: bool


class HubKeyOut(BaseModel):
    key_id: str
    algorithm: Literal["Ed25519"]
    public_key_pem: str


class ReceiptEvent(BaseModel):
    state: str
    at: str
    by: str


class ReceiptAttachment(BaseModel):
    name: str
    sha256: str
    size: int


class ReceiptBody(BaseModel):
    message_id: str
    sender: str
    receiver: str
    type: str
    attachments: list[ReceiptAttachment]
    events: list[ReceiptEvent]
    state: str
    refusal_reason: str | None
    issued_at: str
    hub_key_id: str


class SignedReceipt(BaseModel):
    receipt: ReceiptBody
    jws: str  # compact JWS (alg Ed25519, kid), its payload the canonical JSON of `receipt`


class Health(BaseModel):
    status: str
    database: str
    store: str


class PartyMonitoring(BaseModel):
    oin: str
    name: str
    role: str
    gemeentecode: str | None
    active: bool
    unacknowledged: int
    oldest_unacknowledged_seconds: float | None
    bytes_in: int
    bytes_out: int

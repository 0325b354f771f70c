"""`HubClient`: the friendly, typed client of the hub API (sync, on httpx with mutual TLS)."""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ggk.client.interfaces import (
    PING_TYPE,
    PONG_TYPE,
    Attachment,
    AttachmentSource,
    Box,
    DownloadResult,
    HubKey,
    MailboxPage,
    Message,
    NotFound,
    Party,
    PartyMonitoring,
    PingAnswers,
    ProgressCallback,
    Receipt,
    Role,
    TransferFailed,
)
from ggk.client.range_download import RangeDownload
from ggk.client.receipts import PINNED, hub_key_from_jwk, parse_time, verify_receipt
from ggk.client.transport import API_PREFIX, HubTransport
from ggk.client.tus_upload import DEFAULT_CHUNK_SIZE, RetryPolicy, TusUpload, file_sha256

MAX_WAIT_SECONDS = 30.0
ACK_BATCH = 1000  # the hub's limit of ids per POST /messages/ack
_PONG_NAMESPACE = uuid.UUID("5d6f3c1e-9a0b-4c55-8f1e-7a2b3c4d5e60")


def reply_id(kind: str, message_id: str) -> str:
    """The id of the `ping-back` to a ping: derived from the ping id with a public namespace, so
    that the pinging side's burentest can look it up. Anyone can compute it, so a party can take it
    first; the ping-back is then refused and the ping is retried as any failed message (the
    station books it as a dead letter). Pongs use `pong_id`, which nobody else can compute."""
    return str(uuid.uuid5(_PONG_NAMESPACE, f"{kind}:{message_id}"))


def pong_id(secret: bytes, ping_id: str) -> str:
    """The id of our pong to `ping_id`: an HMAC of the ping id under `secret` (derived from our
    private key), so answering the same ping twice is idempotent at the hub, every client with our
    certificate (a station, a burentest) computes the same id, and no other party can take it
    first (issue 10, finding 1)."""
    digest = hmac.new(secret, f"pong:{ping_id}".encode(), hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def parse_message(data: dict[str, Any]) -> Message:
    return Message(
        id=str(data["id"]),
        sender=data["sender"],
        receiver=data["receiver"],
        type=data["type"],
        state=data["state"],
        metadata=data.get("metadata") or {},
        conversation_id=data.get("conversation_id"),
        in_reply_to=data.get("in_reply_to"),
        refusal_reason=data.get("refusal_reason"),
        created_at=parse_time(data.get("created_at")),
        available_at=parse_time(data.get("available_at")),
        acknowledged_at=parse_time(data.get("acknowledged_at")),
        cursor=data.get("cursor"),
        attachments=tuple(
            Attachment(
                name=a["name"],
                content_type=a.get("content_type") or "application/octet-stream",
                size=int(a["size"]),
                sha256=a["sha256"],
                state=a.get("state", "pending"),
                upload_url=a.get("upload_url"),
                download_url=a.get("download_url"),
            )
            for a in data.get("attachments") or ()
        ),
    )


def parse_party(data: dict[str, Any]) -> Party:
    return Party(
        oin=data["oin"],
        name=data.get("name") or "",
        role=data["role"],
        gemeentecode=data.get("gemeentecode"),
        active=bool(data.get("active", True)),
    )


def _source(item: Path | AttachmentSource) -> AttachmentSource:
    return item if isinstance(item, AttachmentSource) else AttachmentSource(Path(item))


def _declare(source: AttachmentSource) -> dict[str, Any]:
    path = Path(source.path)
    if not path.is_file():
        raise FileNotFoundError(f"attachment not found: {path}")
    name = source.name or path.name
    content_type = source.content_type or mimetypes.guess_type(name)[0]
    return {
        "name": name,
        "content_type": content_type or "application/octet-stream",
        "size": path.stat().st_size,
        "sha256": source.sha256 or file_sha256(path),
    }


class HubClient:
    """Client of one hub as one party (the OIN in `cert`). Use as a context manager or `close()`.

    `hub_key_pem` pins the hub's receipt-signing key; without it the keys are fetched once from
    `/api/v1/hub-keys` (JWKS) over the authenticated TLS connection.
    """

    def __init__(
        self,
        base_url: str,
        cert: Path,
        ca: Path,
        *,
        timeout: float = 60.0,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        retry: RetryPolicy | None = None,
        hub_key_pem: str | None = None,
        chunk_checksums: bool = False,
    ) -> None:
        self.transport = HubTransport(base_url, Path(cert), Path(ca), timeout=timeout)
        self.chunk_size = chunk_size
        self.chunk_checksums = chunk_checksums
        self.retry = retry or RetryPolicy()
        self._hub_key = HubKey(PINNED, "Ed25519", hub_key_pem) if hub_key_pem else None
        self._hub_keys: tuple[HubKey, ...] | None = None
        self._me: Party | None = None
        self._pong_secret: bytes | None = None

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    def _get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self.transport.request("GET", API_PREFIX + path, params=clean or None).json()

    # -- parties -------------------------------------------------------------------------------

    def me(self) -> Party:
        if self._me is None:
            self._me = parse_party({**self._get("/me"), "active": True})
        return self._me

    def parties(self) -> list[Party]:
        data = self._get("/parties")
        items = data.get("parties", data) if isinstance(data, dict) else data
        return [parse_party(p) for p in items]

    def find_party(self, *, role: Role | None = None, gemeentecode: str | None = None) -> Party:
        matches = [
            p
            for p in self.parties()
            if p.active
            and (role is None or p.role == role)
            and (gemeentecode is None or (p.gemeentecode or "").upper() == gemeentecode.upper())
        ]
        wanted = ", ".join(
            f"{k}={v}" for k, v in (("role", role), ("gemeentecode", gemeentecode)) if v
        )
        if len(matches) != 1:
            found = "no active party" if not matches else f"{len(matches)} active parties"
            raise NotFound(404, "party-not-found", f"{found} with {wanted or 'any role'}")
        return matches[0]

    def hub_key(self) -> HubKey:
        """The key the hub signs receipts with now (or the pinned key)."""
        if self._hub_key is None:
            data = self._get("/hub-key")
            self._hub_key = HubKey(data["key_id"], data["algorithm"], data["public_key_pem"])
        return self._hub_key

    def hub_keys(self) -> tuple[HubKey, ...]:
        """The keys that verify receipts: the pinned key, or the hub's JWKS (during a rotation
        the old and the new key), fetched once."""
        if self._hub_key is not None:
            return (self._hub_key,)
        if self._hub_keys is None:
            self._hub_keys = tuple(hub_key_from_jwk(k) for k in self._get("/hub-keys")["keys"])
        return self._hub_keys

    # -- sending -------------------------------------------------------------------------------

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
        sources = [_source(a) for a in attachments]
        declared = [_declare(s) for s in sources]
        body = {
            "id": id or str(uuid.uuid4()),
            "receiver": receiver,
            "type": type,
            "conversation_id": conversation_id,
            "in_reply_to": in_reply_to,
            "metadata": metadata or {},
            "attachments": declared,
        }
        response = self.transport.request("POST", API_PREFIX + "/messages", json=body)
        message = parse_message(response.json())
        if message.state in ("refused", "expired"):
            return message  # the same id was sent before and refused: nothing left to upload
        for source, declaration in zip(sources, declared, strict=True):
            attachment = message.attachment(declaration["name"])
            if attachment.state == "complete":
                if progress is not None:
                    progress(attachment.name, attachment.size, attachment.size)
                continue
            if not attachment.upload_url:
                raise TransferFailed(
                    f"the hub gave no upload_url for attachment {attachment.name!r} of message "
                    f"{message.id} (state {attachment.state})"
                )
            TusUpload(
                self.transport,
                attachment.upload_url,
                Path(source.path),
                name=attachment.name,
                chunk_size=self.chunk_size,
                retry=self.retry,
                progress=progress,
                chunk_checksums=self.chunk_checksums,
            ).run(until=attachment.size - hold_back if hold_back else None)
        return self.message(message.id) if sources else message

    # -- receiving -----------------------------------------------------------------------------

    def mailbox(
        self,
        after: int | None = None,
        wait: float = 0,
        box: Box = "inbox",
        type: str | None = None,
        limit: int = 100,
    ) -> MailboxPage:
        wait = max(0.0, min(float(wait), MAX_WAIT_SECONDS))
        params = {"box": box, "after": after, "limit": limit, "type": type}
        if wait:
            params["wait"] = int(wait) if wait == int(wait) else wait
        clean = {k: v for k, v in params.items() if v is not None}
        response = self.transport.request(
            "GET", API_PREFIX + "/messages", params=clean, timeout=wait + 30.0
        )
        data = response.json()
        return MailboxPage(
            tuple(parse_message(m) for m in data.get("messages") or ()), data.get("cursor")
        )

    def iter_new(
        self, after: int | None = None, wait: float = 0, type: str | None = None
    ) -> Iterator[Message]:
        cursor = after
        first = True
        while True:
            page = self.mailbox(after=cursor, wait=wait if first else 0, type=type)
            first = False
            yield from page.messages
            if not page.messages or page.cursor == cursor:
                return
            cursor = page.cursor

    def message(self, id: str) -> Message:
        return parse_message(self._get(f"/messages/{id}"))

    def download(
        self, id: str, name: str, dest: Path, progress: ProgressCallback | None = None
    ) -> DownloadResult:
        message = self.message(id)
        attachment = message.attachment(name)
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / Path(attachment.name).name
        url = attachment.download_url or f"{API_PREFIX}/messages/{id}/attachments/{name}"
        return RangeDownload(
            self.transport,
            url,
            dest,
            name=attachment.name,
            size=attachment.size,
            sha256=attachment.sha256,
            retry=self.retry,
            progress=progress,
        ).run()

    def ack(self, id: str) -> Message:
        response = self.transport.request("POST", API_PREFIX + f"/messages/{id}/ack")
        return parse_message(response.json()) if response.content else self.message(id)

    def ack_many(self, ids: Sequence[str]) -> list[Message]:
        """Acknowledge several messages in one request (e.g. a mailbox page once it is processed).
        All or none: if one cannot be acknowledged, none is and its HubError is raised."""
        ids = list(dict.fromkeys(ids))
        acknowledged: list[Message] = []
        for start in range(0, len(ids), ACK_BATCH):
            response = self.transport.request(
                "POST", API_PREFIX + "/messages/ack", json={"ids": ids[start : start + ACK_BATCH]}
            )
            acknowledged.extend(parse_message(m) for m in response.json()["messages"])
        return acknowledged

    def receipt(self, id: str) -> Receipt:
        return verify_receipt(self._get(f"/messages/{id}/receipt"), self.hub_keys())

    def monitoring(self) -> list[PartyMonitoring]:
        data = self._get("/monitoring/parties")
        items = data.get("parties", data) if isinstance(data, dict) else data
        known = {
            "oin", "name", "role", "unacknowledged", "oldest_unacknowledged_seconds", "bytes_in",
            "bytes_out",
        }  # fmt: skip
        return [
            PartyMonitoring(
                oin=p["oin"],
                unacknowledged=int(p.get("unacknowledged", 0)),
                oldest_unacknowledged_seconds=p.get("oldest_unacknowledged_seconds"),
                bytes_in=int(p.get("bytes_in", 0)),
                bytes_out=int(p.get("bytes_out", 0)),
                name=p.get("name") or "",
                role=p.get("role"),
                extra={k: v for k, v in p.items() if k not in known},
            )
            for p in items
        ]

    # -- pings (every ggk client answers them) -------------------------------------------------

    def ping(self, receiver: str, *, ping_back: bool = False) -> Message:
        """Send a `ggk.ping`; with `ping_back` the answering client also pings us."""
        metadata = {"sent_at": time.time(), "ping_back": ping_back}
        return self.send(receiver, PING_TYPE, metadata)

    def pong_id(self, ping_id: str) -> str:
        """The id of our pong to `ping_id` (see `pong_id`): keyed by our certificate file, which
        holds our private key, so only clients of this party can compute it."""
        if self._pong_secret is None:
            pem = self.transport.cert.read_bytes()
            self._pong_secret = hashlib.sha256(b"ggk pong id\0" + pem).digest()
        return pong_id(self._pong_secret, ping_id)

    def answer_pings(self, messages: Sequence[Message]) -> PingAnswers:
        me = self.me().oin
        pongs: list[Message] = []
        pings_back: list[Message] = []
        acknowledged: list[str] = []
        for message in messages:
            if message.receiver != me:
                continue
            if message.type == PING_TYPE:
                back_of = message.metadata.get("ping_back_of")
                pongs.append(
                    self.send(
                        message.sender,
                        PONG_TYPE,
                        {"ping_id": message.id, "answers_ping_back": bool(back_of)},
                        id=self.pong_id(message.id),
                        conversation_id=message.conversation_id,
                        in_reply_to=message.id,
                    )
                )
                if message.metadata.get("ping_back") is True:
                    pings_back.append(
                        self.send(
                            message.sender,
                            PING_TYPE,
                            {"ping_back": False, "ping_back_of": message.id},
                            id=reply_id("ping-back", message.id),
                        )
                    )
            elif not (message.type == PONG_TYPE and message.metadata.get("answers_ping_back")):
                continue  # pongs to our own pings belong to whoever sent them (burentest)
            acknowledged.append(message.id)
        if acknowledged:  # after every answer was sent: one request for all of them
            self.ack_many(acknowledged)
        return PingAnswers(tuple(pongs), tuple(pings_back), tuple(acknowledged))

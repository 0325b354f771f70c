"""Small helpers for hub tests: message bodies and raw tus uploads with plain httpx."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import httpx

TUS = {"Tus-Resumable": "1.0.0"}


def attachment(name: str, data: bytes, content_type: str = "text/csv") -> dict[str, Any]:
    return {"name": name, "content_type": content_type, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def message_body(receiver: str, type: str = "gmsd.aanlevering",
                 attachments: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "receiver": receiver, "type": type,
            "conversation_id": None, "in_reply_to": None,
            # a ping carries only its own few metadata fields (ggk.hub.routing.PING_METADATA)
            "metadata": ({} if type in ("ggk.ping", "ggk.pong")
                         else {"statistic": "gmsd", "period": "2026-H1"}),
            "attachments": attachments or [], **extra}


def patch(client: httpx.Client, url: str, offset: int, chunk: bytes,
          checksum: bool = True) -> httpx.Response:
    headers = {**TUS, "Upload-Offset": str(offset),
               "Content-Type": "application/offset+octet-stream"}
    if checksum:
        headers["Upload-Checksum"] = "sha256 " + base64.b64encode(
            hashlib.sha256(chunk).digest()).decode()
    return client.patch(url, content=chunk, headers=headers)


def upload(client: httpx.Client, url: str, data: bytes, chunk_size: int = 64 * 1024) -> None:
    offset = 0
    while offset < len(data) or (offset == 0 and not data):
        chunk = data[offset:offset + chunk_size]
        response = patch(client, url, offset, chunk)
        assert response.status_code == 204, response.text
        offset = int(response.headers["Upload-Offset"])
        if not data:
            break


def send(client: httpx.Client, receiver: str, files: dict[str, bytes] | None = None,
         type: str = "gmsd.aanlevering") -> dict[str, Any]:
    """Create a message and upload its attachments; returns the message after the uploads."""
    files = files or {}
    body = message_body(receiver, type, [attachment(n, d) for n, d in files.items()])
    created = client.post("/api/v1/messages", json=body)
    assert created.status_code == 201, created.text
    for a in created.json()["attachments"]:
        upload(client, a["upload_url"], files[a["name"]])
    return client.get(f"/api/v1/messages/{body['id']}").json()  # type: ignore[no-any-return]

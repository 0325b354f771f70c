"""Small helpers for hub tests: message bodies and raw tus uploads with plain httpx."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import time
import uuid
from pathlib import Path
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


def wait_until_healthy(client: httpx.Client, process: subprocess.Popen[bytes], log: Path,
                       timeout: float = 30) -> None:
    """Until a started hub process answers /healthz; fails with its log if it dies or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("hub did not start: " + log.read_text())


def start_nginx(nginx: str, server_config: str, folder: Path) -> subprocess.Popen[bytes]:
    """A foreground nginx in `folder` with `server_config` (upstream and server blocks) inside
    its http block; stop it with terminate()."""
    (folder / "nginx.conf").write_text(
        f"daemon off;\nmaster_process off;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\naccess_log off;\nclient_body_temp_path {folder};\n"
        f"proxy_temp_path {folder};\n{server_config}\n}}\n")
    return subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

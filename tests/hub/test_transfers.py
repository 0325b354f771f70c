"""Large-file transfer: a standard tus client, interrupted uploads and downloads that resume."""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.hub.conftest import RunningHub
from tests.hub.helpers import TUS, attachment, message_body, patch


def test_tuspy_uploads_an_attachment(running_hub: RunningHub, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tusclient import client as tus_client
    from tusclient.uploader import Uploader

    class Sha256Uploader(Uploader):  # tuspy's default checksum is sha1; the hub speaks sha256
        CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)

    data = os.urandom(300_000)
    path = tmp_path / "basis.csv"
    path.write_bytes(data)
    gemeente = running_hub.client("gemeente_a")
    body = message_body(running_hub.oin["cbs"], attachments=[attachment("basis.csv", data)])
    assert gemeente.post("/api/v1/messages", json=body).status_code == 201

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(running_hub.ca))
    tus = tus_client.TusClient(running_hub.base_url + "/api/v1/uploads",
                               client_cert=str(running_hub.pem["gemeente_a"]))
    uploader = Sha256Uploader(file_path=str(path), client=tus, chunk_size=100_000,
                              metadata={"message_id": body["id"], "name": "basis.csv"},
                              upload_checksum=True)
    uploader.upload()
    assert uploader.url.endswith(gemeente.get(f"/api/v1/messages/{body['id']}")
                                 .json()["attachments"][0]["upload_url"])
    cbs = running_hub.client("cbs")
    assert cbs.get(f"/api/v1/messages/{body['id']}").json()["state"] == "available"
    url = cbs.get(f"/api/v1/messages/{body['id']}").json()["attachments"][0]["download_url"]
    assert cbs.get(url).content == data


def test_tus_discovery_and_termination(running_hub: RunningHub) -> None:
    gemeente = running_hub.client("gemeente_a")
    options = gemeente.options("/api/v1/uploads")
    assert options.status_code == 204
    assert options.headers["Tus-Version"] == "1.0.0"
    assert set(options.headers["Tus-Extension"].split(",")) == {
        "creation", "checksum", "termination"}
    assert options.headers["Tus-Checksum-Algorithm"] == "sha256"
    body = message_body(running_hub.oin["cbs"], attachments=[attachment("a.csv", b"abcdef")])
    url = gemeente.post("/api/v1/messages", json=body).json()["attachments"][0]["upload_url"]
    assert gemeente.delete(url, headers=TUS).status_code == 204
    message = gemeente.get(f"/api/v1/messages/{body['id']}").json()
    assert (message["state"], message["refusal_reason"]) == ("refused", "upload-terminated")
    assert gemeente.head(url, headers=TUS).status_code == 410


def _raw_partial_patch(hub: RunningHub, party: str, url: str, offset: int, total: int,
                       sent: bytes) -> None:
    """Send a PATCH announcing `total` bytes, deliver only `sent`, then drop the connection."""
    parts = urlsplit(hub.base_url)
    context = ssl.create_default_context(cafile=str(hub.ca))
    context.load_cert_chain(str(hub.pem[party]))
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=parts.hostname) as tls:
        head = (f"PATCH {url} HTTP/1.1\r\nHost: {parts.netloc}\r\nTus-Resumable: 1.0.0\r\n"
                f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
                f"Content-Length: {total}\r\n\r\n")
        tls.sendall(head.encode() + sent)
        time.sleep(0.2)  # let the hub write what it received before the connection drops


def _offset_when_settled(client, url: str) -> int:  # type: ignore[no-untyped-def]
    """HEAD until the hub has finished with the broken request (offset no longer changes)."""
    last = -1
    for _ in range(100):
        offset = int(client.head(url, headers=TUS).headers["Upload-Offset"])
        if offset == last and offset > 0:
            return offset
        last = offset
        time.sleep(0.1)
    raise AssertionError("the interrupted upload never settled")


def test_interrupted_upload_resumes(running_hub: RunningHub) -> None:
    data = os.urandom(1_000_000)
    gemeente = running_hub.client("gemeente_a")
    body = message_body(running_hub.oin["cbs"], attachments=[attachment("groot.csv", data)])
    url = gemeente.post("/api/v1/messages", json=body).json()["attachments"][0]["upload_url"]
    _raw_partial_patch(running_hub, "gemeente_a", url, 0, len(data), data[:400_000])
    offset = _offset_when_settled(gemeente, url)
    assert 0 < offset <= 400_000
    assert gemeente.get(f"/api/v1/messages/{body['id']}").json()["state"] == "accepted"
    # a resume from the wrong offset is refused with the right one
    wrong = patch(gemeente, url, 0, data[:10])
    assert wrong.status_code == 409 and wrong.headers["Upload-Offset"] == str(offset)
    assert patch(gemeente, url, offset, data[offset:]).status_code == 204
    cbs = running_hub.client("cbs")
    message = cbs.get(f"/api/v1/messages/{body['id']}").json()
    assert message["state"] == "available"
    assert cbs.get(message["attachments"][0]["download_url"]).content == data


def test_interrupted_download_resumes_with_range(running_hub: RunningHub) -> None:
    from tests.hub.helpers import send

    data = os.urandom(2_000_000)
    sent = send(running_hub.client("gemeente_a"), running_hub.oin["cbs"], {"groot.csv": data})
    cbs = running_hub.client("cbs")
    url = sent["attachments"][0]["download_url"]
    received = bytearray()
    with cbs.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["accept-ranges"] == "bytes"
        etag = response.headers["etag"]
        for block in response.iter_bytes(65536):
            received.extend(block)
            if len(received) >= 500_000:
                break  # the connection breaks off here
    rest = cbs.get(url, headers={"Range": f"bytes={len(received)}-", "If-Range": etag})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes {len(received)}-{len(data) - 1}/{len(data)}"
    assert bytes(received) + rest.content == data
    # If-Range with another version's ETag: the whole file again
    whole = cbs.get(url, headers={"Range": "bytes=10-", "If-Range": '"' + "0" * 64 + '"'})
    assert whole.status_code == 200 and whole.content == data
    middle = cbs.get(url, headers={"Range": "bytes=100-199"})
    assert middle.status_code == 206 and middle.content == data[100:200]
    suffix = cbs.get(url, headers={"Range": "bytes=-100"})
    assert suffix.status_code == 206 and suffix.content == data[-100:]
    for bad in (f"bytes={len(data)}-", "bytes=5-2", "items=1-2"):
        response = cbs.get(url, headers={"Range": bad})
        assert response.status_code == 416, bad
        assert response.headers["content-range"] == f"bytes */{len(data)}"
        assert response.headers["content-type"] == "application/problem+json"


def test_zero_byte_attachment(running_hub: RunningHub) -> None:
    gemeente = running_hub.client("gemeente_a")
    body = message_body(running_hub.oin["cbs"], attachments=[attachment("leeg.csv", b"")])
    created = gemeente.post("/api/v1/messages", json=body).json()
    assert created["state"] == "available"
    cbs = running_hub.client("cbs")
    assert cbs.get(created["attachments"][0]["download_url"]).content == b""


def test_tus_creation_refuses_a_different_size(running_hub: RunningHub) -> None:
    import base64

    gemeente = running_hub.client("gemeente_a")
    body = message_body(running_hub.oin["cbs"], attachments=[attachment("a.csv", b"abcdef")])
    gemeente.post("/api/v1/messages", json=body)

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    metadata = f"message_id {b64(body['id'])},name {b64('a.csv')}"
    wrong = gemeente.post("/api/v1/uploads", headers={
        **TUS, "Upload-Length": "7", "Upload-Metadata": metadata})
    assert wrong.status_code == 400 and wrong.json()["code"] == "upload-length-mismatch"
    right = gemeente.post("/api/v1/uploads", headers={
        **TUS, "Upload-Length": "6", "Upload-Metadata": metadata})
    assert right.status_code == 201 and right.headers["Location"].startswith("/api/v1/uploads/")
    # another party cannot find the upload of this message
    other = running_hub.client("cbs").post("/api/v1/uploads", headers={
        **TUS, "Upload-Length": "6", "Upload-Metadata": metadata})
    assert other.status_code == 404
    old_tus = gemeente.patch(right.headers["Location"], content=b"abc", headers={
        "Tus-Resumable": "0.2.2", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    assert old_tus.status_code == 412

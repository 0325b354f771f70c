"""A hub process killed with SIGKILL in the middle of an upload loses nothing it confirmed."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.hub.conftest import HubPki, register_parties
from tests.hub.helpers import TUS, attachment, message_body, patch, wait_until_healthy

GGK = str(Path(sys.executable).parent / "ggk")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HubProcess:
    def __init__(self, pki: HubPki, database_url: str, store: Path, log: Path) -> None:
        self.pki, self.database_url, self.store, self.log = pki, database_url, store, log
        self.port = _free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [GGK, "hub", "serve", "--ca", str(self.pki.ca), "--cert", str(self.pki.server_pem),
                 "--database-url", self.database_url, "--store-dir", str(self.store),
                 "--port", str(self.port), "--log-level", "warning"],
                stdout=log, stderr=log, start_new_session=True)
        with self.client("cbs") as client:
            wait_until_healthy(client, self.process, self.log)

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def client(self, party: str) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.pki.ca))
        context.load_cert_chain(str(self.pki.pem[party]))
        return httpx.Client(base_url=self.url, verify=context, timeout=30)


@pytest.fixture
def hub_process(database_url: str, hub_pki: HubPki, tmp_path: Path):  # type: ignore[no-untyped-def]
    register_parties(database_url, hub_pki)
    hub = HubProcess(hub_pki, database_url, tmp_path / "store", tmp_path / "hub.log")
    hub.start()
    yield hub
    if hub.process is not None and hub.process.poll() is None:
        hub.kill()


@contextmanager
def _unfinished_patch(hub: HubProcess, url: str, offset: int, length: int,
                      sent: bytes) -> Iterator[ssl.SSLSocket]:
    """A raw PATCH that announces `length` bytes but sends only `sent`, left open (the socket
    is given, to send more)."""
    parts = urlsplit(hub.url)
    context = ssl.create_default_context(cafile=str(hub.pki.ca))
    context.load_cert_chain(str(hub.pki.pem["gemeente_a"]))
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as raw, \
            context.wrap_socket(raw, server_hostname=parts.hostname) as tls:
        tls.sendall((f"PATCH {url} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                     f"Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n"
                     "Content-Type: application/offset+octet-stream\r\n"
                     f"Content-Length: {length}\r\n\r\n").encode() + sent)
        yield tls


def test_sigkill_mid_upload_loses_nothing(hub_process: HubProcess) -> None:
    data = os.urandom(16_000_000)  # the hub writes in blocks of 4 MiB: several must land
    first = 1_000_000
    oin_cbs = hub_process.pki.oin["cbs"]
    with hub_process.client("gemeente_a") as gemeente:
        note = message_body(oin_cbs)  # an earlier, complete message
        assert gemeente.post("/api/v1/messages", json=note).status_code == 201
        body = message_body(oin_cbs, attachments=[attachment("groot.csv", data)])
        created = gemeente.post("/api/v1/messages", json=body).json()
        url = created["attachments"][0]["upload_url"]
        assert patch(gemeente, url, 0, data[:first]).status_code == 204  # confirmed

    # the second chunk is on its way (part of it written) when the hub is killed
    store_file = next((hub_process.store / "attachments").glob(f"*/{url.rsplit('/', 1)[1]}"))
    with _unfinished_patch(hub_process, url, first, len(data) - first,
                           data[first:first + 12_000_000]):
        for _ in range(100):  # until the hub has written unconfirmed bytes
            if store_file.stat().st_size > first:
                break
            time.sleep(0.05)
        assert store_file.stat().st_size > first
        hub_process.kill()

    hub_process.start()
    with hub_process.client("gemeente_a") as gemeente:
        head = gemeente.head(url, headers=TUS)
        assert head.headers["Upload-Offset"] == str(first)  # the confirmed offset, exactly
        assert store_file.stat().st_size == first  # unconfirmed bytes were cut off
        assert patch(gemeente, url, first, data[first:]).status_code == 204
    with hub_process.client("cbs") as cbs:
        inbox = cbs.get("/api/v1/messages").json()["messages"]
        assert [m["id"] for m in inbox] == [note["id"], body["id"]]
        assert cbs.get(inbox[1]["attachments"][0]["download_url"]).content == data


def test_sigkill_after_a_checkpoint_keeps_the_checkpointed_bytes(hub_process: HubProcess) -> None:
    """Within a long PATCH (no Upload-Checksum) the hub fsyncs and records its offset every
    64 MiB while it goes on receiving; a crash after such a checkpoint keeps exactly the
    checkpointed bytes, and the upload resumes from there."""
    data = os.urandom(90 * 1024 * 1024)
    first = 1_000_000
    oin_cbs = hub_process.pki.oin["cbs"]
    with hub_process.client("gemeente_a") as gemeente:
        body = message_body(oin_cbs, attachments=[attachment("groot.csv", data)])
        created = gemeente.post("/api/v1/messages", json=body).json()
        url = created["attachments"][0]["upload_url"]
        assert patch(gemeente, url, 0, data[:first], checksum=False).status_code == 204

        with _unfinished_patch(hub_process, url, first, len(data) - first,
                               data[first:first + 80 * 1024 * 1024]):
            recorded = first
            for _ in range(200):  # HEAD answers from the database while the PATCH goes on
                recorded = int(gemeente.head(url, headers=TUS).headers["Upload-Offset"])
                if recorded > first:
                    break
                time.sleep(0.05)
            assert recorded >= first + 64 * 1024 * 1024
            hub_process.kill()

    hub_process.start()
    store_file = next((hub_process.store / "attachments").glob(f"*/{url.rsplit('/', 1)[1]}"))
    with hub_process.client("gemeente_a") as gemeente:
        head = gemeente.head(url, headers=TUS)
        assert head.headers["Upload-Offset"] == str(recorded)
        assert store_file.stat().st_size == recorded
        assert store_file.read_bytes() == data[:recorded]  # fsync'ed before it was recorded
        assert patch(gemeente, url, recorded, data[recorded:], checksum=False).status_code == 204
    with hub_process.client("cbs") as cbs:
        message = cbs.get(f"/api/v1/messages/{body['id']}").json()
        assert message["state"] == "available"

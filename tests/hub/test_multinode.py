"""Several hub nodes on PostgreSQL and S3 object storage (SeaweedFS), as separate processes.

Two `ggk hub serve` processes with folders of their own share one PostgreSQL database, one
bucket and one receipt key: an upload moves between them, a message sent on one wakes a long
poll on the other (LISTEN/NOTIFY), both sign receipts alike, a node killed mid-upload or an S3
outage mid-transfer loses nothing that was confirmed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ggk.client import HubClient
from ggk.hub.objectstore import S3Store, part_size
from tests.hub.conftest import HubPki, StartHub, register_parties
from tests.hub.helpers import (
    TUS,
    attachment,
    message_body,
    patch,
    start_nginx,
    wait_until_healthy,
)
from tests.hub.test_crash import GGK, _unfinished_patch
from tests.objectstorage import BUCKET, SeaweedFS, free_ports

MIB = 1024 * 1024
CLUSTER_EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "ggk-hub-cluster.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def write_key(path: Path) -> Path:
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return path


class HubNode:
    """One `ggk hub serve` process of a multi-node hub."""

    def __init__(self, name: str, pki: HubPki, database_url: str, s3: SeaweedFS,
                 key: Path, folder: Path) -> None:
        self.name, self.pki, self.database_url, self.s3, self.key = name, pki, database_url, s3, key
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_ports(1)[0]
        self.url = f"https://127.0.0.1:{self.port}"
        self.log = folder / "hub.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [GGK, "hub", "serve", "--ca", str(self.pki.ca), "--cert",
                 str(self.pki.server_pem), "--database-url", self.database_url,
                 "--s3-endpoint", self.s3.endpoint, "--s3-bucket", BUCKET,
                 "--receipt-key", str(self.key), "--port", str(self.port),
                 "--trust-proxy-header", "X-SSL-Client-Cert", "--trusted-proxy", "127.0.0.1",
                 "--trusted-proxy-cert", str(self.pki.pem["stranger"]),  # nginx's own
                 "--log-level", "warning"],
                stdout=log, stderr=log, cwd=self.folder, start_new_session=True,
                env={**os.environ, **self.s3.environment})
        with self.client("cbs") as client:
            wait_until_healthy(client, self.process, self.log)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def client(self, party: str, timeout: float = 30) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.pki.ca))
        context.load_cert_chain(str(self.pki.pem[party]))
        return httpx.Client(base_url=self.url, verify=context, timeout=timeout)


@dataclass
class TwoHubs:
    a: HubNode
    b: HubNode
    pki: HubPki


@pytest.fixture
def two_hubs(postgres_url: str, hub_pki: HubPki, seaweedfs: SeaweedFS,
             tmp_path: Path) -> Iterator[TwoHubs]:
    register_parties(postgres_url, hub_pki)
    key = write_key(tmp_path / "receipt-key.pem")
    nodes = [HubNode(name, hub_pki, postgres_url, seaweedfs, key, tmp_path / name)
             for name in ("a", "b")]
    try:
        for node in nodes:
            node.start()
        yield TwoHubs(nodes[0], nodes[1], hub_pki)
    finally:
        for node in nodes:
            node.kill()


def _create(node: HubNode, data: bytes) -> tuple[dict[str, Any], str]:
    with node.client("gemeente_a") as gemeente:
        body = message_body(node.pki.oin["cbs"], attachments=[attachment("groot.csv", data)])
        created = gemeente.post("/api/v1/messages", json=body)
        assert created.status_code == 201, created.text
        return body, created.json()["attachments"][0]["upload_url"]


def _offset(node: HubNode, url: str) -> int:
    with node.client("gemeente_a") as gemeente:
        head = gemeente.head(url, headers=TUS)
        assert head.status_code == 200, head.text
        return int(head.headers["Upload-Offset"])


def _delivered(node: HubNode, body: dict[str, Any]) -> bytes:
    with node.client("cbs") as cbs:
        message = cbs.get(f"/api/v1/messages/{body['id']}").json()
        assert message["state"] == "available", message
        return cbs.get(message["attachments"][0]["download_url"]).content


def test_an_upload_started_on_one_node_is_resumed_on_the_other(two_hubs: TwoHubs) -> None:
    data = os.urandom(21 * MIB + 12345)  # three 8 MiB parts, the last one short
    body, url = _create(two_hubs.a, data)
    cuts = [0, 3 * MIB + 7, 13 * MIB + 1, 16 * MIB, len(data)]  # inside, across, on a boundary
    for number, (start, end) in enumerate(zip(cuts, cuts[1:], strict=False)):
        node = (two_hubs.a, two_hubs.b)[number % 2]
        assert _offset(node, url) == start
        with node.client("gemeente_a") as gemeente:
            answer = patch(gemeente, url, start, data[start:end], checksum=number == 1)
            assert answer.status_code == 204, answer.text
    assert _delivered(two_hubs.a, body) == data
    with two_hubs.b.client("cbs") as cbs:  # a Range read on the other node
        ranged = cbs.get(f"/api/v1/messages/{body['id']}/attachments/groot.csv",
                         headers={"Range": f"bytes={8 * MIB - 5}-{8 * MIB + 4}"})
        assert ranged.status_code == 206 and ranged.content == data[8 * MIB - 5:8 * MIB + 5]


def test_a_message_sent_on_one_node_wakes_a_long_poll_on_the_other(two_hubs: TwoHubs) -> None:
    """The poll waits 10 s, a third of the safety net's 30 s re-query: only NOTIFY can end it
    early with the message."""
    answers: list[dict[str, Any]] = []

    def long_poll() -> None:
        with two_hubs.b.client("cbs") as cbs:
            answers.append(cbs.get("/api/v1/messages", params={"wait": 10}).json())

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(1.5)  # the poll has looked once and waits
    body = message_body(two_hubs.pki.oin["cbs"], type="gmsd.bevestiging")
    with two_hubs.a.client("gemeente_a") as gemeente:
        assert gemeente.post("/api/v1/messages", json=body).status_code == 201
    poller.join(timeout=30)
    assert [m["id"] for m in answers[0]["messages"]] == [body["id"]]
    with two_hubs.b.client("cbs") as cbs:
        assert "ggk_hub_mailbox_listener_up 1.0" in cbs.get("/metrics").text


def test_both_nodes_sign_receipts_with_the_configured_key(two_hubs: TwoHubs) -> None:
    body = message_body(two_hubs.pki.oin["cbs"], type="gmsd.bevestiging")
    with two_hubs.a.client("gemeente_a") as gemeente:
        assert gemeente.post("/api/v1/messages", json=body).status_code == 201
    keys = []
    for node in (two_hubs.a, two_hubs.b):
        with HubClient(node.url, two_hubs.pki.pem["gemeente_a"], two_hubs.pki.ca) as client:
            receipt = client.receipt(body["id"])
            assert receipt.message_id == body["id"]
            keys.append((receipt.hub_key_id, client.hub_keys()))
    assert keys[0] == keys[1]


def test_a_node_killed_mid_upload_loses_nothing_and_the_other_resumes(two_hubs: TwoHubs) -> None:
    data = os.urandom(20 * MIB)
    body, url = _create(two_hubs.a, data)
    first = 5 * MIB + 3  # confirmed: a part not yet full, kept as its tail object
    with two_hubs.a.client("gemeente_a") as gemeente:
        assert patch(gemeente, url, 0, data[:first], checksum=False).status_code == 204
    node_a = two_hubs.a
    with _unfinished_patch(node_a, url, first, len(data) - first,  # type: ignore[arg-type]
                           data[first:first + 12 * MIB]):
        time.sleep(1.0)  # part 1 (8 MiB) is full and uploaded, nothing more recorded
        node_a.kill()
    # the dead node's lock went with its database connection: the other node may write
    assert _offset(two_hubs.b, url) == first
    with two_hubs.b.client("gemeente_a") as gemeente:
        answer = patch(gemeente, url, first, data[first:], checksum=False)
        assert answer.status_code == 204, answer.text
    assert _delivered(two_hubs.b, body) == data


def test_an_upload_resumes_after_the_s3_server_went_down_mid_transfer(
        two_hubs: TwoHubs, seaweedfs: SeaweedFS) -> None:
    """S3 stops while a PATCH is under way (the hub holds the part being filled and has to send
    it) and comes back: the upload resumes, on the other node, from what was recorded."""
    data = os.urandom(18 * MIB)
    body, url = _create(two_hubs.a, data)
    first = 4 * MIB + 11
    with two_hubs.a.client("gemeente_a") as gemeente:
        assert patch(gemeente, url, 0, data[:first], checksum=False).status_code == 204
    try:
        with _unfinished_patch(two_hubs.a, url, first, len(data) - first,  # type: ignore[arg-type]
                               data[first:first + 2 * MIB]) as tls:
            time.sleep(0.5)  # the writer is open, part 1 is filling
            seaweedfs.stop()
            with contextlib.suppress(OSError):  # crosses part 1's end: the hub must send it
                tls.sendall(data[first + 2 * MIB:first + 6 * MIB])
            time.sleep(1.0)
    finally:
        seaweedfs.start()
    # the first node may still be retrying S3 and hold the upload (423) or, once S3 is back,
    # keep what arrived before the connection closed: resume from whatever HEAD says
    deadline = time.monotonic() + 120
    while True:
        offset = _offset(two_hubs.b, url)
        with two_hubs.b.client("gemeente_a") as gemeente:
            answer = patch(gemeente, url, offset, data[offset:], checksum=False)
        if answer.status_code == 204:
            break
        assert answer.status_code in (409, 423), answer.text
        assert time.monotonic() < deadline, answer.text
        time.sleep(1.0)
    assert _delivered(two_hubs.a, body) == data


def test_the_s3_store_keeps_exactly_the_recorded_bytes(seaweedfs: SeaweedFS) -> None:
    """The store alone, on the real S3 server: a writer that wrote beyond the last synced
    offset (a part uploaded, never recorded) and a fresh store (another node) that opens at the
    synced offset end up with exactly the bytes written from there."""
    data = os.urandom(17 * MIB + 99)
    part = part_size(len(data))
    store = S3Store(seaweedfs.client(), BUCKET)
    upload_id = os.urandom(16).hex()
    store.create(upload_id, len(data))
    writer = store.open_at(upload_id, 0, len(data))
    writer.write([data[:3 * MIB], data[3 * MIB:part + 10]])
    store.sync(writer, 3 * MIB)  # checkpoint behind a part already uploaded
    writer.close()
    other = S3Store(seaweedfs.client(), BUCKET)
    resumed = other.open_at(upload_id, 3 * MIB, len(data))
    resumed.write([data[3 * MIB:12 * MIB]])
    resumed.truncate(10 * MIB)  # a chunk refused: back to its start, inside part 2
    resumed.write([data[10 * MIB:]])
    other.sync(resumed, len(data))
    # a node that died between recording the last offset and completing: opens at the end
    other.open_at(upload_id, len(data), len(data)).close()
    other.complete(upload_id, len(data))
    other.complete(upload_id, len(data))  # idempotent
    assert other.size(upload_id) == len(data)
    assert b"".join(store.read_range(upload_id, part - 3, part + 3, MIB)) == \
        data[part - 3:part + 3]
    assert b"".join(store.read_range(upload_id, 0, len(data), 4 * MIB)) == data
    store.delete(upload_id)
    assert store.size(upload_id) == 0


def test_a_multi_node_hub_refuses_to_start_without_a_receipt_key(tmp_path: Path,
                                                                 hub_pki: HubPki) -> None:
    result = subprocess.run(
        [GGK, "hub", "serve", "--ca", str(hub_pki.ca), "--cert", str(hub_pki.server_pem),
         "--data-dir", str(tmp_path / "hub"), "--multi-node"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--receipt-key" in result.stderr


def test_two_nodes_behind_the_nginx_example(two_hubs: TwoHubs, tmp_path: Path) -> None:
    """deploy/nginx/ggk-hub-cluster.conf with a real nginx in front of both nodes: nginx spreads
    the requests (round robin), so an upload's PATCHes and the long polls land on either node."""
    assert Path(NGINX).exists(), "nginx is missing: make system-deps"
    port = free_ports(1)[0]
    pki = two_hubs.pki
    config = (CLUSTER_EXAMPLE.read_text()
              .replace("10.0.1.11:8443", f"127.0.0.1:{two_hubs.a.port}")
              .replace("10.0.1.12:8443", f"127.0.0.1:{two_hubs.b.port}")
              .replace("listen 443 ssl", f"listen 127.0.0.1:{port} ssl")
              .replace("/etc/ggk/hub.pem", str(pki.server_pem))
              .replace("/etc/ggk/ca.pem", str(pki.ca))
              .replace("/etc/ggk/proxy.pem", str(pki.pem["stranger"])))  # a non-party cert
    nginx = start_nginx(NGINX, config, tmp_path)
    proxy = HubNode("nginx", pki, "", two_hubs.a.s3, two_hubs.a.key, tmp_path / "proxy")
    proxy.url = f"https://127.0.0.1:{port}"
    try:
        with proxy.client("cbs") as cbs:
            for _ in range(100):
                try:
                    if cbs.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    assert nginx.poll() is None, nginx.stderr.read().decode()  # type: ignore[union-attr]
                    time.sleep(0.05)
        data = os.urandom(11 * MIB + 5)
        body, url = _create(proxy, data)
        offset = 0
        for end in (2 * MIB, 9 * MIB + 1, len(data)):  # three PATCHes, spread over the nodes
            assert _offset(proxy, url) == offset
            with proxy.client("gemeente_a") as gemeente:
                answer = patch(gemeente, url, offset, data[offset:end], checksum=False)
                assert answer.status_code == 204, answer.text
            offset = end
        assert _delivered(proxy, body) == data
        with proxy.client("cbs") as cbs:
            inbox = cbs.get("/api/v1/messages", params={"wait": 5}).json()["messages"]
            assert [m["id"] for m in inbox] == [body["id"]]
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)


def test_one_node_on_s3_with_either_database(start_hub: StartHub, seaweedfs: SeaweedFS,
                                             tmp_path: Path) -> None:
    """S3 storage also under the embedded database (SQLite: uploads locked within the process)
    and on PostgreSQL: a chunked upload across a part boundary, whole and Range downloads."""
    seaweedfs.client()  # puts the AWS_* variables of the test server into this process
    hub = start_hub(s3_endpoint_url=seaweedfs.endpoint, s3_bucket=BUCKET,
                    receipt_key_file=write_key(tmp_path / "key.pem"))
    data = os.urandom(9 * MIB + 3)
    gemeente = hub.client("gemeente_a")
    body = message_body(hub.oin["cbs"], attachments=[attachment("groot.csv", data)])
    url = gemeente.post("/api/v1/messages", json=body).json()["attachments"][0]["upload_url"]
    for start, end in ((0, MIB), (MIB, 8 * MIB + 1), (8 * MIB + 1, len(data))):
        answer = patch(gemeente, url, start, data[start:end])
        assert answer.status_code == 204, answer.text
    cbs = hub.client("cbs")
    download = f"/api/v1/messages/{body['id']}/attachments/groot.csv"
    assert cbs.get(download).content == data
    tail = cbs.get(download, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]


def test_a_node_listens_again_after_its_postgresql_connection_was_cut(
        two_hubs: TwoHubs, postgres_url: str) -> None:
    """The listening connection is terminated by PostgreSQL (a restart, a failover): the node
    reconnects, and long polls are woken across nodes again."""
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        cut = conn.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN %'")).scalar_one()
    engine.dispose()
    assert cut == 2  # one listener per node
    deadline = time.monotonic() + 30
    with two_hubs.b.client("cbs") as cbs:
        while "ggk_hub_mailbox_listener_up 1.0" not in cbs.get("/metrics").text:
            assert time.monotonic() < deadline, "node b never listened again"
            time.sleep(0.2)
    test_a_message_sent_on_one_node_wakes_a_long_poll_on_the_other(two_hubs)

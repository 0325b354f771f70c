"""Resumable transfers over a line that breaks: a loopback proxy cuts the TCP connection."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from ggk.client import HubClient, RetryPolicy, TransferFailed
from ggk.client.range_download import partial_path
from tests.client.conftest import CBS_OIN, RunningHub
from tests.client.cutting_proxy import CuttingProxy

MIB = 1024 * 1024
FAST_RETRY = RetryPolicy(retries=3, backoff=0.05, max_backoff=0.2)


@pytest.fixture
def payload(tmp_path: Path) -> Path:
    path = tmp_path / "groot.bin"
    path.write_bytes(os.urandom(6 * MIB + 123))
    return path


def _send(hub: RunningHub, payload: Path) -> str:
    with HubClient(hub.url, hub.gemeente, hub.ca) as gemeente:
        return gemeente.send(CBS_OIN, "gmsd.aanlevering", {}, [payload]).id


def test_upload_resumes_after_connection_cut_midway(
    hub_on_each_database: RunningHub, payload: Path, tmp_path: Path
) -> None:
    hub = hub_on_each_database
    with CuttingProxy(hub.port, direction="up", cut_after=3 * MIB) as proxy:
        with HubClient(proxy.url, hub.gemeente, hub.ca, chunk_size=MIB, retry=FAST_RETRY) as g:
            sent = g.send(CBS_OIN, "gmsd.aanlevering", {}, [payload])
        assert proxy.cuts_done == 1
    assert sent.state == "available"
    with HubClient(hub.url, hub.cbs, hub.ca) as cbs:
        result = cbs.download(sent.id, payload.name, tmp_path / "back.bin")
    assert result.path.read_bytes() == payload.read_bytes()


def test_upload_gives_up_after_bounded_retries_and_the_same_send_resumes(
    hub: RunningHub, payload: Path
) -> None:
    message_id = str(uuid.uuid4())
    with CuttingProxy(hub.port, direction="up", cut_after=512 * 1024, cuts=100) as proxy:
        with HubClient(proxy.url, hub.gemeente, hub.ca, chunk_size=MIB, retry=FAST_RETRY) as g:
            with pytest.raises(TransferFailed, match="run the same send again"):
                g.send(CBS_OIN, "gmsd.aanlevering", {}, [payload], id=message_id)
    with HubClient(hub.url, hub.gemeente, hub.ca) as gemeente:
        unfinished = gemeente.message(message_id)
        assert unfinished.state == "accepted"
        upload_url = unfinished.attachments[0].upload_url
        assert upload_url is not None
        head = gemeente.transport.request("HEAD", upload_url, headers={"Tus-Resumable": "1.0.0"})
        assert int(head.headers["Upload-Offset"]) < payload.stat().st_size
        done = gemeente.send(CBS_OIN, "gmsd.aanlevering", {}, [payload], id=message_id)
    assert done.state == "available"


def test_download_resumes_after_connection_cut_midway(
    hub: RunningHub, payload: Path, tmp_path: Path
) -> None:
    message_id = _send(hub, payload)
    with CuttingProxy(hub.port, direction="down", cut_after=2 * MIB) as proxy:
        with HubClient(proxy.url, hub.cbs, hub.ca, retry=FAST_RETRY) as cbs:
            result = cbs.download(message_id, payload.name, tmp_path / "out.bin")
        assert proxy.cuts_done == 1
    assert result.attempts == 2
    assert 0 < result.resumed_from < payload.stat().st_size
    assert result.path.read_bytes() == payload.read_bytes()
    assert not partial_path(result.path).exists()


def test_download_continues_a_partial_file(hub: RunningHub, payload: Path, tmp_path: Path) -> None:
    message_id = _send(hub, payload)
    dest = tmp_path / "out.bin"
    half = payload.stat().st_size // 2
    partial_path(dest).write_bytes(payload.read_bytes()[:half])
    with HubClient(hub.url, hub.cbs, hub.ca) as cbs:
        result = cbs.download(message_id, payload.name, dest)
    assert (result.resumed_from, result.attempts) == (half, 1)
    assert dest.read_bytes() == payload.read_bytes()


def test_download_starts_over_when_the_partial_file_is_wrong(
    hub: RunningHub, payload: Path, tmp_path: Path
) -> None:
    message_id = _send(hub, payload)
    dest = tmp_path / "out.bin"
    partial_path(dest).write_bytes(b"\x00" * MIB)  # not the attachment's first bytes
    with HubClient(hub.url, hub.cbs, hub.ca) as cbs:
        result = cbs.download(message_id, payload.name, dest)
    assert (result.resumed_from, result.attempts) == (0, 2)
    assert dest.read_bytes() == payload.read_bytes()

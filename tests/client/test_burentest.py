"""Burentest: passes against a ping responder in both directions; fails clearly without one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ggk.client import HubClient
from ggk.client.burentest import run_burentest
from ggk.client.ping_responder import respond_to_pings
from tests.client.conftest import CBS_OIN, RunningHub


@contextmanager
def responder(hub: RunningHub, cert: Path) -> Iterator[None]:
    """A ping responder thread for the party of `cert` (like `ggk answer-pings`)."""
    stop = threading.Event()
    client = HubClient(hub.url, cert, hub.ca)
    thread = threading.Thread(
        target=respond_to_pings, args=(client,), kwargs={"stop": stop, "poll_wait": 1}
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
        client.close()


@pytest.fixture
def cbs_responder(hub: RunningHub) -> Iterator[None]:
    with responder(hub, hub.cbs):
        yield


def test_burentest_passes_both_directions(hub: RunningHub, cbs_responder: object) -> None:
    report = run_burentest(hub.url, hub.gemeente, hub.ca, CBS_OIN, timeout=20)
    by_name = {c.name: c for c in report.checks}
    assert report.passed, [(c.name, c.status, c.detail) for c in report.checks]
    assert by_name["TLS handshake"].detail.startswith("TLSv1.")
    forward = by_name["you -> peer -> you (your ping, peer's pong)"]
    backward = by_name["peer -> you -> peer (peer's ping, your pong)"]
    assert forward.status == backward.status == "ok"
    assert forward.seconds is not None and backward.seconds is not None
    with HubClient(hub.url, hub.gemeente, hub.ca) as gemeente:
        assert gemeente.mailbox().messages == ()  # pong and ping-back consumed


def test_burentest_passes_while_our_own_client_also_answers_pings(
    hub: RunningHub, cbs_responder: object
) -> None:
    """A gemeente whose own client answers pings (e.g. a running station) may answer the peer's
    ping back before the burentest sees it; the test still finds our pong by its derived id."""
    with responder(hub, hub.gemeente):
        report = run_burentest(hub.url, hub.gemeente, hub.ca, CBS_OIN, timeout=20)
    assert report.passed, [(c.name, c.status, c.detail) for c in report.checks]


def test_burentest_fails_clearly_when_the_peer_does_not_answer(hub: RunningHub) -> None:
    report = run_burentest(hub.url, hub.gemeente, hub.ca, CBS_OIN, timeout=3)
    assert not report.passed
    failed = {c.name: c.detail for c in report.checks if c.status == "failed"}
    assert (
        "the peer did not fetch your ping within 3 s"
        in failed["you -> peer -> you (your ping, peer's pong)"]
    )
    assert "did not ping back within 3 s" in failed["peer -> you -> peer (peer's ping, your pong)"]
    assert {c.status for c in report.checks if "certificate" in c.name} == {"ok"}


def test_burentest_reports_an_unknown_peer(hub: RunningHub) -> None:
    report = run_burentest(hub.url, hub.cbs, hub.ca, "00000099000000009999", timeout=3)
    assert [c.detail for c in report.checks if c.status == "failed"] == [
        "peer 00000099000000009999 is unknown to the hub"
    ]

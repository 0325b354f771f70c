"""Idle long polls on PostgreSQL ask the database nothing (issue 14: under 50 queries/s with
2,000 waiting parties): a mailbox known empty since the listener connected is answered from the
process's own view, the caller's party from a cache that a party change (NOTIFY) clears; a change
without a notification is still found by the one batched safety-net query.

Counted, not timed: every connection the hub's engine hands out (pool checkouts; each is a
transaction, and with `pool_pre_ping` a `SELECT 1` besides).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from ggk.hub.context import HubContext
from ggk.hub.database import create_engine
from ggk.hub.parties import PartyRegistry
from tests.hub.conftest import RunningHub, StartHub
from tests.hub.helpers import attachment, message_body

IDLE = ("cbs", "gemeente_a", "gemeente_b", "operator")


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """PostgreSQL only: SQLite has no NOTIFY and keeps its 0.5 s re-query."""
    return postgres_url


def _context(hub: RunningHub) -> HubContext:
    context: HubContext = hub.server.app.state.hub
    assert context.listener is not None and context.listener.listening.wait(20)
    return context


class Checkouts:
    """Counts the connections the hub's engine hands out."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        self.engine = engine
        sa.event.listen(engine, "checkout", self._checkout)

    def _checkout(self, *_args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        sa.event.remove(self.engine, "checkout", self._checkout)


@pytest.fixture
def quiet_hub(start_hub: StartHub) -> Iterator[tuple[RunningHub, HubContext, Checkouts]]:
    # no expiry sweep during the test; the safety net only when a test asks for it
    hub = start_hub(expiry_sweep_seconds=3600, long_poll_safety_interval=3600)
    context = _context(hub)
    checkouts = Checkouts(context.engine)
    yield hub, context, checkouts
    checkouts.close()


def _poll(hub: RunningHub, name: str, wait: float, after: int | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"wait": wait}
    if after is not None:
        params["after"] = after
    answer = hub.client(name).get("/api/v1/messages", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_idle_long_polls_ask_the_database_nothing_after_the_first_look(
        quiet_hub: tuple[RunningHub, HubContext, Checkouts]) -> None:
    hub, _context, checkouts = quiet_hub
    for name in IDLE:  # the first look of each party asks (and reads the party once)
        assert _poll(hub, name, wait=0.2)["messages"] == []
    first = checkouts.count
    assert first >= len(IDLE)
    for _round in range(3):
        for name in IDLE:
            assert _poll(hub, name, wait=0.3)["messages"] == []
    assert checkouts.count == first  # twelve idle polls, not one query
    # a message (NOTIFY) makes the receiver's next poll look again, and find it
    body = message_body(hub.oin["cbs"], type="gmsd.bevestiging")
    assert hub.client("gemeente_a").post("/api/v1/messages", json=body).status_code == 201
    deadline = time.monotonic() + 20
    while not (found := _poll(hub, "cbs", wait=1)["messages"]):
        assert time.monotonic() < deadline, "the message never reached the idle poll"
    assert [m["id"] for m in found] == [body["id"]]


def test_a_change_whose_notification_was_lost_is_found_by_the_safety_net(
        start_hub: StartHub) -> None:
    """A message made available without NOTIFY (here by hand in SQL, as a notification lost
    while the listener reconnects would be): the poll's own view says empty, and only the
    batched safety-net query (every second here) can end the poll with the message."""
    hub = start_hub(expiry_sweep_seconds=3600, long_poll_safety_interval=1.0)
    context = _context(hub)
    body = message_body(hub.oin["cbs"], attachments=[attachment("a.csv", b"a;b\n")])
    assert hub.client("gemeente_a").post("/api/v1/messages", json=body).status_code == 201
    assert _poll(hub, "cbs", wait=0.2)["messages"] == []  # waiting for its attachment
    assert context.notifier.known_empty(hub.oin["cbs"], ("inbox", None), None)
    with context.engine.begin() as conn:  # no NOTIFY: the hub is not told
        conn.execute(sa.text(
            "UPDATE hub_message SET state = 'available', available_at = now(), "
            "cursor = 1000000, change_cursor = 1000000 WHERE id = :id"), {"id": body["id"]})
    answer = _poll(hub, "cbs", wait=20)
    assert [m["id"] for m in answer["messages"]] == [body["id"]]


def test_a_party_revoked_by_another_process_is_refused_despite_the_cache(
        quiet_hub: tuple[RunningHub, HubContext, Checkouts], database_url: str) -> None:
    hub, context, _checkouts = quiet_hub
    assert _poll(hub, "gemeente_b", wait=0.2)["messages"] == []
    assert context.registry.cached(hub.oin["gemeente_b"])
    engine = create_engine(database_url)  # as `ggk party revoke` does, in its own process
    try:
        PartyRegistry(engine).revoke(hub.oin["gemeente_b"])
    finally:
        engine.dispose()
    deadline = time.monotonic() + 20
    while (answer := hub.client("gemeente_b").get(
            "/api/v1/messages", params={"wait": 0.2})).status_code == 200:
        assert time.monotonic() < deadline, "the revocation never reached the cache"
    assert answer.status_code == 403 and answer.json()["code"] == "party-revoked"


def test_a_lost_listener_connection_forgets_every_known_mailbox(
        quiet_hub: tuple[RunningHub, HubContext, Checkouts], database_url: str) -> None:
    """Notifications sent while the listener is away are lost: what the process knew of
    mailboxes and parties is forgotten, and the next polls look in the database again."""
    hub, context, checkouts = quiet_hub
    assert _poll(hub, "cbs", wait=0.2)["messages"] == []
    assert context.notifier.known_empty_mailboxes()
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            cut = conn.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN %'")).scalar_one()
    finally:
        engine.dispose()
    assert cut == 1
    deadline = time.monotonic() + 20
    while context.notifier.known_empty_mailboxes() or context.registry.cached(hub.oin["cbs"]):
        assert time.monotonic() < deadline, "the lost connection was never noticed"
        time.sleep(0.1)
    assert context.listener is not None and context.listener.listening.wait(20)
    before = checkouts.count
    assert _poll(hub, "cbs", wait=0.2)["messages"] == []
    assert checkouts.count > before

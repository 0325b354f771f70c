"""One bad message never stops the station's queue (issue 10 finding 1): a party that takes the
id of a reply before the station sends it, or a sender revoked before its answer goes out, gets a
bounded number of attempts with back-off and then a dead letter the operator sees, while every
other message is handled. Real hub, real TLS, real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
import uuid

import pytest
from typer.testing import CliRunner

from ggk.cli import app
from ggk.client import HubClient
from ggk.client.hub_client import reply_id as client_reply_id
from ggk.conversation import PING, AanleveringMetadata, Kind, message_type
from ggk.hub.database import create_engine as create_hub_engine
from ggk.hub.parties import PartyRegistry
from ggk.station import StationSettings
from ggk.station.failures import FailureBook
from tests.station.conftest import PERIOD, STATISTIC, StationWorld, gen

OLD_REPLY_NAMESPACE = uuid.UUID("6f1d3c52-7a0e-4d4b-9a57-2b1f0c8e5a11")  # before: public
ATTEMPTS = 3


class Seen:
    """Follows the station's events (what a metrics layer sees)."""

    def __init__(self) -> None:
        self.handled: list[tuple[str, str]] = []
        self.failed: list[tuple[str, int, bool]] = []

    def message_handled(self, message_type: str, outcome: str, seconds: float) -> None:
        self.handled.append((message_type, outcome))

    def message_failed(self, message_type: str, attempts: int, dead: bool) -> None:
        self.failed.append((message_type, attempts, dead))

    def mirror_sent(self, statistic: str, seconds: float) -> None:
        pass

    def mailbox_read(self, messages: object) -> None:
        pass

    def mailbox_failed(self, error: BaseException) -> None:
        pass


def _station_with_fast_retries(world: StationWorld) -> Seen:
    world.station.close()
    seen = Seen()
    world.station = world.make_station(events=seen, max_attempts=ATTEMPTS, retry_seconds=0)
    return seen


def _failures(world: StationWorld, message_id: str) -> tuple[int, bool]:
    failure = FailureBook(world.station.engine, ATTEMPTS, 0).of([message_id])[message_id]
    return failure.attempts, failure.dead


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_taken_reply_id_stops_nothing_and_a_poison_ping_is_a_dead_letter(
        world: StationWorld) -> None:
    seen = _station_with_fast_retries(world)
    attacker = world.gemeente["gemeente_a"]
    cbs, b_oin = world.hub.oin["cbs"], world.hub.oin["gemeente_b"]
    # the attacker takes the id of the ping-back the station's client will send to its next ping
    # (the pong's id it cannot compute: see tests/client/test_pong_ids.py)
    ping_id = str(uuid.uuid4())
    attacker.send(b_oin, PING, {"sent_at": time.time(), "ping_back": False},
                  id=client_reply_id("ping-back", ping_id))
    ping = attacker.send(cbs, PING, {"sent_at": time.time(), "ping_back": True}, id=ping_id)
    # ... and the id the station's report to its own delivery had before (uuid5, public)
    path = gen(world.definition, world.tmp, "GM0363", 30, seed=3)
    delivery_id = str(uuid.uuid4())
    report_type = message_type(STATISTIC, Kind.TECHNISCH_CONTROLERAPPORT)
    attacker.send(b_oin, PING, {"sent_at": time.time(), "ping_back": False},
                  id=str(uuid.uuid5(OLD_REPLY_NAMESPACE, f"{delivery_id}/{report_type}")))
    own = attacker.send(cbs, message_type(STATISTIC, Kind.AANLEVERING), AanleveringMetadata(
        STATISTIC, PERIOD, "basis", "GM0363", path.name).as_metadata(), [path], id=delivery_id)
    # a ping that cannot be answered: its sender is revoked before the station gets to it
    with HubClient(world.hub.base_url, cert=world.hub.pem["operator"], ca=world.hub.ca) as gone:
        poison = gone.send(cbs, PING, {"sent_at": time.time(), "ping_back": False})
    engine = create_hub_engine(world.database_url)
    try:
        PartyRegistry(engine).revoke(world.hub.oin["operator"])
    finally:
        engine.dispose()
    # behind them on the same page: another municipality's delivery
    theirs = world.deliver("gemeente_b", gen(world.definition, world.tmp, "GM0599", 30, seed=4))

    world.station.run_once()
    assert world.report("gemeente_b", theirs)["verdict"] == "goedgekeurd"
    assert world.report("gemeente_a", own)["verdict"] == "goedgekeurd"  # its id was not taken
    # the hub treats a taken id as free for the next sender (issue 10): the ping is answered
    assert world.cbs.message(ping.id).state == "acknowledged"
    assert ping.id not in FailureBook(world.station.engine, ATTEMPTS, 0).of([ping.id])
    assert _failures(world, poison.id) == (1, False)
    for _ in range(ATTEMPTS):
        world.station.run_once()
    assert _failures(world, poison.id) == (ATTEMPTS, True)  # tried 3 times, then given up
    assert seen.failed == [(PING, 1, False), (PING, 2, False), (PING, 3, True)]
    # both deliveries, and the ping whose reply id was taken (answered all the same)
    assert sorted(outcome for _, outcome in seen.handled) == ["goedgekeurd", "goedgekeurd",
                                                              "pong"]
    assert world.cbs.message(poison.id).state != "acknowledged"

    where = ["--database-url", world.database_url, "--store-dir", str(world.tmp / "station-store")]
    out = _cli("station", "status", *where, "--period", PERIOD)
    assert "dead letters (1)" in out and poison.id in out
    assert "released 1" in _cli("station", "retry", *where, "--message", poison.id)
    world.station.run_once()
    assert _failures(world, poison.id) == (1, False)  # tried again after the release


def test_a_sender_revoked_before_its_answer_is_a_dead_letter(world: StationWorld) -> None:
    _station_with_fast_retries(world)
    gone = world.besluit("gemeente_b", "opt-in")
    engine = create_hub_engine(world.database_url)
    try:
        PartyRegistry(engine).revoke(world.hub.oin["gemeente_b"])
    finally:
        engine.dispose()
    sent = world.deliver("gemeente_a", gen(world.definition, world.tmp, "GM0363", 30, seed=5))
    for _ in range(ATTEMPTS + 1):
        world.station.run_once()
    assert world.report("gemeente_a", sent)["verdict"] == "goedgekeurd"
    assert _failures(world, gone.id) == (ATTEMPTS, True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_back_off_doubles_per_attempt(world: StationWorld) -> None:
    book = FailureBook(world.station.engine, max_attempts=5, retry_seconds=10)
    message = world.besluit("gemeente_a", "opt-in")
    import datetime as dt

    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    waits = []
    for attempt in range(1, 6):
        failure = book.failed(message, RuntimeError("hub said 409 for 999999999"), now)
        waits.append((failure.next_attempt_at - now).total_seconds())
        assert failure.attempts == attempt and failure.dead == (attempt == 5)
        assert failure.waits(now) and "999999999" not in failure.last_error
    assert waits == [10, 20, 40, 80, 160]
    book.succeeded(message.id)
    assert book.of([message.id]) == {}
    assert StationSettings().max_attempts > 1

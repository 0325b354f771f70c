"""Two stations on separate folders: a delivery that takes longer than the claim lease is still
handled exactly once (the heartbeat keeps the claim; fencing would refuse a second decision)."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from ggk.client import HubClient
from ggk.station import Station, StationSettings
from ggk.station import tables as t
from tests.station.conftest import StationWorld, gen


def _station(world: StationWorld, folder: str, client: HubClient) -> Station:
    settings = StationSettings(database_url=world.database_url, store_dir=world.tmp / folder,
                               pseudonym_key=world.tmp / "keys" / "pseudonym.key",
                               poll_wait=0.5, claim_lease_seconds=0.5)
    station = Station(settings, client, world.clock)
    station.mirror = None  # not the point here
    return station


def test_a_slow_delivery_outlives_the_lease_and_is_handled_once(
        world: StationWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = world.deliver("gemeente_a", gen(world.definition, world.tmp, "GM0363", 50))
    other_client = HubClient(world.hub.base_url, cert=world.hub.pem["cbs"], ca=world.hub.ca)
    slow = _station(world, "store-a", world.cbs)
    other = _station(world, "store-b", other_client)
    message = next(m for m in world.cbs.mailbox().messages if m.id == sent.id)
    # the first station pauses 2.5 s after its download: five leases of 0.5 s
    monkeypatch.setenv("GGK_STATION_CHECKPOINT", "download:2.5")
    outcome: list[str | None] = []
    worker = threading.Thread(target=lambda: outcome.append(slow.handle(message)))
    try:
        worker.start()
        time.sleep(1.5)  # three leases later the claim is still held, renewed by the heartbeat
        assert worker.is_alive()
        assert other.handle(message) is None
        worker.join(60)
    finally:
        other_client.close()
        other.close()
        slow.close()
    assert outcome and outcome[0] is not None
    rapporten = [m for m in world.replies("gemeente_a", sent)
                 if m.type == "gmsd.technisch-controlerapport"]
    assert len(rapporten) == 1
    with world.station.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.deliveries)).scalar() == 1
    assert not (world.tmp / "store-b" / "replies").exists()  # the other never wrote a reply

"""A real hub (tests/hub/conftest.py, SQLite and PostgreSQL) and station with five pilot-sized
municipalities that deliver, decide and get published."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ggk.client import HubClient, Message
from ggk.definitions import Definition, shipped
from ggk.hub.database import create_engine
from ggk.hub.parties import PartyRegistry
from ggk.pki import issue_party_cert, make_test_oin
from ggk.station import SimulatedClock, Station, StationSettings
from tests.hub.conftest import HubPki, StartHub, hub_pki, start_hub  # noqa: F401

PERIOD = "2026-H1"
# code -> rows of its basis file; GM0014 is small so that some cells fall below 10
GEMEENTEN = {"GM0014": 60, "GM0072": 700, "GM0397": 500, "GM1900": 400, "GM0106": 300}


@dataclass
class PublicationWorld:
    tmp: Path
    clock: SimulatedClock
    cbs_oin: str
    clients: dict[str, HubClient]
    station: Station
    definition: Definition

    def at(self, day: str) -> None:
        self.clock.set(dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=dt.UTC))

    def deliver(self, code: str, rows: int, seed: int) -> Message:
        from ggk.testdata import generate

        path = generate(self.definition, "basis", code, PERIOD, rows=rows, seed=seed,
                        out=self.tmp / "files" / f"{code}-{seed}").path
        metadata = {"statistic": "gmsd", "period": PERIOD, "dataset": "basis", "gemeente": code,
                    "file_name": path.name}
        return self.clients[code].send(self.cbs_oin, "gmsd.aanlevering", metadata, [path])

    def besluit(self, code: str, besluit: str) -> Message:
        return self.clients[code].send(self.cbs_oin, "gmsd.besluit",
                                       {"statistic": "gmsd", "period": PERIOD, "besluit": besluit})

    def run(self) -> None:
        while self.station.run_once():
            pass

    @property
    def publications(self) -> Path:
        return self.station.settings.resolved_publication_dir()


@contextmanager
def publication_world(database_url: str, hub_pki: HubPki, start_hub: StartHub,  # noqa: F811
                      tmp_path: Path) -> Iterator[PublicationWorld]:
    """A hub with the five municipalities registered, and a station (no spiegelrapporten)."""
    pems = {}
    engine = create_engine(database_url)
    try:
        registry = PartyRegistry(engine)
        for code in GEMEENTEN:
            pems[code] = tmp_path / f"{code}.pem"
            pems[code].write_bytes(issue_party_cert(
                hub_pki.directory / "ca", make_test_oin(int(code[2:]) + 20000),
                f"Gemeente {code}", role="gemeente", gemeentecode=code))
            registry.add(pems[code])
    finally:
        engine.dispose()
    hub = start_hub(long_poll_interval=0.2)
    clock = SimulatedClock(dt.datetime(2026, 9, 1, 10, tzinfo=dt.UTC))
    cbs = HubClient(hub.base_url, cert=hub.pem["cbs"], ca=hub.ca)
    clients = {code: HubClient(hub.base_url, cert=pem, ca=hub.ca) for code, pem in pems.items()}
    settings = StationSettings(database_url=database_url, store_dir=tmp_path / "station-store",
                               pseudonym_key=tmp_path / "keys" / "pseudonym.key", poll_wait=0.5,
                               mirror_workers=0)
    station = Station(settings, cbs, clock)
    station.mirror = None  # spiegelrapporten are not what is tested here (the pilot makes them)
    try:
        yield PublicationWorld(tmp_path, clock, hub.oin["cbs"], clients, station,
                               shipped().for_period("gmsd", PERIOD))
    finally:
        station.close()
        for client in (cbs, *clients.values()):
            client.close()


@pytest.fixture
def world(database_url: str, hub_pki: HubPki, start_hub: StartHub,  # noqa: F811
          tmp_path: Path) -> Iterator[PublicationWorld]:
    with publication_world(database_url, hub_pki, start_hub, tmp_path) as made:
        yield made

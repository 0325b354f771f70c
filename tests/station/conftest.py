"""Station fixtures: a real hub (tests/hub/conftest.py) on SQLite and PostgreSQL, the station on
the same database (its own tables), HubClients for CBS and two gemeenten, a simulated clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ggk.client import HubClient, Message
from ggk.conversation import AanleveringMetadata, BesluitMetadata, Kind, message_type
from ggk.definitions import Definition, shipped
from ggk.station import SimulatedClock, Station, StationSettings
from tests.hub.conftest import RunningHub, hub_pki, running_hub, start_hub  # noqa: F401

PERIOD = "2026-H1"
STATISTIC = "gmsd"


@dataclass
class StationWorld:
    hub: RunningHub
    database_url: str
    tmp: Path
    clock: SimulatedClock
    cbs: HubClient
    gemeente: dict[str, HubClient]
    station: Station
    definition: Definition
    _seen: dict[str, list[Message]] = field(default_factory=dict)

    @property
    def settings(self) -> StationSettings:
        return self.station.settings

    def deliver(self, name: str, path: Path, dataset: str = "basis", period: str = PERIOD,
                gemeente: str | None = None, **extra: Any) -> Message:
        code = gemeente or {"gemeente_a": "GM0363", "gemeente_b": "GM0599"}[name]
        metadata = {**AanleveringMetadata(STATISTIC, period, dataset, code,
                                          path.name).as_metadata(), **extra}
        return self.gemeente[name].send(self.hub.oin["cbs"],
                                        message_type(STATISTIC, Kind.AANLEVERING), metadata, [path])

    def besluit(self, name: str, besluit: str, period: str = PERIOD,
                toelichting: str | None = None) -> Message:
        metadata = BesluitMetadata(STATISTIC, period, besluit, toelichting).as_metadata()
        return self.gemeente[name].send(self.hub.oin["cbs"], message_type(STATISTIC, Kind.BESLUIT),
                                        metadata)

    def replies(self, name: str, to: Message) -> list[Message]:
        """Every message the gemeente received in reply to `to` (its inbox, acked as read)."""
        seen = self._seen.setdefault(name, [])
        client = self.gemeente[name]
        for message in client.iter_new():
            seen.append(message)
            client.ack(message.id)
        return [m for m in seen if m.in_reply_to == to.id]

    def reply(self, name: str, to: Message, kind: Kind) -> Message:
        """The one reply of `kind` to `to` (a message of the statistic the test delivers)."""
        found = [m for m in self.replies(name, to) if m.type == message_type(STATISTIC, kind)]
        assert len(found) == 1, (kind, [(m.type, m.metadata) for m in self.replies(name, to)])
        return found[0]

    def report(self, name: str, to: Message) -> dict[str, Any]:
        import json

        rapport = self.reply(name, to, Kind.TECHNISCH_CONTROLERAPPORT)
        dest = self.tmp / "received" / rapport.id
        dest.mkdir(parents=True, exist_ok=True)
        for a in rapport.attachments:
            self.gemeente[name].download(rapport.id, a.name, dest / a.name)
        return json.loads((dest / "report.json").read_text("utf-8"))

    def make_station(self, events: Any = None, **overrides: Any) -> Station:
        settings = StationSettings(data_dir=None, database_url=self.database_url,
                                   store_dir=self.tmp / "station-store",
                                   pseudonym_key=self.tmp / "keys" / "pseudonym.key",
                                   poll_wait=0.5, **overrides)
        return Station(settings, self.cbs, self.clock, events=events)


def gen(definition: Definition, tmp: Path, gemeente: str, rows: int, *, dataset: str = "basis",
        errors: dict[str, int] | None = None, seed: int = 1, basis: Any = None,
        name: str | None = None) -> Path:
    from ggk.testdata import generate

    out = tmp / "files" / (name or f"{gemeente}-{dataset}-{seed}")
    generated = generate(definition, dataset, gemeente, PERIOD, rows=rows, errors=errors,
                         seed=seed, referenced=basis, out=out)
    return generated.path


@pytest.fixture
def world(request: pytest.FixtureRequest, database_url: str, tmp_path: Path
          ) -> Iterator[StationWorld]:
    hub: RunningHub = request.getfixturevalue("running_hub")
    clock = SimulatedClock(dt.datetime(2026, 9, 1, 10, tzinfo=dt.UTC))
    cbs = HubClient(hub.base_url, cert=hub.pem["cbs"], ca=hub.ca)
    gemeenten = {name: HubClient(hub.base_url, cert=hub.pem[name],
                                 ca=hub.ca) for name in ("gemeente_a", "gemeente_b")}
    w = StationWorld(hub, database_url, tmp_path, clock, cbs, gemeenten,
                     None, shipped().for_period(STATISTIC, PERIOD))  # type: ignore[arg-type]
    w.station = w.make_station()
    try:
        yield w
    finally:
        w.station.close()
        for c in (cbs, *gemeenten.values()):
            c.close()

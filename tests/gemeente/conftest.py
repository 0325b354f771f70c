"""A real chain for the gemeente tests: hub (tests/hub/conftest.py, real uvicorn + TLS on
127.0.0.1) and a CBS station in a thread with a simulated clock inside the aanleverperiode.

The gemeente side does not touch a database itself, so the hub runs on SQLite by default; the main
CLI test also runs with the hub on PostgreSQL (`indirect` parametrisation of `database_url`). The
station stays on SQLite (its own tests cover PostgreSQL)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ggk.client import HubClient
from ggk.station import SimulatedClock, StationSettings
from ggk.world import run_station
from tests.hub.conftest import RunningHub, hub_pki, running_hub, start_hub  # noqa: F401

PERIOD = "2026-H1"
START = dt.datetime(2026, 9, 1, 10, tzinfo=dt.UTC)  # the chain's clock: in the aanleverperiode


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """The hub's database: SQLite, or what `parametrize("database_url", [...], indirect=True)`
    asks for ("sqlite" or "postgresql", a fresh database; skipped where PostgreSQL is absent)."""
    kind = getattr(request, "param", "sqlite")
    return request.getfixturevalue("postgres_url" if kind == "postgresql" else "sqlite_url")


@dataclass
class Chain:
    hub: RunningHub
    clock: SimulatedClock
    tmp: Path

    def options(self, party: str = "gemeente_a") -> list[str]:
        return ["--hub", self.hub.base_url, "--cert", str(self.hub.pem[party]),
                "--ca", str(self.hub.ca)]

    def client(self, party: str = "gemeente_a") -> HubClient:
        return HubClient(self.hub.base_url, cert=self.hub.pem[party], ca=self.hub.ca)


StartStation = Callable[[], None]


@pytest.fixture
def chain_without_station(running_hub: RunningHub, tmp_path: Path) -> Chain:  # noqa: F811
    return Chain(running_hub, SimulatedClock(START),
                 tmp_path)


@pytest.fixture
def chain(chain_without_station: Chain) -> Iterator[Chain]:
    """The hub plus a running station (2026-09-01: aanleverperiode, besluit allowed)."""
    with station_of(chain_without_station):
        yield chain_without_station


def station_of(c: Chain) -> contextlib.AbstractContextManager[object]:
    """The CBS station of chain `c` (data in `c.tmp / "station"`), running while in the with."""
    return run_station(c.hub.base_url, c.hub.pem["cbs"], c.hub.ca, c.clock,
                       StationSettings(data_dir=c.tmp / "station", poll_wait=0.5,
                                       rescan_seconds=5.0))

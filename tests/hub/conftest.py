"""Shared hub fixtures (also for the client engineer's tests in tests/hub).

- `hub_pki` (session): a TEST CA, the hub's server certificate and party certificates made by
  ggk.pki: `cbs`, `gemeente_a` (GM0363), `gemeente_b` (GM0599), `operator`, plus unregistered,
  expired, revoked and wrong-certificate parties for authorisation tests.
- `running_hub` (per test, on SQLite AND PostgreSQL through `database_url`): a migrated hub with
  cbs, gemeente_a, gemeente_b and operator registered (and `revoked` registered then revoked),
  served by real uvicorn with real TLS on 127.0.0.1. Gives `base_url`, `ca` (CA PEM path),
  `pem[name]` (party PEM paths: certificate + key), `oin[name]` and `client(name)` (an httpx.Client
  with that party's certificate).
- `start_hub(**settings)`: the same with changed HubSettings (limits, TTL, proxy options).
- `shared_hub` (per module, SQLite and PostgreSQL): the same hub, started once for all tests of a
  module that do not need one of their own (routing and refusal matrices: they send and check a
  status, never count a mailbox), so many small cases do not each pay a hub start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from ggk.hub.database import create_engine, migrate
from ggk.hub.parties import PartyRegistry
from ggk.hub.server import HubServer
from ggk.hub.settings import HubSettings
from ggk.pki import make_test_oin
from ggk.world import Party, WorldPki, build_pki, cbs_party, gemeente_party, operator_party
from ggk.world.hub import start_hub as start_world_hub
from tests.conftest import fresh_postgres_database

PARTIES: dict[str, Party] = {
    "cbs": cbs_party(),
    "gemeente_a": gemeente_party("GM0363", "gemeente_a", organisation="Gemeente Amsterdam"),
    "gemeente_b": gemeente_party("GM0599", "gemeente_b", organisation="Gemeente Rotterdam"),
    "operator": operator_party(),
    "revoked": gemeente_party("GM0518", "revoked", organisation="Gemeente 's-Gravenhage"),
}
REGISTERED = ("cbs", "gemeente_a", "gemeente_b", "operator", "revoked")
# certificates that must be refused: not registered / expired / same OIN, other certificate
UNREGISTERED = {"stranger": gemeente_party("GM0777", "stranger",
                                           organisation="Gemeente Nergenshuizen")}

HubPki = WorldPki


@pytest.fixture(scope="session")
def hub_pki(tmp_path_factory: pytest.TempPathFactory) -> HubPki:
    pki = build_pki(tmp_path_factory.mktemp("hub-pki"), [*PARTIES.values(),
                                                         *UNREGISTERED.values()])
    # same OIN as gemeente_a, but not the registered certificate
    pki.add(Party("impostor", pki.oin["gemeente_a"], "Gemeente Amsterdam", "gemeente", "GM0363"))
    # an expired certificate of a registered party (registered with exactly this certificate)
    pki.add(Party("expired", make_test_oin(1680), "Gemeente Aa en Hunze", "gemeente", "GM1680",
                  not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=3), days=1))
    return pki


@dataclass
class RunningHub:
    base_url: str
    ca: Path
    pem: dict[str, Path]
    oin: dict[str, str]
    settings: HubSettings
    server: HubServer
    _clients: list[httpx.Client] = field(default_factory=list)

    def client(self, name: str, **kwargs: object) -> httpx.Client:
        """An httpx client with party `name`'s certificate, verifying the hub against the CA."""
        import ssl

        context = ssl.create_default_context(cafile=str(self.ca))
        context.load_cert_chain(str(self.pem[name]))
        client = httpx.Client(base_url=self.base_url, verify=context, timeout=30, **kwargs)  # type: ignore[arg-type]
        self._clients.append(client)
        return client

    def close(self) -> None:
        for c in self._clients:
            c.close()
        self.server.stop()


def register_parties(database_url: str, pki: HubPki) -> None:
    engine = create_engine(database_url)
    try:
        migrate(engine)
        registry = PartyRegistry(engine)
        for name in REGISTERED:
            registry.add(pki.pem[name])
        registry.add(pki.pem["expired"], allow_expired=True)
        registry.revoke(pki.oin["revoked"])
    finally:
        engine.dispose()


StartHub = Callable[..., RunningHub]


@pytest.fixture
def start_hub(database_url: str, hub_pki: HubPki, tmp_path: Path) -> Iterator[StartHub]:
    """Start a hub (parties registered) with the given HubSettings overrides."""
    started: list[RunningHub] = []
    register_parties(database_url, hub_pki)

    def start(**overrides: object) -> RunningHub:
        hub = start_world_hub(hub_pki, database_url=database_url, store_dir=tmp_path / "store",
                              register=(), **overrides)
        running = RunningHub(hub.base_url, hub_pki.ca, hub_pki.pem, hub_pki.oin, hub.settings,
                             hub.server)
        started.append(running)
        return running

    yield start
    for running in started:
        running.close()


@pytest.fixture
def running_hub(start_hub: StartHub) -> RunningHub:
    """A hub on real TLS with cbs, gemeente_a, gemeente_b, operator registered (see module doc)."""
    return start_hub(long_poll_interval=0.2)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_hub(request: pytest.FixtureRequest, hub_pki: HubPki,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """One hub per module and database for tests that do not need their own (module doc)."""
    tmp = tmp_path_factory.mktemp("shared-hub")
    with contextlib.ExitStack() as stack:
        url = (f"sqlite:///{tmp / 'ggk.sqlite3'}" if request.param == "sqlite"
               else stack.enter_context(fresh_postgres_database()))
        register_parties(url, hub_pki)
        hub = start_world_hub(hub_pki, database_url=url, store_dir=tmp / "store", register=(),
                              long_poll_interval=0.2)
        running = RunningHub(hub.base_url, hub_pki.ca, hub_pki.pem, hub_pki.oin, hub.settings,
                             hub.server)
        stack.callback(running.close)
        yield running

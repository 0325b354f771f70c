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
"""

from __future__ import annotations

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
from ggk.pki import init_ca, issue_party_cert, issue_server_cert, make_test_oin

PARTIES: dict[str, tuple[int, str, str, str | None]] = {
    # name: (test OIN number, organisation name, role, gemeentecode)
    "cbs": (1, "Centraal Bureau voor de Statistiek", "cbs", None),
    "gemeente_a": (363, "Gemeente Amsterdam", "gemeente", "GM0363"),
    "gemeente_b": (599, "Gemeente Rotterdam", "gemeente", "GM0599"),
    "operator": (9001, "Beheer ggk", "operator", None),
    "revoked": (518, "Gemeente 's-Gravenhage", "gemeente", "GM0518"),
}
REGISTERED = ("cbs", "gemeente_a", "gemeente_b", "operator", "revoked")
# certificates that must be refused: not registered / expired / same OIN, other certificate
UNREGISTERED = {"stranger": (777, "Gemeente Nergenshuizen", "gemeente", "GM0777")}


@dataclass
class HubPki:
    directory: Path
    ca: Path
    server_pem: Path
    pem: dict[str, Path]
    oin: dict[str, str]


@pytest.fixture(scope="session")
def hub_pki(tmp_path_factory: pytest.TempPathFactory) -> HubPki:
    directory = tmp_path_factory.mktemp("hub-pki")
    ca_dir = directory / "ca"
    init_ca(ca_dir)
    server_pem = directory / "hub.pem"
    server_pem.write_bytes(issue_server_cert(ca_dir, ["127.0.0.1"]))
    pem: dict[str, Path] = {}
    oin: dict[str, str] = {}
    for name, (number, org, role, code) in {**PARTIES, **UNREGISTERED}.items():
        oin[name] = make_test_oin(number)
        pem[name] = directory / f"{name}.pem"
        pem[name].write_bytes(issue_party_cert(ca_dir, oin[name], org, role=role,  # type: ignore[arg-type]
                                               gemeentecode=code))
    # same OIN as gemeente_a, but not the registered certificate
    pem["impostor"] = directory / "impostor.pem"
    pem["impostor"].write_bytes(issue_party_cert(ca_dir, oin["gemeente_a"], "Gemeente Amsterdam",
                                                 role="gemeente", gemeentecode="GM0363"))
    oin["impostor"] = oin["gemeente_a"]
    # an expired certificate of a registered party (registered with exactly this certificate)
    oin["expired"] = make_test_oin(1680)
    pem["expired"] = directory / "expired.pem"
    pem["expired"].write_bytes(issue_party_cert(
        ca_dir, oin["expired"], "Gemeente Aa en Hunze", role="gemeente", gemeentecode="GM1680",
        days=1, not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=3)))
    return HubPki(directory, ca_dir / "ca.pem", server_pem, pem, oin)


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
        settings = HubSettings(ca_file=hub_pki.ca, server_cert=hub_pki.server_pem,
                               database_url=database_url, store_dir=tmp_path / "store", port=0)
        for key, value in overrides.items():
            setattr(settings, key, value)
        server = HubServer(settings)
        running = RunningHub(server.start(), hub_pki.ca, hub_pki.pem, hub_pki.oin, settings,
                             server)
        started.append(running)
        return running

    yield start
    for running in started:
        running.close()


@pytest.fixture
def running_hub(start_hub: StartHub) -> RunningHub:
    """A hub on real TLS with cbs, gemeente_a, gemeente_b, operator registered (see module doc)."""
    return start_hub(long_poll_interval=0.2)

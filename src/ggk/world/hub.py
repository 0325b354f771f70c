"""A hub of a world: migrated, parties registered, served by real uvicorn with TLS on loopback."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ggk.client import HubClient
from ggk.hub.server import HubServer
from ggk.hub.settings import HubSettings
from ggk.world.pki import WorldPki


def register_parties(database_url: str, pems: Iterable[Path], revoke: Iterable[str] = ()) -> None:
    """Migrate the hub schema, register each party's certificate, then revoke the OINs given."""
    from ggk.hub.database import create_engine, migrate
    from ggk.hub.parties import PartyRegistry

    engine = create_engine(database_url)
    try:
        migrate(engine)
        registry = PartyRegistry(engine)
        for pem in pems:
            registry.add(pem)
        for oin in revoke:
            registry.revoke(oin)
    finally:
        engine.dispose()


@dataclass
class RunningHub:
    base_url: str
    settings: HubSettings
    server: HubServer
    pki: WorldPki

    def client_for(self, party: str, **options: Any) -> HubClient:
        """A HubClient with `party`'s certificate (close it, or use it as a context manager)."""
        return HubClient(self.base_url, cert=self.pki.pem[party], ca=self.pki.ca, **options)

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> RunningHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_hub(pki: WorldPki, *, database_url: str | None = None, store_dir: Path | None = None,
              data_dir: Path | None = None, register: Iterable[str] | None = None,
              revoke: Iterable[str] = (), **settings: Any) -> RunningHub:
    """Register `register` (default: every party of the PKI), revoke the named parties and serve
    the hub on 127.0.0.1 (port 0 unless given); `settings` are HubSettings fields."""
    hub_settings = HubSettings(**{"ca_file": pki.ca, "server_cert": pki.server_pem, "port": 0,
                                  **settings, "data_dir": data_dir,
                                  "database_url": database_url, "store_dir": store_dir})
    names = list(pki.pem) if register is None else list(register)
    revoke = list(revoke)
    if names or revoke:
        register_parties(hub_settings.resolved_database_url(), [pki.pem[n] for n in names],
                         revoke=[pki.oin[n] for n in revoke])
    server = HubServer(hub_settings)
    return RunningHub(server.start(), hub_settings, server, pki)

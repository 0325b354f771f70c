"""A real hub for client tests: uvicorn on 127.0.0.1 (port 0) with TLS, certificates from ggk.pki.

Parties: a gemeente (GM0363), a second gemeente (GM0599) and CBS. `hub` runs on SQLite;
`hub_on_each_database` runs the test on SQLite and on a fresh PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

GEMEENTE_OIN = "00000099000000000363"
GEMEENTE2_OIN = "00000099000000000599"
CBS_OIN = "00000099000000000001"


@dataclass(frozen=True)
class RunningHub:
    url: str
    port: int
    ca: Path
    gemeente: Path  # party PEM files (certificate + key)
    gemeente2: Path
    cbs: Path
    data_dir: Path


@pytest.fixture(scope="session")
def client_pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from ggk.pki import init_ca, issue_party_cert, issue_server_cert

    folder = tmp_path_factory.mktemp("client-pki")
    init_ca(folder)
    files = {
        "server": issue_server_cert(folder, ["127.0.0.1"]),
        "gemeente": issue_party_cert(
            folder, GEMEENTE_OIN, "Gemeente Amsterdam", role="gemeente", gemeentecode="GM0363"
        ),
        "gemeente2": issue_party_cert(
            folder, GEMEENTE2_OIN, "Gemeente Rotterdam", role="gemeente", gemeentecode="GM0599"
        ),
        "cbs": issue_party_cert(folder, CBS_OIN, "Centraal Bureau voor de Statistiek", role="cbs"),
    }
    paths = {"ca": folder / "ca.pem"}
    for name, pem in files.items():
        paths[name] = folder / f"{name}.pem"
        paths[name].write_bytes(pem)
    return paths


def _start_hub(database_url: str, data_dir: Path, pki: dict[str, Path]) -> Iterator[RunningHub]:
    from ggk.hub.database import create_engine, migrate
    from ggk.hub.parties import PartyRegistry
    from ggk.hub.server import HubServer
    from ggk.hub.settings import HubSettings

    engine = create_engine(database_url)
    migrate(engine)
    registry = PartyRegistry(engine)
    for name in ("gemeente", "gemeente2", "cbs"):
        registry.add(pki[name])
    engine.dispose()
    settings = HubSettings(
        ca_file=pki["ca"],
        server_cert=pki["server"],
        data_dir=data_dir,
        database_url=database_url,
        store_dir=data_dir / "store",
        port=0,
        long_poll_interval=0.2,
    )
    server = HubServer(settings)
    url = server.start()
    try:
        yield RunningHub(
            url, int(url.rsplit(":", 1)[1]), pki["ca"], pki["gemeente"], pki["gemeente2"],
            pki["cbs"], data_dir,
        )  # fmt: skip
    finally:
        server.stop()


@pytest.fixture
def hub(sqlite_url: str, tmp_path: Path, client_pki: dict[str, Path]) -> Iterator[RunningHub]:
    yield from _start_hub(sqlite_url, tmp_path / "hub", client_pki)


@pytest.fixture
def hub_on_each_database(
    database_url: str, tmp_path: Path, client_pki: dict[str, Path]
) -> Iterator[RunningHub]:
    yield from _start_hub(database_url, tmp_path / "hub", client_pki)

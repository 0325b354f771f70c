"""A real hub for client tests: uvicorn on 127.0.0.1 (port 0) with TLS, certificates from ggk.pki.

Parties: a gemeente (GM0363), a second gemeente (GM0599) and CBS. `hub` runs on SQLite;
`hub_on_each_database` runs the test on SQLite and on a fresh PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ggk.world import WorldPki, build_pki, cbs_party, gemeente_party, start_hub

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
def client_pki(tmp_path_factory: pytest.TempPathFactory) -> WorldPki:
    return build_pki(tmp_path_factory.mktemp("client-pki"), [
        gemeente_party("GM0363", "gemeente", organisation="Gemeente Amsterdam"),
        gemeente_party("GM0599", "gemeente2", organisation="Gemeente Rotterdam"),
        cbs_party()])


def _start_hub(database_url: str, data_dir: Path, pki: WorldPki) -> Iterator[RunningHub]:
    with start_hub(pki, database_url=database_url, data_dir=data_dir,
                   store_dir=data_dir / "store", long_poll_interval=0.2) as hub:
        url = hub.base_url
        yield RunningHub(url, int(url.rsplit(":", 1)[1]), pki.ca, pki.pem["gemeente"],
                         pki.pem["gemeente2"], pki.pem["cbs"], data_dir)


@pytest.fixture
def hub(sqlite_url: str, tmp_path: Path, client_pki: WorldPki) -> Iterator[RunningHub]:
    yield from _start_hub(sqlite_url, tmp_path / "hub", client_pki)


@pytest.fixture
def hub_on_each_database(
    database_url: str, tmp_path: Path, client_pki: WorldPki
) -> Iterator[RunningHub]:
    yield from _start_hub(database_url, tmp_path / "hub", client_pki)

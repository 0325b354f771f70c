"""A real chain for the portal: hub (real uvicorn + TLS), a CBS station in a thread (simulated
clock inside 2026-H1's aanleverperiode) and the portal on HTTPS in a thread, acting for GM0363
(gemeente_a) and GM0599 (gemeente_b) with their own certificates.

Accounts (password `wachtwoord-123!`): `anna@amsterdam.nl` medewerker GM0363,
`lex@amsterdam.nl` alleen-lezen GM0363, `rob@rotterdam.nl` medewerker GM0599, `beheer@hub.nl`
beheerder. Browser tests use Debian's chromium through Playwright (no browser download); in CI a
missing chromium fails them, elsewhere they skip.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ggk.portal.app import Portal, PortalSettings
from ggk.web.interfaces import Membership
from ggk.web.server import BackgroundServer
from tests.gemeente.conftest import Chain, chain, chain_without_station, database_url  # noqa: F401
from tests.hub.conftest import hub_pki, running_hub, start_hub  # noqa: F401
from tests.web.browser import (  # noqa: F401
    axe_violations,
    browser,
    log_in_page,
    new_page,
    screenshot,
)

PASSWORD = "wachtwoord-123!"


class FixedClock:
    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def now(self) -> dt.datetime:
        return self.moment


@dataclass
class RunningPortal:
    url: str
    portal: Portal
    chain: Chain
    server: BackgroundServer

    def collect(self) -> int:
        return self.portal.collect_once()


def start_portal(c: Chain, tmp: Path, **settings: Any) -> tuple[Portal, BackgroundServer, str]:
    portal = Portal(PortalSettings(data_dir=tmp, hub=c.hub.base_url, ca=c.hub.ca,
                                   clock=settings.pop("clock", c.clock), poll_seconds=0.5,
                                   **settings))
    portal.migrate()
    portal.add_gemeente(c.hub.pem["gemeente_a"], "GM0363")
    portal.add_gemeente(c.hub.pem["gemeente_b"], "GM0599")
    accounts = portal.web.accounts
    accounts.create("anna@amsterdam.nl", "Anna de Vries", PASSWORD,
                    memberships=[Membership("GM0363", "medewerker")])
    accounts.create("lex@amsterdam.nl", "Lex Jansen", PASSWORD,
                    memberships=[Membership("GM0363", "alleen-lezen")])
    accounts.create("rob@rotterdam.nl", "Rob Bakker", PASSWORD,
                    memberships=[Membership("GM0599", "medewerker")])
    accounts.create("beheer@hub.nl", "Beheerder Hub", PASSWORD, beheerder=True)
    server = BackgroundServer(portal.create_app(), cert=c.hub.settings.server_cert)
    return portal, server, server.start()


@pytest.fixture
def portal_chain(chain: Chain, tmp_path: Path) -> Iterator[RunningPortal]:  # noqa: F811
    """The portal (with its background loop fetching reports) against hub + station."""
    portal, server, url = start_portal(chain, tmp_path / "portal")
    stop = threading.Event()
    worker = threading.Thread(target=portal.run_background, args=(stop,), daemon=True)
    worker.start()
    try:
        yield RunningPortal(url, portal, chain, server)
    finally:
        stop.set()
        worker.join(timeout=15)
        server.stop()
        portal.close()


@pytest.fixture
def portal_only(chain_without_station: Chain, tmp_path: Path  # noqa: F811
                ) -> Iterator[RunningPortal]:
    """The portal against a hub without a station and without the background loop."""
    portal, server, url = start_portal(chain_without_station, tmp_path / "portal")
    try:
        yield RunningPortal(url, portal, chain_without_station, server)
    finally:
        server.stop()
        portal.close()


def login(page: Any, url: str, email: str, password: str = PASSWORD) -> None:
    log_in_page(page, url, email, password)



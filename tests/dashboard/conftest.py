"""A real chain for the CBS dashboard and the operator console: hub (real uvicorn + TLS) and a
running CBS station (simulated clock in 2026-H1's aanleverperiode), where GM0363 (gemeente_a)
delivered an accepted basis file and GM0599 (gemeente_b) a rejected one; the dashboard (on the
station's records) and the console (on the hub's database and the station's failures) on HTTPS in
threads, e-mail to a real SMTP test server (aiosmtpd).

Accounts (password `wachtwoord-123!`), in both applications: `cees@cbs.nl` verzamelbeheer,
`olga@hub.nl` hub-operator, `anna@amsterdam.nl` medewerker of GM0363 (a municipality's account).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from ggk.console.app import Console, ConsoleSettings
from ggk.dashboard.app import Dashboard, DashboardSettings
from ggk.gemeente.submit import submit_file
from ggk.hub.channel_watch import HubChannelWatch
from ggk.hub.database import create_engine as hub_engine
from ggk.hub.parties import PartyRegistry
from ggk.station import SimulatedClock
from ggk.station.period_records import StationPeriodRecords, open_period_records
from ggk.station.settings import StationSettings
from ggk.web.interfaces import INTERNAL, Membership
from ggk.web.mail import SmtpMailer
from ggk.web.server import BackgroundServer
from tests.gemeente.conftest import (  # noqa: F401
    START,
    Chain,
    chain,
    chain_without_station,
    database_url,
    station_of,
)
from tests.hub.conftest import RunningHub, hub_pki, running_hub, shared_hub, start_hub  # noqa: F401
from tests.portal.test_delivery_flow import make_file
from tests.portal.test_mail import Collect, smtp, smtp_server  # noqa: F401
from tests.web.browser import browser  # noqa: F401

PASSWORD = "wachtwoord-123!"
PERIOD = "2026-H1"
ACCOUNTS = (("cees@cbs.nl", "Cees Verzamel", "verzamelbeheer"),
            ("olga@hub.nl", "Olga Operator", "hub-operator"))


@dataclass
class RunningCbs:
    chain: Chain
    records: StationPeriodRecords
    dashboard: Dashboard
    dashboard_url: str
    console: Console
    console_url: str
    mail: Collect


def add_accounts(web: object) -> None:
    accounts = web.accounts  # type: ignore[attr-defined]
    for email, name, role in ACCOUNTS:
        accounts.create(email, name, PASSWORD, memberships=[Membership(INTERNAL, role)])
    accounts.create("anna@amsterdam.nl", "Anna de Vries", PASSWORD,
                    memberships=[Membership("GM0363", "medewerker")])


def wait_until(check: object, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.5)


@pytest.fixture
def cbs(chain: Chain, smtp: tuple[Collect, int], tmp_path: Path  # noqa: F811
        ) -> Iterator[RunningCbs]:
    """The chain and both applications for one test (one that changes what others check)."""
    with serving_cbs(chain, smtp, tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def shared_cbs(shared_hub: RunningHub, tmp_path_factory: pytest.TempPathFactory  # noqa: F811
               ) -> Iterator[RunningCbs]:
    """The same, once for a module whose tests leave each other's data alone (the access
    matrix; the console's pages). On the SQLite hub unless the module parametrises
    `shared_hub`."""
    tmp = tmp_path_factory.mktemp("shared-cbs")
    world = Chain(shared_hub, SimulatedClock(START), tmp)
    with station_of(world), smtp_server() as mail, serving_cbs(world, mail, tmp) as running:
        yield running


@contextlib.contextmanager
def serving_cbs(world: Chain, mail: tuple[Collect, int], tmp_path: Path
                ) -> Iterator[RunningCbs]:
    """Two deliveries (GM0363 accepted, GM0599 rejected), then dashboard and console on HTTPS."""
    handler, port = mail
    records = open_period_records(StationSettings(data_dir=world.tmp / "station"), world.clock)
    with world.client("gemeente_a") as client:
        submit_file(client, make_file(tmp_path, "goed", None), statistic="gmsd", period=PERIOD,
                    dataset="basis", gemeente="GM0363")
    with world.client("gemeente_b") as client:
        bad = make_file(tmp_path, "fout", {"elfproef": 3})
        text = bad.read_text("utf-8").replace("GM0363", "GM0599")
        bad.write_text(text, "utf-8")
        submit_file(client, bad, statistic="gmsd", period=PERIOD, dataset="basis",
                    gemeente="GM0599")
    wait_until(lambda: len(records.timeline("gmsd", PERIOD)) == 2, "two validated deliveries")
    mailer = SmtpMailer("127.0.0.1", port, sender="cbs@localhost")
    dashboard = Dashboard(DashboardSettings(data_dir=tmp_path / "dashboard", records=records,
                                            mailer=mailer, clock=world.clock))
    dashboard.migrate()
    add_accounts(dashboard.web)
    engine = hub_engine(world.hub.settings.database_url)
    console = Console(ConsoleSettings(data_dir=tmp_path / "console",
                                      watch=HubChannelWatch(engine), parties=PartyRegistry(engine),
                                      station_failures=records.channel_failures))
    console.migrate()
    add_accounts(console.web)
    cert = world.hub.settings.server_cert
    servers = [BackgroundServer(dashboard.create_app(), cert=cert),
               BackgroundServer(console.create_app(), cert=cert)]
    try:
        urls = [server.start() for server in servers]
        yield RunningCbs(world, records, dashboard, urls[0], console, urls[1], handler)
    finally:
        for server in servers:
            server.stop()
        dashboard.close()
        console.close()
        engine.dispose()
        records.engine.dispose()


def audit_events(records: StationPeriodRecords, event: str) -> list[sa.Row]:
    from ggk.station import tables as t

    with records.engine.connect() as conn:
        return list(conn.execute(sa.select(t.audit).where(t.audit.c.event == event)))

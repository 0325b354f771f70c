"""The CBS dashboard and the operator console in the demo: `ggk pilot --portal` (and so `make
demo`) ends with both running on the pilot's hub and station beside the portal, with demo
accounts, until Ctrl-C. Each demo municipality's portal address is its e-mail contact."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ggk.console.app import Console, ConsoleSettings
from ggk.dashboard.app import Dashboard, DashboardSettings
from ggk.web.interfaces import INTERNAL, Membership
from ggk.web.server import BackgroundServer

DEMO_PASSWORD = "demo-wachtwoord"  # noqa: S105 - printed on screen; a local demo only


@dataclass(frozen=True)
class DemoApp:
    title: str
    url: str
    email: str
    role: str


def _serve(app: Any, port: int, cert: Any) -> tuple[BackgroundServer, str]:
    try:
        server = BackgroundServer(app, port=port, cert=cert)
        return server, server.start()
    except OSError:  # the port is taken: any free one
        server = BackgroundServer(app, port=0, cert=cert)
        return server, server.start()


@contextmanager
def cbs_apps(pilot: Any, *, dashboard_port: int = 8700, console_port: int = 8800
             ) -> Iterator[list[DemoApp]]:
    """Start the dashboard (on the pilot's station) and the console (on the pilot's hub)."""
    from ggk.hub.channel_watch import HubChannelWatch
    from ggk.hub.database import create_engine
    from ggk.hub.parties import PartyRegistry
    from ggk.hub.settings import HubSettings
    from ggk.station.period_records import open_period_records
    from ggk.station.settings import StationSettings

    records = open_period_records(StationSettings(data_dir=pilot.data_dir / "station"),
                                  pilot.clock)
    dashboard = Dashboard(DashboardSettings(data_dir=pilot.data_dir / "dashboard",
                                            records=records, clock=pilot.clock))
    dashboard.migrate()
    dashboard.web.accounts.create("cbs@demo.ggk", "Verzamelbeheerder CBS", DEMO_PASSWORD,
                                  memberships=[Membership(INTERNAL, "verzamelbeheer")])
    for code in pilot.gemeenten:
        dashboard.add_contact(code, f"{code.lower()}@demo.ggk", "demo")
    hub = create_engine(HubSettings(data_dir=pilot.data_dir / "hub").resolved_database_url())
    console = Console(ConsoleSettings(data_dir=pilot.data_dir / "console",
                                      watch=HubChannelWatch(hub), parties=PartyRegistry(hub),
                                      station_failures=records.channel_failures))
    console.migrate()
    console.web.accounts.create("operator@demo.ggk", "Hub-operator", DEMO_PASSWORD,
                                memberships=[Membership(INTERNAL, "hub-operator")])
    servers = []
    try:
        server, dashboard_url = _serve(dashboard.create_app(), dashboard_port, pilot.server_pem)
        servers.append(server)
        server, console_url = _serve(console.create_app(), console_port, pilot.server_pem)
        servers.append(server)
        yield [DemoApp("CBS-dashboard", dashboard_url, "cbs@demo.ggk", "verzamelbeheer"),
               DemoApp("Beheerconsole", console_url, "operator@demo.ggk", "hub-operator")]
    finally:
        for server in servers:
            server.stop()
        dashboard.close()
        console.close()
        records.engine.dispose()
        hub.dispose()


def print_apps(console: Any, apps: list[DemoApp]) -> None:
    from rich.table import Table

    table = Table(title=f"CBS en hub-operator (wachtwoord: {DEMO_PASSWORD})")
    for column in ("toepassing", "adres", "e-mail", "rol"):
        table.add_column(column)
    for app in apps:
        table.add_row(app.title, app.url, app.email, app.role)
    console.print(table)

"""The portal in the demo: `ggk pilot --portal` (and so `make demo`) ends the play with the portal
running for the pilot's municipalities, on the pilot's hub, with demo accounts, until Ctrl-C.

The portal shares the pilot's data dir: the reports the pilot municipalities fetched are under
`<data-dir>/gemeenten/<code>/rapporten`, exactly where the portal keeps a gemeente's reports, so
the portal shows the whole played period at once, and opens on it (not on the period after it,
where the pilot's clock ends up).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ggk.pilot.play import PERIOD as PLAYED_PERIOD
from ggk.pilot.play import STATISTIC as PLAYED_STATISTIC
from ggk.portal.app import Portal, PortalSettings
from ggk.portal.interfaces import Clock
from ggk.web.interfaces import Membership
from ggk.web.server import BackgroundServer

DEMO_PASSWORD = "demo-wachtwoord"  # noqa: S105 - printed on screen; a local demo only


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    roles: str


def demo_accounts(portal: Portal, gemeenten: dict[str, str]) -> list[DemoAccount]:
    """One medewerker per gemeente, an adviseur for all of them, a reader and a beheerder."""
    accounts = portal.web.accounts
    made = []
    for code, name in gemeenten.items():
        email = f"{code.lower()}@demo.ggk"
        accounts.create(email, f"Medewerker {name}", DEMO_PASSWORD,
                        memberships=[Membership(code, "medewerker")])
        made.append(DemoAccount(email, f"Medewerker {name}", f"medewerker {code}"))
    accounts.create("adviseur@demo.ggk", "Adviseur regio", DEMO_PASSWORD,
                    memberships=[Membership(code, "medewerker") for code in gemeenten])
    made.append(DemoAccount("adviseur@demo.ggk", "Adviseur regio",
                            "medewerker " + ", ".join(gemeenten)))
    first = next(iter(gemeenten))
    accounts.create("lezer@demo.ggk", "Lezer", DEMO_PASSWORD,
                    memberships=[Membership(first, "alleen-lezen")])
    made.append(DemoAccount("lezer@demo.ggk", "Lezer", f"alleen-lezen {first}"))
    accounts.create("beheer@demo.ggk", "Beheerder", DEMO_PASSWORD, beheerder=True)
    made.append(DemoAccount("beheer@demo.ggk", "Beheerder", "beheerder"))
    return made


def start_demo_portal(data_dir: Path, hub: str, ca: Path, server_pem: Path,
                      gemeente_pems: dict[str, Path], clock: Clock, port: int = 8600,
                      period: str = PLAYED_PERIOD
                      ) -> tuple[Portal, BackgroundServer, str, list[DemoAccount]]:
    portal = Portal(PortalSettings(data_dir=data_dir, hub=hub, ca=ca, clock=clock,
                                   poll_seconds=2.0,
                                   periods={PLAYED_STATISTIC: period}))
    portal.migrate()
    names = {}
    for code, pem in gemeente_pems.items():
        names[code] = portal.add_gemeente(pem, code).name
    made = demo_accounts(portal, names)
    try:
        server = BackgroundServer(portal.create_app(), port=port, cert=server_pem)
        url = server.start()
    except OSError:  # the port is taken: any free one
        server = BackgroundServer(portal.create_app(), port=0, cert=server_pem)
        url = server.start()
    return portal, server, url, made


def serve_after_pilot(pilot: Any, *, port: int = 8600, seconds: float | None = None) -> None:
    """Run the portal on the pilot's hub until Ctrl-C (or `seconds`), printing how to log in."""
    from rich.panel import Panel
    from rich.table import Table

    portal, server, url, made = start_demo_portal(
        pilot.data_dir, pilot.base_url, pilot.ca, pilot.server_pem,
        {code: g.pem for code, g in pilot.gemeenten.items()}, pilot.clock, port)
    stop = threading.Event()
    worker = threading.Thread(target=portal.run_background, args=(stop,), daemon=True,
                              name="demo-portal")
    worker.start()
    table = Table(title=f"Demo-accounts (wachtwoord: {DEMO_PASSWORD})")
    for column in ("e-mail", "naam", "rollen"):
        table.add_column(column)
    for account in made:
        table.add_row(account.email, account.name, account.roles)
    pilot.console.print(Panel(
        f"Portaal: [bold]{url}[/]\n"
        "De browser waarschuwt voor het certificaat: het komt van de test-CA van de pilot "
        f"({pilot.ca}). Accepteer het voor deze demo, of importeer die CA.\n"
        "Stoppen: Ctrl-C.", title="Portaal Gemeentelijke Statistiek", border_style="cyan"))
    pilot.console.print(table)
    try:
        deadline = None if seconds is None else time.monotonic() + seconds
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pilot.console.print("Portaal gestopt.")
    finally:
        stop.set()
        worker.join(timeout=10)
        server.stop()
        portal.close()

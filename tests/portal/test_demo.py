"""`ggk pilot --portal` (what `make demo` runs): after the play the portal runs on the pilot's
hub, shows the pilot municipalities' reports, and the printed demo accounts log in."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from ggk.pilot.play import REJECTED_FIRST, run_pilot
from ggk.portal.demo import DEMO_PASSWORD, start_demo_portal
from tests.web.conftest import csrf_of

pytestmark = [pytest.mark.slow]


def test_the_demo_portal_shows_the_played_period(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def after(pilot: Any) -> None:
        portal, server, url, made = start_demo_portal(
            pilot.data_dir, pilot.base_url, pilot.ca, pilot.server_pem,
            {code: g.pem for code, g in pilot.gemeenten.items()}, pilot.clock, port=0)
        try:
            seen["accounts"] = [a.email for a in made]
            context = ssl.create_default_context(cafile=str(pilot.ca))
            with httpx.Client(base_url=url, verify=context, timeout=30) as client:
                page = client.get("/inloggen")
                client.post("/inloggen", data={"csrf_token": csrf_of(page.text),
                                               "email": f"{REJECTED_FIRST.lower()}@demo.ggk",
                                               "wachtwoord": DEMO_PASSWORD})
                # no ?periode: the portal opens on the played period, not the one after it
                seen["overview"] = client.get(f"/gemeente/{REJECTED_FIRST}").text
                seen["reports"] = client.get(f"/gemeente/{REJECTED_FIRST}/rapporten").text
                seen["versions"] = client.get(f"/gemeente/{REJECTED_FIRST}/versies").text
        finally:
            server.stop()
            portal.close()

    result = run_pilot(tmp_path / "pilot-data", seed=5, max_rows=1500,
                       console=Console(record=True, width=120), after=after)
    assert result.ok, result.problems
    assert "beheer@demo.ggk" in seen["accounts"] and "adviseur@demo.ggk" in seen["accounts"]
    assert "Spiegelrapport" in seen["reports"] and "Technisch controlerapport" in seen["reports"]
    assert "Versies van basis" in seen["versions"]
    assert "bevestigd door CBS" in seen["overview"]

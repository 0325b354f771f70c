"""`ggk pilot --portal` (what `make demo` runs) ends with the CBS dashboard and the operator
console running on the pilot's station and hub; the printed demo accounts log in and see the
played period."""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from ggk.dashboard.demo import DEMO_PASSWORD, cbs_apps, print_apps
from ggk.pilot.play import REJECTED_FIRST, run_pilot
from tests.web.conftest import csrf_of

pytestmark = [pytest.mark.slow]


def test_the_demo_ends_with_dashboard_and_console(tmp_path: Path) -> None:
    seen: dict[str, str] = {}

    def after(pilot: Any) -> None:
        with cbs_apps(pilot, dashboard_port=0, console_port=0) as apps:
            print_apps(pilot.console, apps)
            context = ssl.create_default_context(cafile=str(pilot.ca))
            for app, pages in zip(apps, (("/", f"/gemeente/{REJECTED_FIRST}"),
                                         ("/", "/berichten")), strict=True):
                with httpx.Client(base_url=app.url, verify=context, timeout=30) as client:
                    login = client.get("/inloggen")
                    client.post("/inloggen", data={"csrf_token": csrf_of(login.text),
                                                   "email": app.email,
                                                   "wachtwoord": DEMO_PASSWORD})
                    for path in pages:
                        seen[f"{app.title}{path}"] = client.get(path).text
                    if app.title == "CBS-dashboard":  # a sent report, as the station keeps it
                        page = seen[f"{app.title}/gemeente/{REJECTED_FIRST}"]
                        link = re.search(r'href="(/rapport/[^"]+/report\.html)"', page)
                        assert link is not None, page
                        report = client.get(link.group(1))
                        seen["report"] = (f"{report.status_code} "
                                          f"{report.headers['content-type']} {report.text}")

    console = Console(record=True, width=160)
    result = run_pilot(tmp_path / "pilot-data", seed=5, max_rows=1500, console=console,
                       after=after)
    assert result.ok, result.problems
    printed = console.export_text()
    assert "cbs@demo.ggk" in printed and "operator@demo.ggk" in printed
    assert "Aanleveringen periode 2026-H1" in seen["CBS-dashboard/"]
    municipality = seen[f"CBS-dashboard/gemeente/{REJECTED_FIRST}"]
    assert "Technisch controlerapport" in municipality and "afgekeurd" in municipality
    assert seen["report"].startswith("200 text/html; charset=utf-8 ")
    assert "afgekeurd" in seen["report"]
    assert "Gezondheid van het kanaal" in seen["Beheerconsole/"]
    assert "gmsd.aanlevering" in seen["Beheerconsole/berichten"]

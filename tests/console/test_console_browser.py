"""The hub operator's console in a real browser against a real hub and station: channel health per
party (waiting messages, last seen, certificates expiring within 60 days), the audit trail of a
message, and onboarding a municipality step by step with its state kept. Every page passes
axe-core (WCAG 2.1 AA); screenshots go to test-artifacts/console/."""

from __future__ import annotations

from typing import Any

import pytest

from ggk.console.app import STEP_NAMES
from tests.dashboard.conftest import RunningCbs
from tests.portal.conftest import login
from tests.web.browser import axe_violations, new_page, screenshot

# the two tests touch different data (hub messages; the console's onboarding): one chain for the
# module, on the SQLite hub
pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.parametrize("shared_hub", ["sqlite"], indirect=True)]


def accessible(page: Any, name: str) -> None:
    screenshot(page, name, folder="console")
    assert axe_violations(page) == [], name


def test_channel_health_and_a_message_trail(shared_cbs: RunningCbs, browser: Any) -> None:
    cbs = shared_cbs
    page = new_page(browser)
    login(page, cbs.console_url, "olga@hub.nl")
    assert page.get_by_role("heading", name="Gezondheid van het kanaal").is_visible()
    table = page.get_by_role("region", name="Per partij")
    for name in ("Gemeente Amsterdam", "Gemeente Rotterdam"):
        assert table.get_by_role("link", name=name).is_visible()
    amsterdam = table.get_by_role("row").filter(has_text="Gemeente Amsterdam")
    assert amsterdam.get_by_role("cell").nth(2).inner_text().startswith("20")  # last seen
    # the registered, expired certificate of GM1680 is listed as expiring
    expiring = page.locator("#certificaten + ul")
    assert "GM1680" in expiring.inner_text()
    assert "Geen mislukte berichten" in page.content()
    accessible(page, "kanaal")

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Berichten").click()
    assert page.get_by_role("cell", name="gmsd.aanlevering").first.is_visible()
    row = page.get_by_role("row").filter(has_text="gmsd.aanlevering").first
    row.get_by_role("link", name="audittrail").click()
    assert page.get_by_role("heading", name="Audittrail van bericht").is_visible()
    trail = page.locator("table").inner_text()
    for action in ("accepted", "available", "acknowledged"):
        assert action in trail
    assert "afgeleverd" in page.content()
    accessible(page, "audittrail")
    page.goto(f"{cbs.console_url}/berichten/00000000-0000-4000-8000-000000000000")
    assert page.get_by_role("heading", name="Pagina niet gevonden").is_visible()


def test_onboarding_checklist_keeps_its_state(shared_cbs: RunningCbs, browser: Any) -> None:
    cbs = shared_cbs
    page = new_page(browser)
    login(page, cbs.console_url, "olga@hub.nl")
    page.goto(f"{cbs.console_url}/aansluiten")
    page.get_by_label("Nieuwe gemeente (gemeentecode)").fill("GM9999")
    page.get_by_role("button", name="Aansluiten starten").click()
    assert page.get_by_role("status").filter(has_text="bestaat niet").is_visible()

    # Groningen has no party at the hub: the first step cannot be ticked off yet
    page.get_by_label("Nieuwe gemeente (gemeentecode)").fill("GM0014")
    page.get_by_role("button", name="Aansluiten starten").click()
    assert page.get_by_role("heading", name="Groningen aansluiten GM0014").is_visible()
    assert "De hub kent nog geen actieve partij" in page.content()
    assert page.get_by_role("button").filter(has_text="afvinken").count() == 0

    # Rotterdam is registered: register and certificate, then the tests, in order
    page.goto(f"{cbs.console_url}/aansluiten")
    page.get_by_label("Nieuwe gemeente (gemeentecode)").fill("gm0599")
    page.get_by_role("button", name="Aansluiten starten").click()
    assert "Geregistreerd als Gemeente Rotterdam" in page.content()
    for step in ("Registreren bij de hub", "Certificaat geldig", "Burentest"):
        assert page.get_by_role("button", name=f"{step}: afvinken").count() == 1
        if step == "Burentest":
            page.get_by_label("Notitie (optioneel)").fill("ping naar Amsterdam beantwoord")
        page.get_by_role("button", name=f"{step}: afvinken").click()
        assert page.get_by_role("status").filter(has_text="Stap afgevinkt").is_visible()
    accessible(page, "aansluiten-checklist")

    page.goto(f"{cbs.console_url}/aansluiten")
    rows = page.get_by_role("row")
    assert "3 van 5" in rows.filter(has_text="Rotterdam").inner_text()
    assert "Ketentest" in rows.filter(has_text="Rotterdam").inner_text()
    assert "0 van 5" in rows.filter(has_text="Groningen").inner_text()
    accessible(page, "aansluiten")
    # kept in the console's database, not in the page
    kept = cbs.console.onboarding("GM0599")
    assert kept is not None
    assert [s.name for s in kept.steps if s.done_at] == list(STEP_NAMES[:3])
    assert kept.steps[2].note == "ping naar Amsterdam beantwoord"

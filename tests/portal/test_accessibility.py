"""WCAG 2.1 AA beyond axe-core's rules: the portal works by keyboard alone (skip link, login,
menu) and on a phone width, without horizontal scrolling of the page and with axe clean."""

from __future__ import annotations

from typing import Any

import pytest

from tests.portal.conftest import (
    PASSWORD,
    RunningPortal,
    axe_violations,
    login,
    new_page,
    screenshot,
)

pytestmark = [pytest.mark.browser]
PAGES = ["", "/aanleveren", "/rapporten", "/versies", "/besluit", "/uitstel", "/logboek"]


def test_keyboard_only_login_and_navigation(portal_only: RunningPortal, browser: Any) -> None:
    page = new_page(browser)
    page.goto(f"{portal_only.url}/inloggen")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
    page.keyboard.press("Tab")  # the logo link
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type("anna@amsterdam.nl")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{portal_only.url}/gemeente/GM0363")
    # the skip link moves focus to the main content
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "inhoud"
    # every menu item is reachable by Tab and shows a visible focus outline
    page.goto(f"{portal_only.url}/gemeente/GM0363")
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.textContent.trim()"))
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", seen[-1]
    for item in ("Overzicht", "Aanleveren", "Rapporten", "Besluit", "Uitloggen"):
        assert item in seen, item


@pytest.mark.parametrize("width,height,name", [(1366, 768, "laptop"), (390, 844, "telefoon")])
def test_every_page_fits_the_screen_and_passes_axe(portal_only: RunningPortal, browser: Any,
                                                   width: int, height: int, name: str) -> None:
    page = new_page(browser, width, height)
    login(page, portal_only.url, "anna@amsterdam.nl")
    for suffix in PAGES:
        page.goto(f"{portal_only.url}/gemeente/GM0363{suffix}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{suffix or '/'} scrolls sideways by {overflow}px at {width}px"
        assert axe_violations(page) == [], suffix
    page.goto(f"{portal_only.url}/gemeente/GM0363")
    screenshot(page, f"40-overzicht-{name}")
    page.goto(f"{portal_only.url}/gemeente/GM0363/aanleveren")
    screenshot(page, f"41-aanleveren-{name}")

"""The portal's pages render for a logged-in medewerker (browser), with axe-core clean."""

from __future__ import annotations

from tests.portal.conftest import (
    RunningPortal,
    axe_violations,
    login,
    new_page,
    screenshot,
)


def test_login_and_overview(portal_only: RunningPortal, browser) -> None:  # type: ignore[no-untyped-def]
    page = new_page(browser)
    page.goto(f"{portal_only.url}/gemeente/GM0363")
    assert "/inloggen" in page.url
    screenshot(page, "01-inloggen")
    assert axe_violations(page) == []
    login(page, portal_only.url, "anna@amsterdam.nl")
    assert page.url.endswith("/gemeente/GM0363")
    assert page.get_by_role("heading", name="Gemeente Amsterdam: periode 2026-H1").is_visible()
    screenshot(page, "02-overzicht")
    assert axe_violations(page) == []

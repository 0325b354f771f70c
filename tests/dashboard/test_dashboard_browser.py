"""The CBS dashboard in a real browser (Debian's chromium) against a real hub and station: the
period page with counts and chart, the filters, a municipality's page, the periods side by side,
the CSV and Excel export; granting an extension and sending a reminder, which reach the
municipality through the channel (its mailbox at the hub) and by e-mail (a real SMTP server).
Every page passes axe-core (WCAG 2.1 AA); screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from ggk.conversation import Kind, kind_of
from tests.dashboard.conftest import PERIOD, RunningCbs, audit_events, wait_until
from tests.portal.conftest import login
from tests.web.browser import axe_violations, new_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def accessible(page: Any, name: str) -> None:
    screenshot(page, name, folder="dashboard")
    assert axe_violations(page) == [], name


def mailbox_kinds(cbs: RunningCbs, party: str) -> list[tuple[Kind | None, dict[str, Any]]]:
    with cbs.chain.client(party) as client:
        return [(kind_of(m.type), dict(m.metadata or {}))
                for m in client.mailbox(limit=100).messages]


def test_period_page_filters_gemeente_and_export(cbs: RunningCbs, browser: Any) -> None:
    page = new_page(browser)
    login(page, cbs.dashboard_url, "cees@cbs.nl")
    assert page.get_by_role("heading", name=f"Aanleveringen periode {PERIOD}").is_visible()
    figures = page.locator(".ggk-figure")
    assert "aangeleverd" in figures.nth(1).inner_text() and "2" in figures.nth(1).inner_text()
    assert page.get_by_role("img", name=f"Aanleveringen GMSD {PERIOD}").is_visible()
    assert page.locator("table.ggk-compact tbody tr").count() == 50  # a page of municipalities
    accessible(page, "periode")
    page.get_by_label("Gemeente", exact=True).fill("amster")
    page.get_by_role("button", name="Toon").click()
    assert page.get_by_role("link", name="Amsterdam", exact=True).is_visible()
    assert page.locator("table.ggk-compact tbody tr").count() == 1
    page.goto(f"{cbs.dashboard_url}/?periode={PERIOD}")
    page.get_by_label("Volgorde").select_option("aandacht")
    page.get_by_role("button", name="Toon").click()
    first = page.locator("table.ggk-compact tbody tr").first.inner_text()
    assert "Rotterdam" in first  # rejected: first when attention comes first

    page.get_by_role("link", name="Afgekeurd", exact=True).click()
    rows = page.locator("table.ggk-compact tbody tr")
    assert rows.count() == 1 and "Rotterdam" in rows.first.inner_text()
    page.get_by_role("link", name="Nog geen besluit").click()
    assert "Amsterdam" in page.locator("table.ggk-compact tbody").inner_text()
    assert "Rotterdam" not in page.locator("table.ggk-compact tbody").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporteer CSV").click()
    text = download.value.path().read_text("utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [r["gemeentecode"] for r in exported] == ["GM0363"]
    assert exported[0]["toestand"] in ("goedgekeurd", "spiegelrapport-verzonden")
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporteer Excel").click()
    assert download.value.path().read_bytes()[:2] == b"PK"  # an xlsx is a zip file

    page.goto(f"{cbs.dashboard_url}/gemeente/GM0599?periode={PERIOD}")
    assert page.get_by_role("heading", name="Rotterdam GM0599").is_visible()
    assert "afgekeurd" in page.locator("table").first.inner_text()
    assert page.get_by_role("link", name="report.html").first.is_visible()
    accessible(page, "gemeente")
    page.get_by_role("link", name="report.html").first.click()  # the station's own report
    assert "GM0599" in page.content()

    page.goto(f"{cbs.dashboard_url}/vergelijken")
    assert page.get_by_role("columnheader", name="2026-H1").first.is_visible()
    accessible(page, "vergelijken")


def test_extension_and_reminder_reach_the_municipality(cbs: RunningCbs, browser: Any) -> None:
    page = new_page(browser)
    login(page, cbs.dashboard_url, "cees@cbs.nl")
    for code, email in (("GM0363", "data@amsterdam.nl"), ("GM0599", "data@rotterdam.nl")):
        page.goto(f"{cbs.dashboard_url}/gemeente/{code}?periode={PERIOD}")
        page.get_by_label("E-mailadres").fill(email)
        page.get_by_role("button", name="Toevoegen").click()
        assert page.get_by_role("status").filter(has_text=email).is_visible()

    page.goto(f"{cbs.dashboard_url}/gemeente/GM0363?periode={PERIOD}")
    page.get_by_label("Aanleveren tot en met").fill("2026-09-30")  # the deadline itself
    page.get_by_role("button", name="Uitstel verlenen").click()
    assert page.get_by_role("status").filter(has_text="na de deadline").is_visible()
    page.get_by_label("Aanleveren tot en met").fill("2026-10-20")
    page.get_by_label("Toelichting voor de gemeente (optioneel)").fill("Storing bij de leverancier")
    page.get_by_role("button", name="Uitstel verlenen").click()
    assert page.get_by_role("status").filter(has_text="20-10-2026").is_visible()
    assert "uitstel tot 20-10-2026" in page.locator("table").first.inner_text()
    accessible(page, "uitstel-verleend")

    page.goto(f"{cbs.dashboard_url}/?periode={PERIOD}")
    page.get_by_text("Herinnering sturen aan alle gemeenten").click()
    page.get_by_role("button", name="Herinnering GMSD versturen").click()
    assert page.get_by_role("status").filter(has_text="Herinnering klaargezet").is_visible()
    accessible(page, "herinnering-klaargezet")

    def told(party: str, kind: Kind) -> list[dict[str, Any]]:
        return [meta for found, meta in mailbox_kinds(cbs, party) if found is kind]

    wait_until(lambda: told("gemeente_a", Kind.UITSTEL), "gmsd.uitstel at GM0363")
    assert told("gemeente_a", Kind.UITSTEL)[0]["tot"] == "2026-10-20"
    wait_until(lambda: told("gemeente_b", Kind.HERINNERING), "gmsd.herinnering at GM0599")
    reminder = told("gemeente_b", Kind.HERINNERING)[0]
    assert reminder["gemeente"] == "GM0599" and "GMSD 2026-H1" in reminder["bericht"]
    assert not told("gemeente_a", Kind.HERINNERING)  # GM0363 has accepted data
    # 341 municipalities lack accepted data; those without an active party at this hub are
    # booked as undeliverable once (not retried), the others are sent
    assert len(audit_events(cbs.records, "herinnering-gevraagd")) == 341
    wait_until(lambda: len(audit_events(cbs.records, "herinnering-niet-bezorgd"))
               + len(audit_events(cbs.records, "herinnering-gemeld")) == 341,
               "every reminder sent or booked")
    assert len(audit_events(cbs.records, "herinnering-niet-bezorgd")) >= 339

    subjects = {(m["X-Rcpt"], m["Subject"]) for m in cbs.mail.messages}
    assert ("data@amsterdam.nl", "Uitstel GMSD 2026-H1") in subjects
    assert ("data@rotterdam.nl", "Herinnering: aanlevering GMSD 2026-H1") in subjects
    assert not any(rcpt == "data@amsterdam.nl" and "Herinnering" in subject
                   for rcpt, subject in subjects)

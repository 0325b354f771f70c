"""The whole municipal flow in a real browser against a real hub, station and portal: log in,
upload a file with defects, see the findings, send it anyway, read CBS's technical report, upload
the correction (by drag and drop), read the spiegelrapport, comment a flag, see the versions and
their differences, opt in with confirmation; every page passes axe-core (WCAG 2.1 AA)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from ggk.definitions import shipped
from ggk.testdata.generator import generate
from tests.portal.conftest import (
    RunningPortal,
    axe_violations,
    login,
    new_page,
    screenshot,
)

PERIOD = "2026-H1"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def make_file(tmp: Path, name: str, errors: dict[str, int] | None) -> Path:
    generated = generate(shipped().for_period("gmsd", PERIOD), "basis", "GM0363", PERIOD,
                         rows=400, errors=errors, seed=7, out=tmp / name)
    return Path(generated.path)


def accessible(page: Any, name: str) -> None:
    screenshot(page, name)
    assert axe_violations(page) == [], name


def wait_for_report(page: Any, url: str, title: str, count: int = 1,
                    timeout: float = 120) -> None:
    """Reload the reports list until `count` reports titled `title` are there."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(f"{url}/gemeente/GM0363/rapporten")
        if page.get_by_role("link", name=title, exact=True).count() >= count:
            return
        assert time.monotonic() < deadline, f"no {title} after {timeout} s"
        time.sleep(1)


def upload(page: Any, url: str, path: Path, *, drop: bool = False) -> None:
    page.goto(f"{url}/gemeente/GM0363/aanleveren")
    page.get_by_label("Welk bestand?").select_option("basis")
    if drop:
        data = path.read_bytes().decode("utf-8")
        transfer = page.evaluate_handle(
            "([text, name]) => { const t = new DataTransfer(); "
            "t.items.add(new File([text], name, {type: 'text/csv'})); return t; }",
            [data, path.name])
        page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    else:
        page.get_by_label("CSV-bestand").set_input_files(str(path))
    page.get_by_role("button", name="Uploaden en controleren").click()
    page.wait_for_url(re.compile(r"/aanleveren/[0-9a-f-]{36}$"))
    page.get_by_text(re.compile(r"Controle: (goedgekeurd|afgekeurd)")).wait_for()


def test_deliver_correct_read_comment_decide(portal_chain: RunningPortal, browser: Any,
                                             tmp_path: Path) -> None:
    url = portal_chain.url
    defective = make_file(tmp_path, "fout", {"elfproef": 3, "dubbel-record": 2})
    correct = make_file(tmp_path, "goed", None)
    page = new_page(browser)
    login(page, url, "anna@amsterdam.nl")
    accessible(page, "10-overzicht-leeg")

    # a file with defects: the portal's own check shows the findings before anything is sent
    upload(page, url, defective)
    assert page.get_by_text("Controle: afgekeurd.").is_visible()
    assert page.get_by_role("cell", name="elfproef").first.is_visible()
    accessible(page, "11-upload-afgekeurd")
    page.get_by_role("button", name="Versturen naar CBS").click()
    assert page.get_by_text("Kruis aan dat u het toch wilt versturen").is_visible()
    page.get_by_label(re.compile("toch naar CBS versturen")).check()
    page.get_by_role("button", name="Versturen naar CBS").click()
    page.get_by_text("Verstuurd naar CBS").wait_for(timeout=60_000)

    # CBS's technical report arrives in the portal: afgekeurd, with the same findings
    wait_for_report(page, url, "Technisch controlerapport")
    accessible(page, "12-rapporten")
    page.get_by_role("link", name="Technisch controlerapport", exact=True).first.click()
    assert page.get_by_text(re.compile(r"Afgekeurd \(versie 1\)")).is_visible()
    assert page.get_by_role("cell", name="elfproef").first.is_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == "technisch-controlerapport.pdf"
    accessible(page, "13-technisch-rapport-afgekeurd")

    # the correction, by drag and drop: goedgekeurd locally, sent, accepted by CBS
    upload(page, url, correct, drop=True)
    assert page.get_by_text("Controle: goedgekeurd.").is_visible()
    page.get_by_role("button", name="Versturen naar CBS").click()
    page.get_by_text("Verstuurd naar CBS").wait_for(timeout=60_000)
    wait_for_report(page, url, "Spiegelrapport", timeout=180)

    # the spiegelrapport: shown in the page, CSV download, a comment on a flag goes to CBS
    page.get_by_role("link", name="Spiegelrapport", exact=True).first.click()
    page.get_by_role("heading", name=re.compile("^Signalen")).wait_for()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download indicatoren (CSV)").click()
    assert download.value.suggested_filename == "spiegelrapport.csv"
    accessible(page, "14-spiegelrapport")
    comment_fields = page.get_by_label("Uw toelichting bij dit signaal")
    assert comment_fields.count() > 0, "the spiegelrapport of this test data has flags"
    comment_fields.first.fill("Wij hebben in 2026 de toegang tot de Wmo herzien.")
    page.get_by_role("button", name="Toelichting versturen naar CBS").first.click()
    assert page.get_by_text("is verstuurd naar CBS").is_visible()
    assert page.get_by_text("Wij hebben in 2026 de toegang tot de Wmo herzien.").is_visible()

    # versions with the differences between them
    page.goto(f"{url}/gemeente/GM0363/versies")
    assert page.get_by_role("heading", name="Versie 2: goedgekeurd").is_visible()
    assert page.get_by_role("heading", name="Versie 1: afgekeurd").is_visible()
    assert page.get_by_role("cell", name="elfproef").first.is_visible()
    accessible(page, "15-versies")

    # the besluit, with a confirmation that says what it means
    page.goto(f"{url}/gemeente/GM0363/besluit")
    page.get_by_label("Opt-in: CBS mag de cijfers publiceren").check()
    page.get_by_role("button", name="Verder").click()
    assert page.get_by_text("U kiest opt-in voor 2026-H1.").is_visible()
    accessible(page, "16-besluit-bevestigen")
    page.get_by_role("button", name="Ja, verstuur dit besluit naar CBS").click()
    assert page.get_by_text("Uw besluit (opt-in) voor 2026-H1 is verstuurd").is_visible()
    wait_for_report(page, url, "Bevestiging van CBS", count=2)  # the toelichting's and this one
    page.goto(f"{url}/gemeente/GM0363")
    page.get_by_text("opt-in: bevestigd door CBS").wait_for()
    accessible(page, "17-overzicht-na-besluit")

    # the audit trail names the person and the gemeente of every action
    page.goto(f"{url}/gemeente/GM0363/logboek")
    for action in ("upload.start", "aanlevering.send", "spiegelrapport.toelichting",
                   "besluit.opt-in"):
        assert page.get_by_role("cell", name=action).count() >= 1, action
    entries = portal_chain.portal.web.audit.entries(organisation="GM0363")
    assert {e.user_email for e in entries if e.action == "besluit.opt-in"} == {
        "anna@amsterdam.nl"}

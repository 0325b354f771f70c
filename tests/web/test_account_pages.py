"""'Mijn account' and the beheerder's account pages of the web foundation, against a real TLS
server: password change (old password dead, other sessions ended, Dutch errors), two-step login
turned on in chromium and then used with a code computed by pyotp, the beheerder adding,
disabling and resetting accounts, a medewerker kept out, CSRF refused, axe-core clean."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from ggk.web.account_views import accounts_admin_router
from ggk.web.app import WebConfig, WebFoundation
from ggk.web.interfaces import Membership
from tests.web.browser import axe_violations, log_in_page, new_page, screenshot
from tests.web.conftest import PASSWORD, RunningWeb, csrf_of, demo_router, log_in, serve

GEMEENTEN = [("GM0363", "Gemeente Amsterdam"), ("GM0599", "Gemeente Rotterdam")]
NEW_PASSWORD = "een-nieuw-wachtwoord-42"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, web_tls: tuple[Path, Path]
         ) -> Iterator[RunningWeb]:
    """One server for the module (SQLite): anna medewerker GM0363, bea beheerder."""
    folder = tmp_path_factory.mktemp("accounts")
    web = WebFoundation(WebConfig(database_url=f"sqlite:///{folder / 'web.db'}",
                                  title="Testportaal"))
    web.migrate()
    web.accounts.create("anna@amsterdam.nl", "Anna de Vries", PASSWORD,
                        memberships=[Membership("GM0363", "medewerker")])
    web.accounts.create("bea@hub.nl", "Bea Beheer", PASSWORD, beheerder=True)
    yield from serve(web, [demo_router(), accounts_admin_router(lambda: GEMEENTEN)], web_tls)


def actions_of(web: WebFoundation, email: str) -> list[str]:
    return [e.action for e in web.audit.entries() if e.user_email == email]


def test_password_change_kills_the_old_password_and_other_sessions(running_web: RunningWeb
                                                                   ) -> None:
    with running_web.client() as client, running_web.client() as laptop:
        log_in(client)
        log_in(laptop)
        token = csrf_of(client.get("/mijn-account").text)
        form = {"csrf_token": token, "huidig": PASSWORD, "nieuw": NEW_PASSWORD,
                "herhaal": NEW_PASSWORD}
        assert client.post("/mijn-account/wachtwoord", data={
            k: v for k, v in form.items() if k != "csrf_token"}).status_code == 403
        short = client.post("/mijn-account/wachtwoord",
                            data={**form, "nieuw": "kort", "herhaal": "kort"})
        assert short.status_code == 400 and "minstens 12 tekens" in short.text
        differ = client.post("/mijn-account/wachtwoord", data={**form, "herhaal": "x" * 20})
        assert differ.status_code == 400 and "niet gelijk" in differ.text
        wrong = client.post("/mijn-account/wachtwoord", data={**form, "huidig": "geraden-1234"})
        assert wrong.status_code == 400 and "huidige wachtwoord klopt niet" in wrong.text
        changed = client.post("/mijn-account/wachtwoord", data=form)
        assert changed.status_code == 303 and changed.headers["location"] == "/mijn-account"
        assert "Hallo Anna" in client.get("/").text  # this session goes on
        assert laptop.get("/").headers["location"] == "/inloggen?volgende=/"  # that one ended
    with running_web.client() as fresh:
        assert log_in(fresh).status_code == 400  # the old password no longer works
        assert log_in(fresh, password=NEW_PASSWORD).status_code == 303
    changes = [e for e in running_web.web.audit.entries()
               if e.action == "account.password-change"]
    assert len(changes) == 1 and "1 andere sessie(s)" in changes[0].detail
    assert "account.password-refused" in actions_of(running_web.web, "anna@amsterdam.nl")


def test_a_medewerker_cannot_reach_the_account_administration(site: RunningWeb) -> None:
    anna = site.web.accounts.by_email("anna@amsterdam.nl")
    assert anna is not None
    with site.client() as client:
        log_in(client)
        token = csrf_of(client.get("/mijn-account").text)
        hidden = client.get("/beheer/accounts")  # as a page that does not exist
        assert hidden.status_code == 404 and "Pagina niet gevonden" in hidden.text
        for path, data in [("/beheer/accounts", {"email": "x@amsterdam.nl", "naam": "X",
                                                 "gemeente": "GM0363", "rol": "medewerker"}),
                           (f"/beheer/accounts/{anna.id}/uitschakelen", {}),
                           (f"/beheer/accounts/{anna.id}/tweestaps-herstellen", {})]:
            assert client.post(path, data={**data, "csrf_token": token}).status_code == 404
    assert site.web.accounts.by_email("x@amsterdam.nl") is None
    with site.client() as beheerder:
        log_in(beheerder, "bea@hub.nl")
        refused = beheerder.post(f"/beheer/accounts/{anna.id}/uitschakelen")  # no token
        assert refused.status_code == 403
    assert (user := site.web.accounts.get(anna.id)) is not None and user.active


def test_two_step_login_and_account_administration_in_the_browser(
        site: RunningWeb, module_browser: Any) -> None:
    page = new_page(module_browser)
    log_in_page(page, site.url, "anna@amsterdam.nl", PASSWORD)
    page.get_by_role("link", name="Mijn account").click()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Inloggen in twee stappen instellen").click()
    secret = page.locator("#totp-sleutel").inner_text().strip()
    assert f"secret={secret}" in page.locator("#totp-uri").inner_text()
    assert page.locator(".ggk-qr svg").count() == 1
    assert axe_violations(page) == []
    screenshot(page, "50-mijn-account-tweestaps", folder="web")
    page.get_by_label("Code uit uw app").fill("000000" if pyotp.TOTP(secret).now() != "000000"
                                             else "111111")
    page.get_by_role("button", name="Bevestigen en aanzetten").click()
    assert "klopt niet" in page.get_by_role("alert").inner_text()
    assert not site.web.accounts.by_email("anna@amsterdam.nl").totp_enabled  # type: ignore[union-attr]
    page.get_by_label("Code uit uw app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Bevestigen en aanzetten").click()
    assert "staat aan" in page.get_by_role("status").inner_text()
    page.get_by_role("button", name="Uitloggen").click()

    # logging in now asks for a code; the one used to confirm is spent, the next one works
    log_in_page(page, site.url, "anna@amsterdam.nl", PASSWORD)
    assert page.url.endswith("/inloggen/code")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_load_state()
    assert "Hallo Anna de Vries" in page.content()

    # the beheerder adds an account, resets Anna's two-step login, disables her account
    admin = new_page(module_browser)
    log_in_page(admin, site.url, "bea@hub.nl", PASSWORD)
    admin.goto(f"{site.url}/beheer/accounts")
    assert axe_violations(admin) == []
    admin.get_by_label("E-mailadres").fill("piet@rotterdam.nl")
    admin.get_by_label("Naam").fill("Piet Pieters")
    admin.get_by_label("Wachtwoord").fill("kort")
    admin.locator("#nieuw-wachtwoord").evaluate("e => e.removeAttribute('minlength')")
    admin.get_by_label("Gemeente").select_option("GM0599")
    admin.get_by_label("alleen-lezen").check()
    admin.get_by_role("button", name="Account toevoegen").click()
    assert "te kort" in admin.get_by_role("alert").inner_text()
    assert admin.get_by_label("E-mailadres").input_value() == "piet@rotterdam.nl"
    assert axe_violations(admin) == []
    admin.get_by_label("Wachtwoord").fill("lang-genoeg-wachtwoord")
    admin.get_by_role("button", name="Account toevoegen").click()
    assert "piet@rotterdam.nl is aangemaakt" in admin.get_by_role("status").inner_text()
    piet = site.web.accounts.by_email("piet@rotterdam.nl")
    assert piet is not None and piet.memberships == (Membership("GM0599", "alleen-lezen"),)
    admin.get_by_role("button", name="Twee stappen van anna@amsterdam.nl herstellen").click()
    admin.get_by_role("button", name="anna@amsterdam.nl uitschakelen").click()
    row = admin.get_by_role("row").filter(has_text="anna@amsterdam.nl")
    assert re.search(r"uitgeschakeld\s+uit", row.inner_text())
    screenshot(admin, "51-accounts-beheer", folder="web")
    page.reload()
    assert page.url.endswith("/inloggen?volgende=/")  # her session ended with the account
    entries = [e for e in site.web.audit.entries() if e.user_email == "bea@hub.nl"]
    assert [e.action for e in entries][:3] == [
        "account.disable", "account.totp-reset", "account.create"]
    assert "anna@amsterdam.nl" in entries[0].detail and entries[0].organisation == "GM0363"
    assert {"account.totp-on", "account.totp-refused"} <= set(
        actions_of(site.web, "anna@amsterdam.nl"))

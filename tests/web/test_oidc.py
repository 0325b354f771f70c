"""OpenID Connect login against a real provider (npm oidc-provider under node, started here):
authorization code with PKCE, state and nonce, ID token verified against the provider's keys;
the provider's subject is linked to the account with its verified e-mail; a person without an
account is refused; a callback with a forged state is refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ggk.web.app import WebConfig, WebFoundation
from ggk.web.interfaces import Membership
from ggk.web.oidc import OidcSettings
from ggk.web.server import BackgroundServer
from tests.conftest import IN_CI
from tests.web.browser import axe_violations, new_page, screenshot
from tests.web.conftest import PASSWORD, demo_router, free_port

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = Path(__file__).with_name("oidc_provider.mjs")
pytestmark = [pytest.mark.browser]


def need_node() -> str:
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = "node is not installed"
    elif not (ROOT / "node_modules" / "oidc-provider").is_dir():
        problem = "npm packages are not installed: run `make install` (npm ci)"
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)
    assert node is not None
    return node


@pytest.fixture
def oidc_web(sqlite_url: str, web_tls: tuple[Path, Path]) -> Iterator[tuple[str, WebFoundation]]:
    node = need_node()
    ca, server_pem = web_tls
    port = free_port()
    settings = OidcSettings(f"http://127.0.0.1:{port}", "ggk-portaal", "geheim-" + "x" * 32, "")
    web = WebFoundation(WebConfig(database_url=sqlite_url, title="Testportaal", oidc=settings))
    web.migrate()
    web.accounts.create("anna@amsterdam.nl", "Anna de Vries", PASSWORD,
                        memberships=[Membership("GM0363", "medewerker")])
    server = BackgroundServer(web.create_app([demo_router()]), cert=server_pem)
    url = server.start()
    settings.redirect_uri = f"{url}/inloggen/oidc/terug"
    env = {**os.environ, "PORT": str(port), "CLIENT_ID": settings.client_id,
           "CLIENT_SECRET": settings.client_secret, "REDIRECT_URI": settings.redirect_uri}
    process = subprocess.Popen([node, str(PROVIDER)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{settings.issuer}/.well-known/openid-configuration",
                             timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "oidc-provider did not start"
            time.sleep(0.2)
        yield url, web
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        server.stop()
        web.engine.dispose()


def provider_login(page: Any, login: str) -> None:
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("iets")
    page.locator("button[type=submit]").click()
    page.locator("button[type=submit]", has_text="Continue").click()  # consent


def test_oidc_login_links_the_verified_email_and_refuses_strangers(oidc_web: Any, browser: Any
                                                                   ) -> None:
    url, web = oidc_web
    page = new_page(browser)
    page.goto(f"{url}/")
    assert page.get_by_role("link", name="Inloggen met uw organisatie-account").is_visible()
    screenshot(page, "30-inloggen-met-oidc")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Inloggen met uw organisatie-account").click()
    provider_login(page, "anna@amsterdam.nl")
    page.wait_for_url(f"{url}/")
    assert page.get_by_text("Hallo Anna de Vries").is_visible()
    user = web.accounts.by_email("anna@amsterdam.nl")
    issuer = web.config.oidc.metadata()["issuer"]
    assert web.accounts.by_oidc(issuer, "anna@amsterdam.nl") == user
    assert any(e.action == "login" and "inlogdienst" in e.detail for e in web.audit.entries())

    stranger = new_page(browser)
    stranger.goto(f"{url}/inloggen/oidc")
    provider_login(stranger, "mallory@elders.nl")
    assert stranger.get_by_text("heeft geen account in dit portaal").is_visible()
    stranger.goto(f"{url}/")
    assert "/inloggen" in stranger.url


def test_a_callback_that_this_browser_did_not_start_is_refused(oidc_web: Any, browser: Any
                                                               ) -> None:
    url, web = oidc_web
    page = new_page(browser)
    page.goto(f"{url}/inloggen/oidc/terug?code=gestolen&state=verzonnen")
    assert page.get_by_text("niet door u gestart").is_visible()
    page.goto(f"{url}/")
    assert "/inloggen" in page.url

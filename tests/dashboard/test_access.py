"""Only CBS's collection managers get into the dashboard and only the hub operator into the
console: a municipality's account (and the other internal role) is refused at login and every
CBS page sends it to the login page, GET and POST alike."""

from __future__ import annotations

import ssl

import httpx
import pytest

from tests.dashboard.conftest import PASSWORD, RunningCbs
from tests.web.conftest import csrf_of

DASHBOARD_PAGES = ("/", "/?filter=te-laat", "/vergelijken", "/gemeente/GM0363?periode=2026-H1",
                   "/export.csv", "/export.xlsx")
DASHBOARD_ACTIONS = ("/herinnering", "/gemeente/GM0363/uitstel", "/gemeente/GM0363/contact")
CONSOLE_PAGES = ("/", "/berichten", "/aansluiten")
CONSOLE_ACTIONS = ("/aansluiten", "/aansluiten/GM0363/registreren")

# both tests only log in and read: one chain for the module, on the SQLite hub
pytestmark = pytest.mark.parametrize("shared_hub", ["sqlite"], indirect=True)


def client(cbs: RunningCbs, url: str) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(cbs.chain.hub.ca))
    return httpx.Client(base_url=url, verify=context, timeout=20, follow_redirects=False)


def try_login(http: httpx.Client, email: str) -> httpx.Response:
    page = http.get("/inloggen")
    return http.post("/inloggen", data={"csrf_token": csrf_of(page.text), "email": email,
                                        "wachtwoord": PASSWORD})


def assert_refused_everywhere(http: httpx.Client, pages: tuple[str, ...],
                              actions: tuple[str, ...]) -> None:
    for path in pages:
        answer = http.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/inloggen"), path
    token = csrf_of(http.get("/inloggen").text)
    for path in actions:
        answer = http.post(path, data={"csrf_token": token, "statistiek": "gmsd",
                                       "periode": "2026-H1", "tot": "2026-12-31"})
        assert answer.status_code == 401, path


def test_a_municipality_cannot_log_in_to_any_cbs_page(shared_cbs: RunningCbs) -> None:
    cbs = shared_cbs
    for url, pages, actions, other in (
            (cbs.dashboard_url, DASHBOARD_PAGES, DASHBOARD_ACTIONS, "olga@hub.nl"),
            (cbs.console_url, CONSOLE_PAGES, CONSOLE_ACTIONS, "cees@cbs.nl")):
        for email in ("anna@amsterdam.nl", other):
            with client(cbs, url) as http:
                refused = try_login(http, email)
                assert refused.status_code == 400, (url, email)
                assert "geen toegang" in refused.text
                assert_refused_everywhere(http, pages, actions)


def test_the_right_role_gets_in(shared_cbs: RunningCbs) -> None:
    cbs = shared_cbs
    for url, email, pages in ((cbs.dashboard_url, "cees@cbs.nl", DASHBOARD_PAGES),
                              (cbs.console_url, "olga@hub.nl", CONSOLE_PAGES)):
        with client(cbs, url) as http:
            assert try_login(http, email).status_code == 303
            for path in pages:
                assert http.get(path).status_code == 200, (url, path)

"""Login, sessions and CSRF of the web foundation, against a real TLS server, on SQLite and
PostgreSQL: cookies, CSRF refusals, session fixation, the login rate limit, TOTP, headers."""

from __future__ import annotations

import pyotp

from ggk.web.sessions import COOKIE_NAME
from tests.web.conftest import PASSWORD, RunningWeb, csrf_of, log_in


def test_login_sets_a_host_only_secure_cookie_and_security_headers(running_web: RunningWeb
                                                                    ) -> None:
    with running_web.client() as client:
        assert client.get("/").headers["location"] == "/inloggen?volgende=/"
        response = log_in(client)
        assert response.status_code == 303 and response.headers["location"] == "/"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE_NAME}=")
        for attribute in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
            assert attribute.lower() in cookie.lower(), attribute
        assert "domain=" not in cookie.lower()
        page = client.get("/")
        assert page.status_code == 200 and "Hallo Anna de Vries" in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"


def test_state_changing_requests_need_the_sessions_csrf_token(running_web: RunningWeb) -> None:
    with running_web.client() as client, running_web.client() as other:
        log_in(client)
        token = csrf_of(client.get("/").text)
        assert client.post("/actie").status_code == 403  # no token
        assert client.post("/actie", data={"csrf_token": "x" * 43}).status_code == 403
        log_in(other)
        foreign = csrf_of(other.get("/").text)  # a valid token, of another session
        assert client.post("/actie", data={"csrf_token": foreign}).status_code == 403
        assert client.post("/actie", headers={"X-CSRF-Token": foreign}).status_code == 403
        assert client.post("/actie", data={"csrf_token": token}).text == "gedaan"
        assert client.post("/actie", headers={"X-CSRF-Token": token}).text == "gedaan"
        # the login form itself is protected too (login CSRF)
        fresh = running_web.client()
        refused = fresh.post("/inloggen", data={"email": "anna@amsterdam.nl",
                                                "wachtwoord": PASSWORD})
        assert refused.status_code == 403 and COOKIE_NAME not in refused.headers.get(
            "set-cookie", "")
        fresh.close()
    actions = [e for e in running_web.web.audit.entries() if e.action == "demo.action"]
    assert len(actions) == 2 and {e.user_email for e in actions} == {"anna@amsterdam.nl"}


def test_a_session_id_planted_before_login_is_worthless_after_it(running_web: RunningWeb
                                                                  ) -> None:
    with running_web.client() as attacker, running_web.client() as victim:
        attacker.get("/inloggen")
        planted = attacker.cookies[COOKIE_NAME]
        victim.cookies.set(COOKIE_NAME, planted, domain="127.0.0.1")
        page = victim.get("/inloggen")
        assert victim.cookies[COOKIE_NAME] == planted  # the victim now uses the planted id
        victim.post("/inloggen", data={"csrf_token": csrf_of(page.text),
                                       "email": "anna@amsterdam.nl", "wachtwoord": PASSWORD})
        assert victim.cookies[COOKIE_NAME] != planted  # a new id at login
        assert victim.get("/").status_code == 200
        assert attacker.get("/").status_code == 303  # the planted id is not logged in
        # an id the server never issued is not adopted either
        invented = running_web.client()
        invented.cookies.set(COOKIE_NAME, "gekozen-door-aanvaller", domain="127.0.0.1")
        log_in(invented)
        assert invented.cookies[COOKIE_NAME] != "gekozen-door-aanvaller"
        invented.close()


def test_logout_ends_the_session_on_the_server(running_web: RunningWeb) -> None:
    with running_web.client() as client:
        log_in(client)
        old = client.cookies[COOKIE_NAME]
        client.post("/uitloggen", data={"csrf_token": csrf_of(client.get("/").text)})
        with running_web.client() as replay:
            replay.cookies.set(COOKIE_NAME, old, domain="127.0.0.1")
            assert replay.get("/").status_code == 303


def test_login_is_rate_limited_per_account(running_web: RunningWeb) -> None:
    with running_web.client() as client:
        for _ in range(5):
            response = log_in(client, password="fout-wachtwoord-1")
            assert response.status_code == 400
            assert "E-mailadres of wachtwoord klopt niet" in response.text
        blocked = log_in(client)  # the right password, but too many failures just now
        assert blocked.status_code == 429 and "Te veel mislukte inlogpogingen" in blocked.text
        assert client.get("/").status_code == 303
    refused = [e for e in running_web.web.audit.entries() if e.action == "login.refused"]
    assert len(refused) == 6


def test_unknown_account_and_wrong_password_get_the_same_answer(running_web: RunningWeb
                                                                 ) -> None:
    with running_web.client() as client:
        unknown = log_in(client, email="niemand@nergens.nl", password="iets-anders-123")
        wrong = log_in(client, password="iets-anders-123")
        assert unknown.status_code == wrong.status_code == 400
        assert "E-mailadres of wachtwoord klopt niet" in unknown.text


def test_totp_is_asked_after_the_password_and_a_code_works_once(running_web: RunningWeb
                                                                 ) -> None:
    accounts = running_web.web.accounts
    user = accounts.by_email("anna@amsterdam.nl")
    assert user is not None
    secret = accounts.enable_totp(user.id)
    with running_web.client() as client:
        response = log_in(client)
        assert response.headers["location"] == "/inloggen/code"
        assert client.get("/").status_code == 303  # password alone is not enough
        page = client.get("/inloggen/code")
        wrong = client.post("/inloggen/code", data={"csrf_token": csrf_of(page.text),
                                                    "code": "000000"})
        assert wrong.status_code == 400 and "klopt niet" in wrong.text
        code = pyotp.TOTP(secret).now()
        ok = client.post("/inloggen/code", data={"csrf_token": csrf_of(page.text), "code": code})
        assert ok.status_code == 303
        assert client.get("/").status_code == 200
    with running_web.client() as again:
        log_in(again)
        page = again.get("/inloggen/code")
        reused = again.post("/inloggen/code", data={"csrf_token": csrf_of(page.text),
                                                    "code": code})
        assert reused.status_code == 400  # the same code is not accepted twice


def test_login_redirect_stays_on_this_site(running_web: RunningWeb) -> None:
    with running_web.client() as client:
        client.get("/inloggen", params={"volgende": "https://evil.example/"})
        assert log_in(client).headers["location"] == "/"

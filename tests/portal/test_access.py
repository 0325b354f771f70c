"""Who may see and do what in the portal: a user of municipality A gets nothing of B (the same
"not found" as for a page that does not exist, also for uploads and report files), alleen-lezen
may look but not act, and only a beheerder reaches the operator page."""

from __future__ import annotations

import ssl
from contextlib import closing

import httpx
import pytest

from tests.portal.conftest import PASSWORD, RunningPortal
from tests.web.conftest import csrf_of


def client_for(portal: RunningPortal, email: str) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(portal.chain.hub.ca))
    client = httpx.Client(base_url=portal.url, verify=context, timeout=30)
    page = client.get("/inloggen")
    response = client.post("/inloggen", data={"csrf_token": csrf_of(page.text), "email": email,
                                              "wachtwoord": PASSWORD})
    assert response.status_code == 303, response.text
    return client


B_PAGES = ["/gemeente/GM0599", "/gemeente/GM0599/aanleveren", "/gemeente/GM0599/rapporten",
           "/gemeente/GM0599/versies", "/gemeente/GM0599/besluit", "/gemeente/GM0599/uitstel",
           "/gemeente/GM0599/logboek", "/gemeente/GM0599/nieuw",
           "/gemeente/GM0599/rapporten/2026-H1/basis/iets",
           "/gemeente/GM0599/rapporten/2026-H1/basis/iets/bestand/report.json",
           "/gemeente/GM0599/aanleveren/00000000-0000-0000-0000-000000000000",
           "/gemeente/GM9999", "/beheer"]


def test_a_user_of_amsterdam_gets_nothing_of_rotterdam(portal_only: RunningPortal) -> None:
    with closing(client_for(portal_only, "anna@amsterdam.nl")) as anna, \
            closing(client_for(portal_only, "rob@rotterdam.nl")) as rob:
        assert anna.get("/gemeente/GM0363").status_code == 200
        token = csrf_of(anna.get("/gemeente/GM0363/besluit").text)
        not_found = anna.get("/gemeente/GM0363/bestaat-niet")
        assert not_found.status_code == 404
        for path in B_PAGES:
            response = anna.get(path)
            assert response.status_code == 404, path
            assert response.text == not_found.text.replace("bestaat-niet", ""), path
            assert "Rotterdam" not in response.text and "GM0599" not in response.text, path
        # nor can she act for Rotterdam, with a valid token of her own session
        for path, data in [("/gemeente/GM0599/besluit", {"besluit": "opt-in", "bevestigd": "ja"}),
                           ("/gemeente/GM0599/uitstel", {"tot": "2026-12-01", "reden": "x"})]:
            assert anna.post(path, data={**data, "csrf_token": token}).status_code == 404
        created = anna.post("/gemeente/GM0599/tus", headers={
            "X-CSRF-Token": token, "Tus-Resumable": "1.0.0", "Upload-Length": "10"})
        assert created.status_code == 404
        # Rob's own upload is not reachable by Anna either (tus HEAD/PATCH of its URL)
        rob_token = csrf_of(rob.get("/gemeente/GM0599/besluit").text)
        rob_upload = rob.post("/gemeente/GM0599/tus", headers={
            "X-CSRF-Token": rob_token, "Tus-Resumable": "1.0.0", "Upload-Length": "10",
            "Upload-Metadata": "dataset YmFzaXM=,filename YS5jc3Y="})
        assert rob_upload.status_code == 201
        location = rob_upload.headers["location"]
        assert anna.head(location).status_code == 404
        assert anna.patch(location, content=b"0123456789", headers={
            "X-CSRF-Token": token, "Upload-Offset": "0", "Tus-Resumable": "1.0.0",
            "Content-Type": "application/offset+octet-stream"}).status_code == 404
        same_id_in_a = location.replace("GM0599", "GM0363")
        assert anna.head(same_id_in_a).status_code == 404
    assert not any(e.organisation == "GM0599" and e.user_email == "anna@amsterdam.nl"
                   for e in portal_only.portal.web.audit.entries())


def test_alleen_lezen_may_look_but_not_act(portal_only: RunningPortal) -> None:
    with closing(client_for(portal_only, "lex@amsterdam.nl")) as lex:
        overview = lex.get("/gemeente/GM0363")
        assert overview.status_code == 200 and "alleen lezen" in overview.text
        assert "Bestand aanleveren" not in overview.text
        token = csrf_of(lex.get("/gemeente/GM0363/rapporten").text)
        assert lex.get("/gemeente/GM0363/aanleveren").status_code == 403
        refused = lex.post("/gemeente/GM0363/besluit", data={
            "csrf_token": token, "besluit": "opt-in", "bevestigd": "ja"})
        assert refused.status_code == 403 and "alleen leesrechten" in refused.text
        assert lex.post("/gemeente/GM0363/tus", headers={
            "X-CSRF-Token": token, "Upload-Length": "10"}).status_code == 403
    assert not [e for e in portal_only.portal.web.audit.entries(organisation="GM0363")
                if e.action.startswith("besluit")]


@pytest.mark.parametrize("key", ["..%2F..%2Fportal.db", "2026-H1/..%2F..", "%2e%2e"])
def test_report_paths_cannot_leave_the_gemeentes_folder(portal_only: RunningPortal,
                                                        key: str) -> None:
    with closing(client_for(portal_only, "anna@amsterdam.nl")) as anna:
        response = anna.get(f"/gemeente/GM0363/rapporten/2026-H1/basis/{key}/bestand/x")
        assert response.status_code == 404


def test_beheerder_sees_accounts_and_the_audit_trail(portal_only: RunningPortal) -> None:
    with closing(client_for(portal_only, "beheer@hub.nl")) as admin:
        page = admin.get("/beheer")
        assert page.status_code == 200
        assert "anna@amsterdam.nl" in page.text and "medewerker GM0363" in page.text
        assert admin.get("/gemeente/GM0363").status_code == 404  # no membership: no data

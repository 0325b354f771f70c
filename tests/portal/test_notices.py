"""An uitstelverzoek through the portal reaches CBS (the station confirms it, the portal shows the
confirmation and the request), with a clear refusal for a date that is no extension."""

from __future__ import annotations

import time
from contextlib import closing

from tests.portal.conftest import RunningPortal
from tests.portal.test_access import client_for
from tests.web.conftest import csrf_of


def test_extension_request_is_sent_and_confirmed(portal_chain: RunningPortal) -> None:
    with closing(client_for(portal_chain, "anna@amsterdam.nl")) as anna:
        page = anna.get("/gemeente/GM0363/uitstel")
        token = csrf_of(page.text)
        too_early = anna.post("/gemeente/GM0363/uitstel", data={
            "csrf_token": token, "periode": "2026-H1", "dataset": "basis", "tot": "2026-09-15",
            "reden": "Migratie van ons zaaksysteem"}, follow_redirects=True)
        assert "ligt niet na de deadline (30-09-2026)" in too_early.text
        sent = anna.post("/gemeente/GM0363/uitstel", data={
            "csrf_token": token, "periode": "2026-H1", "dataset": "basis", "tot": "2026-10-10",
            "reden": "Migratie van ons zaaksysteem"}, follow_redirects=True)
        assert "Uw verzoek om uitstel tot 10-10-2026 is verstuurd naar CBS." in sent.text
        deadline = time.monotonic() + 60
        while True:
            reports = portal_chain.portal.desk("GM0363").reports()
            confirmations = [r for r in reports if r.type == "gmsd.bevestiging"]
            if confirmations:
                break
            assert time.monotonic() < deadline, "no confirmation of the uitstelverzoek"
            time.sleep(0.5)
        assert confirmations[0].metadata["onderwerp"] == "uitstelverzoek"
        assert "ontvangen" in confirmations[0].metadata["bericht"]
        again = anna.get("/gemeente/GM0363/uitstel").text
        assert "basis tot 2026-10-10 door anna@amsterdam.nl: Migratie van ons zaaksysteem" in again
    entries = portal_chain.portal.web.audit.entries(organisation="GM0363")
    assert [e.user_email for e in entries if e.action == "uitstel.request"] == [
        "anna@amsterdam.nl"]

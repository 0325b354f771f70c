"""An uitstelverzoek through the portal reaches CBS (the station confirms it, the portal shows the
confirmation and the request), with a clear refusal for a date that is no extension."""

from __future__ import annotations

import datetime as dt
import time
from contextlib import closing

import sqlalchemy as sa

from ggk.conversation import Kind
from ggk.station import StationSettings
from ggk.station import tables as station_tables
from ggk.station.database import create_engine
from ggk.station.service import grant_extension
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
            confirmations = [r for r in reports if r.kind is Kind.BEVESTIGING]
            if confirmations:
                break
            assert time.monotonic() < deadline, "no confirmation of the uitstelverzoek"
            time.sleep(0.5)
        assert confirmations[0].metadata["onderwerp"] == "uitstelverzoek"
        assert "ontvangen" in confirmations[0].metadata["bericht"]
        again = anna.get("/gemeente/GM0363/uitstel").text
        assert "basis tot 2026-10-10 door anna@amsterdam.nl: Migratie van ons zaaksysteem" in again
        # CBS grants it (`ggk station extend`); the station tells the gemeente, the portal shows it
        settings = StationSettings(data_dir=portal_chain.chain.tmp / "station")
        engine = create_engine(settings.resolved_database_url())
        with engine.connect() as conn:  # CBS kept the request for the collection manager
            audit = station_tables.audit
            kept = conn.execute(sa.select(audit.c.detail, audit.c.gemeente)
                                .where(audit.c.event == "uitstelverzoek")).all()
        assert len(kept) == 1 and kept[0].gemeente == "GM0363"
        assert "Migratie van ons zaaksysteem" in kept[0].detail
        assert "anna@amsterdam.nl" in kept[0].detail  # namens whom
        grant_extension(engine, portal_chain.chain.clock, "gmsd", "2026-H1", "GM0363",
                        dt.date(2026, 10, 10), "migratie zaaksysteem")
        engine.dispose()
        while not any(r.kind is Kind.UITSTEL for r in portal_chain.portal.desk("GM0363").reports()):
            assert time.monotonic() < deadline + 60, "the granted uitstel did not arrive"
            time.sleep(0.5)
        overview = anna.get("/gemeente/GM0363").text
        assert "Uitstel toegekend" in overview and "2026-10-10" in overview
    entries = portal_chain.portal.web.audit.entries(organisation="GM0363")
    assert [e.user_email for e in entries if e.action == "uitstel.request"] == [
        "anna@amsterdam.nl"]

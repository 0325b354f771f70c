"""The portal shows every statistic of the definitions registry, each with its own current
period, datasets and dates (no statistic is named in the portal's code)."""

from __future__ import annotations

from contextlib import closing

from ggk.definitions import registry
from ggk.portal.service import current_period
from tests.portal.conftest import RunningPortal
from tests.portal.test_access import client_for


def test_the_overview_shows_each_statistic_with_its_own_period(
        portal_only: RunningPortal) -> None:
    clock = portal_only.portal.clock
    found = {d.statistic: d for d in registry().all()}
    assert {"gmsd", "iv3"} <= set(found)
    periods = {s: current_period(clock, s) for s in found}
    assert periods["gmsd"] == "2026-H1" and periods["iv3"].startswith("2026-Q")
    with closing(client_for(portal_only, "anna@amsterdam.nl")) as anna:
        first = anna.get("/gemeente/GM0363")
        assert first.status_code == 200
        # the focused statistic (the registry's first) and a card per other statistic
        assert f"periode {periods['gmsd']}" in first.text
        assert found["gmsd"].title in first.text
        iv3 = found["iv3"]
        assert f"{iv3.title}: periode {periods['iv3']}" in first.text
        assert iv3.datasets[0].title in first.text
        assert f"?periode={periods['iv3']}" in first.text
        # the besluit waits for the required dataset, named by its title as on its card
        gmsd = found["gmsd"]
        required = next(s.title for s in gmsd.datasets if s.name == gmsd.required_dataset)
        assert f"Eerst moet de aanlevering {required} zijn goedgekeurd." in first.text
        second = anna.get("/gemeente/GM0363", params={"periode": periods["iv3"]})
        assert second.status_code == 200
        assert f"periode {periods['iv3']}</h1>" in second.text
        assert f"{found['gmsd'].title}: periode {periods['gmsd']}" in second.text
        deadline = iv3.calendar(periods["iv3"]).events["aanlevering_sluit"]
        assert f"{deadline:%d-%m-%Y}" in second.text
        upload = anna.get("/gemeente/GM0363/aanleveren", params={"periode": periods["iv3"]})
        assert upload.status_code == 200 and iv3.datasets[0].name in upload.text

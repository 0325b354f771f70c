"""Found by the fault-injection suite (tests/station/test_fault_injection.py): a hub that is away
is not a message's fault, and a spiegelrapport never goes before its technisch controlerapport."""

from __future__ import annotations

import pytest

from ggk.client import HubUnreachable
from ggk.conversation import Kind, kind_of
from ggk.station.failures import FailureBook
from tests.station.conftest import StationWorld, gen


def test_a_hub_outage_books_no_failed_attempt(world: StationWorld) -> None:
    """Before, every message on the page got a failed attempt (and a 30 s back-off) while the
    hub was down, and a few hours of outage made them all dead letters."""
    sent = world.deliver("gemeente_a", gen(world.definition, world.tmp, "GM0363", 30, seed=5))
    page = list(world.cbs.mailbox().messages)
    world.hub.server.stop()
    with pytest.raises(HubUnreachable):  # to the poll loop, which backs off and reads again
        world.station.worker.handle_page(page)
    assert FailureBook(world.station.engine, 8, 30).of([sent.id]) == {}


def test_no_spiegelrapport_before_the_technisch_controlerapport(world: StationWorld) -> None:
    """Before, an accepted delivery whose report could not be sent yet (hub away) got its
    spiegelrapport first: the mirror jobs saw the workflow state `goedgekeurd` at once."""
    sent = world.deliver("gemeente_a", gen(world.definition, world.tmp, "GM0363", 30, seed=6))
    message = next(m for m in world.cbs.mailbox().messages if m.id == sent.id)
    world.station.worker.decide(message)  # decided and recorded; the report is not sent yet
    assert world.station.send_pending_mirrors() == 0
    assert world.replies("gemeente_a", sent) == []
    restarted = world.make_station()  # (the first one would look again in 5 s)
    try:
        restarted.run_once()  # the report goes, then the mirror
    finally:
        restarted.close()
    kinds = [kind_of(m.type) for m in world.replies("gemeente_a", sent)]
    assert kinds == [Kind.TECHNISCH_CONTROLERAPPORT, Kind.SPIEGELRAPPORT]

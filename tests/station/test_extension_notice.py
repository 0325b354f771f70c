"""An extension granted by CBS reaches the municipality through the channel (gmsd.uitstel), once
per grant, on SQLite and PostgreSQL; a changed grant is told again."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ggk.station import grant_extension
from ggk.station import tables as t
from tests.station.conftest import StationWorld


def notices(world: StationWorld, name: str) -> list:  # noqa: ANN401
    client = world.gemeente[name]
    found = []
    for message in client.iter_new():
        client.ack(message.id)
        if message.type == "gmsd.uitstel":
            found.append(message)
    return found


def test_an_extension_is_told_to_the_municipality_once_per_grant(world: StationWorld) -> None:
    station = world.station
    grant_extension(station.engine, world.clock, "gmsd", "2026-H1", "GM0363",
                    dt.date(2026, 10, 10), "leverancier te laat")
    assert station.run_once() == 0
    [notice] = notices(world, "gemeente_a")
    assert notice.sender == world.hub.oin["cbs"]
    assert notice.metadata["tot"] == "2026-10-10" and notice.metadata["period"] == "2026-H1"
    assert notice.metadata["gemeente"] == "GM0363"
    assert notice.metadata["bericht"] == (
        "CBS heeft u uitstel verleend voor GMSD 2026-H1: u kunt aanleveren tot en met "
        "10 oktober 2026. Toelichting van CBS: leverancier te laat")
    assert notices(world, "gemeente_b") == []

    station.run_once()  # told once: nothing new
    assert notices(world, "gemeente_a") == []
    with station.engine.connect() as conn:
        told = conn.execute(sa.select(t.audit.c.message_id).where(
            t.audit.c.event == "uitstel-gemeld")).scalars().all()
    assert told == [notice.id]

    # a longer extension moves the correction and besluit deadlines too: a new notice
    world.clock.advance(dt.timedelta(days=1))
    grant_extension(station.engine, world.clock, "gmsd", "2026-H1", "GM0363",
                    dt.date(2026, 11, 5))
    station.run_once()
    [second] = notices(world, "gemeente_a")
    assert second.id != notice.id and second.metadata["tot"] == "2026-11-05"
    assert second.metadata["bericht"] == (
        "CBS heeft u uitstel verleend voor GMSD 2026-H1: u kunt aanleveren tot en met "
        "5 november 2026; een correctie aanleveren tot en met 5 november 2026; een besluit "
        "nemen tot en met 5 november 2026.")


def test_an_extension_for_a_revoked_municipality_holds_up_nobody(world: StationWorld) -> None:
    """Its only party was revoked: the notice waits (logged), other deliveries go on."""
    from ggk.hub.database import create_engine as create_hub_engine
    from ggk.hub.parties import PartyRegistry
    from tests.station.conftest import gen

    engine = create_hub_engine(world.database_url)
    try:
        PartyRegistry(engine).revoke(world.hub.oin["gemeente_b"])
    finally:
        engine.dispose()
    grant_extension(world.station.engine, world.clock, "gmsd", "2026-H1",
                    "GM0599", dt.date(2026, 10, 10))
    sent = world.deliver("gemeente_a", gen(world.definition, world.tmp, "GM0363", 30, seed=5))
    world.station.run_once()
    assert world.report("gemeente_a", sent)["verdict"] == "goedgekeurd"
    with world.station.engine.connect() as conn:
        told = conn.execute(sa.select(t.audit.c.message_id).where(
            t.audit.c.event == "uitstel-gemeld")).scalars().all()
    assert told == []

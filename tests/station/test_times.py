"""Times: the station stores the same moment on SQLite and PostgreSQL and shows it in
Europe/Amsterdam. Before UtcDateTime, SQLite kept an Amsterdam clock's wall-clock digits and read
them back as UTC (two hours off in summer) while PostgreSQL converted them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from rich.console import Console

from ggk.refdata import register
from ggk.station import tables as t
from ggk.station.status import period_status
from ggk.station.status_view import status_table
from tests.station.conftest import StationWorld, gen

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_a_delivery_time_is_one_moment_on_both_databases_and_shown_in_amsterdam(
        world: StationWorld) -> None:
    world.station.mirror = None
    moment = dt.datetime(2026, 9, 1, 14, 5, tzinfo=AMSTERDAM)  # 12:05 UTC (summer time)
    world.clock.set(moment)
    sent = world.deliver("gemeente_a", gen(world.definition, world.tmp, "GM0363", 50))
    assert world.station.run_once() == 1
    assert world.report("gemeente_a", sent)["verdict"] == "goedgekeurd"

    with world.station.engine.connect() as conn:
        received = conn.execute(sa.select(t.deliveries.c.received_at)).scalar_one()
        raw = conn.execute(sa.text("SELECT received_at FROM station_deliveries")).scalar_one()
    assert received == moment and received.utcoffset() == dt.timedelta(0)
    assert "12:05" in str(raw)  # stored as UTC, whatever the database's own type

    status = period_status(world.station.engine, world.definition, "2026-H1", world.clock,
                           [(g.code, g.naam) for g in register().all()])
    row = next(r for r in status.rows if r.gemeente == "GM0363" and r.dataset == "basis")
    assert row.last_delivery_at == moment
    console = Console(width=200, record=True)
    console.print(status_table(status, show_all=False))
    text = console.export_text()
    assert "2026-09-01 14:05" in text and "12:05" not in text
    assert "CEST" in text  # "as of ..." names the zone


def test_a_naive_moment_is_refused_rather_than_guessed(world: StationWorld) -> None:
    import pytest

    with pytest.raises(sa.exc.StatementError, match="timezone-aware"), \
            world.station.engine.begin() as conn:
        conn.execute(sa.insert(t.audit).values(at=dt.datetime(2026, 9, 1, 12), event="x"))

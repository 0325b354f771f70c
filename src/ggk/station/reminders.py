"""Sending the reminders the CBS dashboard asked for (`<statistic>.herinnering`).

The dashboard writes a `herinnering-gevraagd` audit row per municipality with the message id the
reminder will have (`ggk.station.period_records`); the running station sends every requested one
without a `herinnering-gemeld` row at its next poll. The id is fixed at the request, so a station
that crashes between sending and recording sends the same message again, which the hub treats as
the same one. A municipality without a party at the hub gets `herinnering-niet-bezorgd`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ggk.client.interfaces import Conflict, HubError
from ggk.conversation import (
    ConversationId,
    HerinneringMetadata,
    Kind,
    conversation_id,
    message_type,
)
from ggk.definitions import UnknownPeriod
from ggk.station import records
from ggk.station import tables as t
from ggk.station.period_records import REMINDER_REQUESTED, REMINDER_SENT, REMINDER_UNDELIVERABLE

if TYPE_CHECKING:
    from ggk.station.service import Station

log = logging.getLogger("ggk.station")


def pending_reminders(engine: sa.Engine) -> list[sa.Row]:
    """Requested reminders not sent yet, oldest first."""
    sent = sa.select(t.audit.c.message_id).where(
        t.audit.c.event.in_((REMINDER_SENT, REMINDER_UNDELIVERABLE)))
    with engine.connect() as conn:
        return list(conn.execute(sa.select(t.audit).where(
            t.audit.c.event == REMINDER_REQUESTED, t.audit.c.message_id.not_in(sent))
            .order_by(t.audit.c.id)).all())


def undeliverable(station: Station, row: sa.Row, why: str) -> None:
    """Book a reminder that cannot reach its municipality, so it is not tried again."""
    with station.engine.begin() as conn:
        records.write_audit(conn, station.clock.now(), REMINDER_UNDELIVERABLE,
                            statistic=row.statistic, period=row.period, gemeente=row.gemeente,
                            message_id=row.message_id, detail=why)


def send_reminders(station: Station) -> int:
    """Send every pending reminder; returns how many were sent. A reminder to a municipality
    without a party at the hub (not connected yet) is booked as undeliverable, once."""
    pending = pending_reminders(station.engine)
    if not pending:
        return 0
    by_code = {p.gemeentecode: p for p in station.client.parties()
               if p.gemeentecode and p.active}
    sent = 0
    for row in pending:
        party = by_code.get(row.gemeente)
        if party is None:
            undeliverable(station, row, "geen actieve partij bij de hub")
            continue
        try:
            definition = station.registry.for_period(row.statistic, row.period)
        except UnknownPeriod as e:
            log.warning("reminder %s not sent: %s", row.message_id, e)
            continue
        with station.engine.connect() as conn:
            extension = records.extension_until(conn, row.statistic, row.period, row.gemeente)
        deadline = definition.calendar(row.period).events["aanlevering_sluit"]
        if extension is not None and extension > deadline:
            deadline = extension
        metadata = HerinneringMetadata(row.statistic, row.period, row.gemeente, row.detail or "",
                                       deadline.isoformat()).as_metadata()
        try:
            station.client.send(party.oin, message_type(row.statistic, Kind.HERINNERING),
                                metadata, [], id=row.message_id,
                                conversation_id=conversation_id(
                                    row.statistic, row.period, row.gemeente,
                                    ConversationId.HERINNERING))
        except Conflict:  # sent before (same id); record it below
            log.info("reminder %s was already sent", row.message_id)
        except HubError as e:  # the hub refuses it (e.g. the party was revoked): not again
            log.warning("reminder %s to %s refused by the hub: %s", row.message_id,
                        row.gemeente, e)
            undeliverable(station, row, f"geweigerd door de hub: {e}"[:500])
            continue
        with station.engine.begin() as conn:
            records.write_audit(conn, station.clock.now(), REMINDER_SENT,
                                statistic=row.statistic, period=row.period,
                                gemeente=row.gemeente, message_id=row.message_id)
        sent += 1
    return sent

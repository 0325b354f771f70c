"""Telling a municipality about its extension (uitstel) through the channel.

`ggk station extend` (or `grant_extension`) only records the extension; the running station sends
every extension the municipality has not been told about yet as an uitstel message, at its
next poll. The message id is derived from the extension (gemeente, period, date, moment granted)
with the station's `ReplyIds` (deterministic for the station, unpredictable for others), so a
station that crashes between sending and recording sends the same message again, which the hub
treats as the same one; a later, changed extension is a new message. Sent notices are recorded
in the audit trail (event `uitstel-gemeld`, message id), which is also how pending ones are found.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ggk.client.interfaces import Conflict, HubError
from ggk.conversation import ConversationId, Kind, UitstelMetadata, conversation_id, message_type
from ggk.definitions import UnknownPeriod
from ggk.station import records
from ggk.station import tables as t
from ggk.station.masking import masked
from ggk.station.outcomes import ReplyIds
from ggk.station.workflow import Context, dutch_date

if TYPE_CHECKING:
    from ggk.station.service import Station

NOTICE_EVENT = "uitstel-gemeld"
# The calendar events an extension moves (never earlier: Context.closes), in the Dutch notice.
MOVED = (("aanlevering_sluit", "aanleveren"), ("correctie_sluit", "een correctie aanleveren"),
         ("besluit_deadline", "een besluit nemen"))

log = logging.getLogger("ggk.station")


@dataclass(frozen=True, slots=True)
class PendingNotice:
    statistic: str
    period: str
    gemeente: str
    until: dt.date
    granted_at: dt.datetime
    reason: str | None

    @property
    def type(self) -> str:
        return message_type(self.statistic, Kind.UITSTEL)

    def message_id(self, ids: ReplyIds) -> str:
        grant = (f"uitstel/{self.statistic}/{self.period}/{self.gemeente}/"
                 f"{self.until.isoformat()}/{self.granted_at.isoformat()}")
        return ids(grant, self.type)


def pending_notices(engine: sa.Engine, ids: ReplyIds) -> list[PendingNotice]:
    """Extensions whose current grant the municipality has not been told about."""
    with engine.connect() as conn:
        told = set(conn.execute(sa.select(t.audit.c.message_id).where(
            t.audit.c.event == NOTICE_EVENT)).scalars())
        rows = conn.execute(sa.select(t.extensions).order_by(t.extensions.c.granted_at)).all()
    notices = [PendingNotice(r.statistic, r.period, r.gemeente, r.until, r.granted_at, r.reason)
               for r in rows]
    return [n for n in notices if n.message_id(ids) not in told]


def notice_text(station: Station, notice: PendingNotice) -> str:
    """The Dutch message: which deadlines move to which day."""
    definition = station.registry.for_period(notice.statistic, notice.period)
    calendar = definition.calendar(notice.period)
    ctx = Context(now=station.clock.now(), calendar=calendar, timezone=definition.timezone,
                  extension_until=notice.until)
    moved = [f"{what} tot en met {dutch_date(ctx.closes(event))}" for event, what in MOVED
             if event in calendar.events and ctx.closes(event) > calendar.events[event]]
    text = (f"CBS heeft u uitstel verleend voor {notice.statistic.upper()} {notice.period}: u kunt "
            + ("; ".join(moved) if moved else f"tot en met {dutch_date(notice.until)}") + ".")
    if notice.reason:
        text += f" Toelichting van CBS: {notice.reason}"
    return text


def send_extension_notices(station: Station) -> int:
    """Send every pending extension notice; returns how many were sent. A municipality without a
    registered party at the hub is tried again at the next poll (logged)."""
    pending = pending_notices(station.engine, station.reply_ids)
    if not pending:
        return 0
    by_code = {p.gemeentecode: p for p in station.client.parties()
               if p.gemeentecode and p.active}
    sent = 0
    for notice in pending:
        party = by_code.get(notice.gemeente)
        if party is None:
            log.warning("extension for %s %s not told yet: %s has no party at the hub",
                        notice.gemeente, notice.period, notice.gemeente)
            continue
        try:
            text = masked(notice_text(station, notice))
        except UnknownPeriod as e:
            log.warning("extension for %s %s not told: %s", notice.gemeente, notice.period, e)
            continue
        metadata = UitstelMetadata(
            notice.statistic, notice.period, notice.gemeente, notice.until.isoformat(), text,
            masked(notice.reason) if notice.reason else None).as_metadata()
        message_id = notice.message_id(station.reply_ids)
        try:
            station.client.send(party.oin, notice.type, metadata, [], id=message_id,
                                conversation_id=conversation_id(
                                    notice.statistic, notice.period, notice.gemeente,
                                    ConversationId.UITSTEL))
        except Conflict:  # sent before (same id); record it below
            log.info("extension notice %s was already sent", message_id)
        except HubError as e:  # refused (e.g. revoked in between): tried again at the next poll
            log.warning("extension notice %s to %s refused by the hub: %s", message_id,
                        notice.gemeente, masked(str(e)))
            continue
        with station.engine.begin() as conn:
            records.write_audit(conn, station.clock.now(), NOTICE_EVENT,
                                statistic=notice.statistic, period=notice.period,
                                gemeente=notice.gemeente, message_id=message_id,
                                detail=f"tot {notice.until.isoformat()}")
        log.info("extension notice %s sent to %s for %s until %s", message_id,
                 notice.gemeente, notice.period, notice.until)
        sent += 1
    return sent

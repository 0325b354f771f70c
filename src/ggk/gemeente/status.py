"""What a gemeente can see of its own deliveries: its outbox at the hub plus unread reports.

The hub never tells a gemeente the station's workflow state directly; the station's replies do
(metadata `toestand` of each technisch controlerapport). `ggk gemeente status` therefore lists
the sent messages of a period with their hub state (`acknowledged` = CBS has processed it) and,
for reports not yet fetched, what they say.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ggk.client.interfaces import HubApi, Message
from ggk.gemeente.submit import AANLEVERING, BESLUIT

HUB_STATE_NL = {
    "accepted": "wordt geüpload",
    "available": "verzonden, nog niet opgehaald door CBS",
    "fetched": "in behandeling bij CBS",
    "acknowledged": "verwerkt door CBS",
    "refused": "geweigerd door de hub",
    "expired": "verlopen (niet opgehaald)",
}


@dataclass(frozen=True)
class SentLine:
    message_id: str
    type: str
    onderwerp: str  # dataset or besluit
    bestand: str
    hub_state: str
    sent_at: dt.datetime | None

    @property
    def toelichting(self) -> str:
        return HUB_STATE_NL.get(self.hub_state, self.hub_state)


def _line(message: Message) -> SentLine:
    m = message.metadata or {}
    onderwerp = m.get("dataset") if message.type == AANLEVERING else m.get("besluit")
    state = message.state
    if message.refusal_reason:
        state = f"{state} ({message.refusal_reason})"
    return SentLine(message.id, message.type.removeprefix("gmsd."), str(onderwerp or "-"),
                    str(m.get("file_name") or "-"), state, message.created_at)


def sent_messages(client: HubApi, period: str | None = None) -> list[SentLine]:
    """Every aanlevering and besluit in our outbox (of `period` when given), oldest first."""
    lines: list[SentLine] = []
    cursor: int | None = None
    while True:
        page = client.mailbox(after=cursor, box="outbox")
        for message in page.messages:
            if message.type not in (AANLEVERING, BESLUIT):
                continue
            if period and (message.metadata or {}).get("period") != period:
                continue
            lines.append(_line(message))
        if not page.messages or page.cursor == cursor:
            break
        cursor = page.cursor
    lines.sort(key=lambda line: line.sent_at or dt.datetime.min.replace(tzinfo=dt.UTC))
    return lines


def unread_reports(client: HubApi, period: str | None = None) -> list[Message]:
    """Reports from CBS in the inbox that were not yet acknowledged (not downloaded)."""
    messages: list[Message] = []
    cursor: int | None = None
    while True:
        page = client.mailbox(after=cursor)
        for message in page.messages:
            if message.type.startswith("ggk."):
                continue
            if period and period not in (message.conversation_id or period):
                continue
            messages.append(message)
        if not page.messages or page.cursor == cursor:
            return messages
        cursor = page.cursor

"""What a gemeente can see of its own deliveries: its outbox at the hub plus the reports.

The hub never tells a gemeente the station's workflow state directly; the station's replies do
(metadata `verdict` and `toestand` of each technisch controlerapport). `ggk gemeente status`
therefore joins three sources: the sent messages in the outbox at the hub (with their hub state,
`acknowledged` = CBS has processed it), the replies already fetched and saved by
`ggk gemeente reports` (their `bericht.json`), and the replies still waiting in the inbox.
Replies are matched to what was sent by `in_reply_to`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ggk.client.interfaces import HubApi, Message
from ggk.conversation import TO_CBS, Kind, kind_of

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
    kind = kind_of(message.type)
    onderwerp = m.get("dataset") if kind is Kind.AANLEVERING else m.get("besluit")
    state = message.state
    if message.refusal_reason:
        state = f"{state} ({message.refusal_reason})"
    return SentLine(message.id, kind or message.type, str(onderwerp or "-"),
                    str(m.get("file_name") or "-"), state, message.created_at)


def sent_messages(client: HubApi, period: str | None = None) -> list[SentLine]:
    """Every aanlevering and besluit in our outbox (of `period` when given), oldest first."""
    lines: list[SentLine] = []
    cursor: int | None = None
    while True:
        page = client.mailbox(after=cursor, box="outbox")
        for message in page.messages:
            if kind_of(message.type) not in TO_CBS:
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


@dataclass(frozen=True)
class Reply:
    """A reply from CBS (saved by `ggk gemeente reports` or still waiting in the inbox)."""

    type: str
    in_reply_to: str | None
    metadata: dict[str, Any]
    fetched: bool


@dataclass
class Overview:
    """Per dataset (and the besluit) of one period: the latest message sent and what CBS said."""

    period: str
    onderwerp: str  # dataset name, or "besluit"
    latest: SentLine
    sent_count: int
    replies: list[Reply] = field(default_factory=list)

    @property
    def oordeel(self) -> str:
        """Dutch: the verdict of the latest delivery, or the answer to the latest besluit."""
        for reply in self.replies:
            m = reply.metadata
            kind = kind_of(reply.type)
            if kind is Kind.TECHNISCH_CONTROLERAPPORT:
                return f"{m.get('verdict', '?')} (versie {m.get('versie', '-')}, " \
                       f"toestand {m.get('toestand', '?')})"
            if kind is Kind.BEVESTIGING:
                return f"bevestigd: {m.get('besluit') or self.latest.onderwerp}"
            if kind is Kind.WEIGERING:
                return f"geweigerd ({m.get('reden', '?')}): {m.get('bericht', '')}"
        return "nog geen antwoord van CBS"

    @property
    def rapporten(self) -> str:
        if not self.replies:
            return "-"
        return ", ".join(f"{kind_of(r.type) or r.type}"
                         f"{'' if r.fetched else ' (nog ophalen)'}" for r in self.replies)


def saved_replies(reports_dir: Path | None) -> list[Reply]:
    """The replies `ggk gemeente reports` saved under `reports_dir` (none when it is absent)."""
    if reports_dir is None or not reports_dir.is_dir():
        return []
    replies = []
    for path in sorted(reports_dir.glob("**/bericht.json")):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue  # a half-written folder: `reports` fetches it again
        replies.append(Reply(str(data.get("type", "")), data.get("in_reply_to"),
                             dict(data.get("metadata") or {}), fetched=True))
    return replies


def _period_of(message: Message) -> str:
    return str((message.metadata or {}).get("period") or "-")


def overview(client: HubApi, period: str | None = None, reports_dir: Path | None = None,
             hidden: Collection[str] = ()) -> list[Overview]:
    """Per (period, dataset | besluit): the latest message sent, how many, and CBS's replies
    to the latest one (saved under `reports_dir` or waiting in the inbox). `hidden`: ids of
    messages that are not (yet) a delivery (the portal's uploads awaiting the user's send)."""
    sent: list[Message] = []
    cursor: int | None = None
    while True:
        page = client.mailbox(after=cursor, box="outbox")
        sent += [m for m in page.messages if kind_of(m.type) in TO_CBS
                 and (not period or _period_of(m) == period) and m.id not in hidden]
        if not page.messages or page.cursor == cursor:
            break
        cursor = page.cursor
    waiting = [Reply(m.type, m.in_reply_to, dict(m.metadata or {}), fetched=False)
               for m in unread_reports(client, period)]
    replies = saved_replies(reports_dir) + waiting
    groups: dict[tuple[str, str], list[Message]] = {}
    for message in sent:
        topic = "besluit" if kind_of(message.type) is Kind.BESLUIT else str(
            (message.metadata or {}).get("dataset") or "-")
        groups.setdefault((_period_of(message), topic), []).append(message)
    result = []
    for (group_period, topic), messages in sorted(groups.items()):
        messages.sort(key=lambda m: m.created_at or dt.datetime.min.replace(tzinfo=dt.UTC))
        latest = messages[-1]
        result.append(Overview(group_period, topic, _line(latest), len(messages),
                               [r for r in replies if r.in_reply_to == latest.id]))
    return result


def extensions(client: HubApi, period: str | None = None, reports_dir: Path | None = None
               ) -> list[Reply]:
    """The extensions (uitstel) CBS granted, saved or still waiting, of `period` when given;
    the latest grant of a period last."""
    found = [r for r in saved_replies(reports_dir) if kind_of(r.type) is Kind.UITSTEL] + [
        Reply(m.type, m.in_reply_to, dict(m.metadata or {}), fetched=False)
        for m in unread_reports(client, period) if kind_of(m.type) is Kind.UITSTEL]
    return [r for r in found if not period or r.metadata.get("period") == period]

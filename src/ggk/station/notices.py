"""Notices from a gemeente that change no state: a toelichting on a spiegelrapport flag and an
uitstelverzoek (the portal sends them; docs/portal.md). The station keeps the small JSON
attachment in its audit trail for the collection manager and confirms with a bevestiging; an
extension itself is granted with `ggk station extend`."""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa

from ggk.client.interfaces import HubApi, Message
from ggk.clock import Clock
from ggk.conversation import Kind, kind_of
from ggk.station import records
from ggk.station.outcomes import Outcome, Recorder, Reply, answer_type
from ggk.station.parties import PartyBook

MAX_BYTES = 64 * 1024  # a notice is a short JSON document; anything larger is not read


class NoticeDesk:
    def __init__(self, engine: sa.Engine, clock: Clock, client: HubApi, parties: PartyBook,
                 recorder: Recorder) -> None:
        self.engine = engine
        self.clock = clock
        self.client = client
        self.parties = parties
        self.recorder = recorder

    def decide(self, message: Message) -> Outcome:
        """Keep the notice in the audit trail and confirm it."""
        kind = kind_of(message.type)
        assert kind is not None
        meta = message.metadata or {}
        party = self.parties.get(message.sender)
        gemeente = party.gemeentecode if party else None
        texts = []
        with tempfile.TemporaryDirectory(prefix="ggk-notice-") as folder:
            for attachment in message.attachments:
                if attachment.size <= MAX_BYTES:
                    path = self.client.download(message.id, attachment.name, Path(folder)).path
                    texts.append(path.read_text("utf-8", errors="replace"))
        statistic = str(meta.get("statistic") or message.type.rpartition(".")[0])
        reply_type = answer_type(message, Kind.BEVESTIGING, statistic)
        reply = Reply(reply_type, self.recorder.ids(message.id, reply_type), message.sender,
                      {"statistic": statistic, "period": meta.get("period"),
                       "gemeente": gemeente, "onderwerp": kind.value,
                       "bericht": f"CBS heeft uw {kind.value} ontvangen en neemt het mee."},
                      message.id, message.conversation_id or "")
        outcome = Outcome("ontvangen", [reply])
        with self.engine.begin() as conn:
            records.write_audit(conn, self.clock.now(), kind.value, gemeente=gemeente,
                                period=meta.get("period"), statistic=statistic,
                                message_id=message.id, detail="\n".join(texts)[:8000] or None)
            self.recorder.record(conn, message, outcome)
        return outcome

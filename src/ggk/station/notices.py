"""Notices from a gemeente (the portal sends them): a toelichting on a spiegelrapport flag and an
uitstelverzoek. They change no workflow state; the station keeps the small JSON attachment in
its audit trail (event `toelichting` / `uitstelverzoek`) for the collection manager and answers
with a bevestiging."""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa

from ggk.client.interfaces import HubApi, Message
from ggk.conversation import Kind, kind_of
from ggk.station import records
from ggk.station.clock import Clock
from ggk.station.outcomes import Outcome, Recorder, Reply, answer_type

NOTICE_MAX_BYTES = 64 * 1024
AUDIT_DETAIL_MAX = 8000


class NoticeDesk:
    """Keeps a notice in the audit trail and confirms it."""

    def __init__(self, engine: sa.Engine, client: HubApi, clock: Clock,
                 recorder: Recorder) -> None:
        self.engine = engine
        self.client = client
        self.clock = clock
        self.recorder = recorder

    def decide(self, message: Message) -> Outcome:
        """The recorded outcome of one notice: `ontvangen`, with a bevestiging."""
        kind = kind_of(message.type) or Kind.TOELICHTING
        meta = message.metadata or {}
        statistic = meta.get("statistic")
        texts = []
        with tempfile.TemporaryDirectory(prefix="ggk-notice-") as folder:
            for attachment in message.attachments:
                if attachment.size > NOTICE_MAX_BYTES:
                    continue
                path = self.client.download(message.id, attachment.name, Path(folder)).path
                texts.append(path.read_text("utf-8", errors="replace"))
        reply_type = answer_type(message, Kind.BEVESTIGING, statistic)
        reply = Reply(reply_type, self.recorder.ids(message.id, reply_type), message.sender,
                      {"statistic": statistic, "period": meta.get("period"),
                       "gemeente": meta.get("gemeente"), "onderwerp": kind.value,
                       "bericht": f"CBS heeft uw {kind.value} ontvangen en neemt het mee."},
                      message.id, message.conversation_id or "")
        outcome = Outcome("ontvangen", [reply])
        with self.engine.begin() as conn:
            self.recorder.record(conn, message, outcome)
            records.write_audit(conn, self.clock.now(), kind.value, gemeente=meta.get("gemeente"),
                                period=meta.get("period"), statistic=statistic,
                                message_id=message.id,
                                detail="\n".join(texts)[:AUDIT_DETAIL_MAX] or None)
        return outcome

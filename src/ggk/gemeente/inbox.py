"""The gemeente's mailbox: fetch every report CBS sent, save it, acknowledge it, answer pings.

`Inbox.collect()` is `ggk gemeente reports`; `Inbox.wait_for(...)` is how the ketentest and the
pilot wait for the answer to a message they sent. Everything received is saved before it is
acknowledged, so an acknowledged report always exists on disk.

One message never stops the others (issue 10): each is handled on its own, a failure is retried
a few times with a growing pause, and then the message is skipped and reported (`skipped`); an
unacknowledged report comes back at the next run. Reports are accepted only from the registered
CBS party; anything else is acknowledged unsaved and reported. A ping that cannot be answered
(its sender was revoked meanwhile) is acknowledged unanswered.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ggk.client.interfaces import ClientError, HubApi, HubUnreachable, Message
from ggk.client.interfaces import HubError as HubAnswer
from ggk.conversation import PING_TYPES, ConversationId, Kind, kind_of

ATTEMPTS = 3  # per message and run; pauses of RETRY_PAUSE, 2 * RETRY_PAUSE, ... in between
RETRY_PAUSE = 0.5


@dataclass(frozen=True)
class SkippedMessage:
    """A message this run did not save: why, in Dutch, and whether it was acknowledged
    (then it does not come back)."""

    message: Message
    reason: str
    acknowledged: bool

    def describe(self) -> str:
        what = "bevestigd, niet bewaard" if self.acknowledged else "komt bij de volgende keer terug"
        return (f"bericht {self.message.id} ({self.message.type}) van {self.message.sender} "
                f"overgeslagen: {self.reason} ({what})")


def _transient(error: Exception) -> bool:
    """Worth another try: no answer, or the hub failed (5xx); a 4xx will not change."""
    return isinstance(error, HubUnreachable | OSError) or (
        isinstance(error, HubAnswer) and error.status >= 500)


@dataclass(frozen=True)
class ReceivedReport:
    """One message from CBS, saved in `directory` (attachments plus `bericht.json`)."""

    message: Message
    directory: Path
    files: tuple[Path, ...]

    @property
    def type(self) -> str:
        return self.message.type

    @property
    def kind(self) -> Kind | None:
        """What CBS sent (None for a message outside the conversation)."""
        return kind_of(self.message.type)

    def report_json(self) -> dict[str, Any] | None:
        """The technisch controlerapport (`report.json`) when this message carries one."""
        path = self.directory / "report.json"
        return json.loads(path.read_text("utf-8")) if path.is_file() else None

    def describe(self) -> str:
        """One Dutch line for the user."""
        m = self.message.metadata or {}
        if self.kind is Kind.TECHNISCH_CONTROLERAPPORT:
            return (f"technisch controlerapport: {m.get('verdict', '?')} "
                    f"(versie {m.get('versie', '-')}, {m.get('rows', '?')} regels, "
                    f"{m.get('errors', '?')} fouten, toestand {m.get('toestand', '?')})")
        if self.kind is Kind.SPIEGELRAPPORT:
            return f"spiegelrapport ({', '.join(p.name for p in self.files)})"
        if self.kind is Kind.BEVESTIGING:
            return f"bevestiging: {m.get('bericht') or m.get('besluit', '')}"
        if self.kind is Kind.WEIGERING:
            return f"weigering ({m.get('reden', '?')}): {m.get('bericht', '')}"
        if self.kind is Kind.UITSTEL:
            return f"uitstel tot {m.get('tot', '?')}: {m.get('bericht', '')}"
        return self.type


def _safe(part: object) -> str:
    """A path component from hub-supplied text: letters, digits, `.`, `_`, `-` only."""
    text = re.sub(r"[^A-Za-z0-9._-]", "_", str(part or "")).strip("._")
    return text or "onbekend"


def report_folder(message: Message) -> Path:
    """`<period>/<dataset>/<soort>-<timestamp>-<id8>` for one message from CBS.

    Period and dataset come from the metadata, else from the conversation id
    (`statistic/period/gemeente/topic`: topic `besluit` for the answer to a besluit; the
    spiegelrapport names the dataset it mirrors, so it goes beside that dataset's reports). The
    timestamp is when the hub accepted the message (UTC); the first 8 characters of the message
    id keep two reports of the same second apart. The name depends on the message only, so
    fetching again after a crash finds the same folder and skips the complete attachments."""
    metadata = message.metadata or {}
    conversation = ConversationId.parse(message.conversation_id)
    period = metadata.get("period") or (conversation.period if conversation else None)
    topic = metadata.get("dataset") or (conversation.topic if conversation else None)
    created = message.created_at
    stamp = created.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ") if created else "zonder-tijd"
    kind = kind_of(message.type) or message.type
    return Path(_safe(period), _safe(topic), _safe(f"{kind}-{stamp}-{message.id[:8]}"))


@dataclass
class Inbox:
    """Reads the mailbox of one gemeente certificate and saves what arrives under `out_dir`."""

    client: HubApi
    out_dir: Path
    on_report: Callable[[ReceivedReport], None] | None = None
    cbs_oin: str | None = None  # the registered CBS party; looked up at the hub when None
    on_skip: Callable[[SkippedMessage], None] | None = None
    received: list[ReceivedReport] = field(default_factory=list)
    skipped: list[SkippedMessage] = field(default_factory=list)
    retry_pause: float = RETRY_PAUSE
    _cursor: int | None = None

    def collect(self, wait: float = 0) -> list[ReceivedReport]:
        """Fetch, save and acknowledge every new message (long-poll `wait` s when empty);
        answer pings. Returns what was new."""
        new: list[ReceivedReport] = []
        first = True
        while True:
            page = self.client.mailbox(after=self._cursor, wait=wait if first else 0)
            first = False
            messages = list(page.messages)
            for message in messages:
                report = self._handle_isolated(message)
                if report is not None:
                    new.append(report)
            if not messages or page.cursor == self._cursor:
                return new
            self._cursor = page.cursor

    def _cbs(self) -> str:
        if self.cbs_oin is None:
            self.cbs_oin = self.client.find_party(role="cbs").oin
        return self.cbs_oin

    def _handle_isolated(self, message: Message) -> ReceivedReport | None:
        """Handle one message with bounded retries; skip and report it when it keeps failing."""
        for attempt in range(ATTEMPTS):
            try:
                return self._handle(message)
            except (ClientError, OSError) as error:
                if _transient(error) and attempt + 1 < ATTEMPTS:
                    time.sleep(self.retry_pause * 2**attempt)
                    continue
                acknowledged = message.type in PING_TYPES and self._ack_quietly(message)
                self._skip(message, f"{type(error).__name__}: {error}", acknowledged)
                return None
        return None

    def _handle(self, message: Message) -> ReceivedReport | None:
        if message.type in PING_TYPES:
            try:
                self.client.answer_pings([message])
            except HubAnswer as error:
                if error.status >= 500:
                    raise
                # a ping we cannot answer (sender revoked, bad ping): nothing to wait for
                self._skip(message, f"ping niet beantwoord: {error}", self._ack_quietly(message))
            return None
        if message.sender != self._cbs():
            self._skip(message, f"afzender {message.sender} is niet de geregistreerde CBS-partij "
                       f"{self._cbs()}", self._ack_quietly(message))
            return None
        return self._save(message)

    def _ack_quietly(self, message: Message) -> bool:
        try:
            self.client.ack(message.id)
        except ClientError:
            return False
        return True

    def _skip(self, message: Message, reason: str, acknowledged: bool) -> None:
        skipped = SkippedMessage(message, reason, acknowledged)
        self.skipped.append(skipped)
        if self.on_skip is not None:
            self.on_skip(skipped)

    def _save(self, message: Message) -> ReceivedReport:
        directory = self.out_dir / report_folder(message)
        directory.mkdir(parents=True, exist_ok=True)
        files = []
        for attachment in message.attachments:
            dest = directory / attachment.name
            if not dest.is_file():
                self.client.download(message.id, attachment.name, dest)
            files.append(dest)
        (directory / "bericht.json").write_text(json.dumps({
            "id": message.id, "type": message.type, "in_reply_to": message.in_reply_to,
            "conversation_id": message.conversation_id, "metadata": message.metadata,
            "created_at": message.created_at.isoformat() if message.created_at else None,
        }, indent=2, ensure_ascii=False), "utf-8")
        self.client.ack(message.id)
        report = ReceivedReport(message, directory, tuple(files))
        self.received.append(report)
        if self.on_report is not None:
            self.on_report(report)
        return report

    def collect_until(self, kinds: Iterable[Kind], timeout: float) -> list[ReceivedReport]:
        """Collect (fetch, save, acknowledge) until a message of one of `kinds` has arrived or
        `timeout` seconds have passed; returns everything new. Reports come in their own time
        (a spiegelrapport follows the technical report), so a plain long poll may stop early."""
        wanted = set(kinds)
        deadline = time.monotonic() + timeout
        new: list[ReceivedReport] = []
        while True:
            remaining = deadline - time.monotonic()
            new += self.collect(wait=max(0.0, min(remaining, 2.0)))
            if any(r.kind in wanted for r in new) or remaining <= 0:
                return new

    def replies_to(self, message_id: str, kinds: Iterable[Kind] | None = None
                   ) -> list[ReceivedReport]:
        wanted = set(kinds) if kinds is not None else None
        return [r for r in self.received if r.message.in_reply_to == message_id
                and (wanted is None or r.kind in wanted)]

    def wait_for(self, message_id: str, kinds: Iterable[Kind], timeout: float
                 ) -> ReceivedReport | None:
        """The first received reply of one of `kinds` to `message_id`, collecting (and saving)
        everything that arrives meanwhile; None after `timeout` seconds."""
        kinds = tuple(kinds)
        deadline = time.monotonic() + timeout
        while True:
            found = self.replies_to(message_id, kinds)
            if found:
                return found[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.collect(wait=min(remaining, 2.0))

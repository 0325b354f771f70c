"""The station worker: takes messages from the CBS mailbox and answers them.

For every inbound message the order is always: claim -> decide (validate, store, workflow, all in
one database transaction that also records the replies) -> send the replies (deterministic ids) ->
acknowledge. A crash at any point repeats the remaining steps with the same outcome: a recorded
decision is never taken again, and the hub treats a repeated message id as the same message.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections import deque
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ggk.client.interfaces import Conflict, HubApi, Message, Party
from ggk.definitions import Definition, DefinitionRegistry, UnknownPeriod, shipped
from ggk.station import records
from ggk.station import tables as t
from ggk.station.clock import Clock, SystemClock
from ggk.station.database import create_engine, migrate, require_current_schema
from ggk.station.diff import compare
from ggk.station.mirror_hook import MirrorHook, default_mirror_hook
from ggk.station.pseudonym import Pseudonymiser, load_or_create_key
from ggk.station.records import WorkflowKey
from ggk.station.settings import StationSettings
from ggk.station.storage import FileStore, sha256_file
from ggk.station.workflow import Context, Event, Record, Refused, State, decide

log = logging.getLogger("ggk.station")

AANLEVERING = "gmsd.aanlevering"
BESLUIT = "gmsd.besluit"
RAPPORT = "gmsd.technisch-controlerapport"
SPIEGELRAPPORT = "gmsd.spiegelrapport"
BEVESTIGING = "gmsd.bevestiging"
WEIGERING = "gmsd.weigering"
# Notices from a gemeente (the portal sends them): kept in the audit trail for the collection
# manager and confirmed; they change no workflow state.
NOTICES = {"gmsd.toelichting": "toelichting", "gmsd.uitstelverzoek": "uitstelverzoek"}
NOTICE_MAX_BYTES = 64 * 1024
PING_TYPES = ("ggk.ping", "ggk.pong")
REPLY_NAMESPACE = uuid.UUID("6f1d3c52-7a0e-4d4b-9a57-2b1f0c8e5a11")
CHECKPOINT_ENV = "GGK_STATION_CHECKPOINT"  # "<name>:<seconds>" sleeps at that checkpoint (tests)
NINE_DIGITS = re.compile(r"\d{9}")


def masked(text: str) -> str:
    """Text for a log line: every run of 9 digits (a possible BSN) replaced by asterisks."""
    return NINE_DIGITS.sub("*********", text)


def reply_id(message_id: str, reply_type: str) -> str:
    """The deterministic id of the station's reply of one type to one message."""
    return str(uuid.uuid5(REPLY_NAMESPACE, f"{message_id}/{reply_type}"))


def checkpoint(name: str) -> None:
    """Test hook: with GGK_STATION_CHECKPOINT=name:seconds, announce and sleep here."""
    spec = os.environ.get(CHECKPOINT_ENV, "")
    if spec.partition(":")[0] == name:
        seconds = float(spec.partition(":")[2] or 60)
        print(f"ggk-station-checkpoint {name}", flush=True)
        time.sleep(seconds)


@dataclass
class Reply:
    type: str
    id: str
    receiver: str
    metadata: dict[str, Any]
    in_reply_to: str
    conversation_id: str
    directory: str | None = None  # relative to the store; every file in it is an attachment

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _MirrorJob:
    """One spiegelrapport being made: claimed, building (future) or ready in `directory`."""

    key: WorkflowKey
    version: int
    claim_id: str
    reply: Reply
    definition: Definition
    directory: Path
    future: Any = None
    ready: bool = False


@dataclass
class Outcome:
    """What the station decided about one message (stored before anything is sent)."""

    outcome: str
    replies: list[Reply] = field(default_factory=list)


class Station:
    """The CBS station. Embedding: `Station(settings, client, clock).run_once()` or
    `.run_forever(stop_event)`; `client` is a `ggk.client.HubClient` with the CBS certificate."""

    def __init__(self, settings: StationSettings, client: HubApi, clock: Clock | None = None, *,
                 registry: DefinitionRegistry | None = None, mirror: MirrorHook | None = None,
                 auto_migrate: bool = True) -> None:
        self.settings = settings
        self.client = client
        self.clock = clock or SystemClock()
        self.registry = registry or shipped()
        self.engine = create_engine(settings.resolved_database_url())
        if auto_migrate:
            migrate(self.engine)
        require_current_schema(self.engine)
        self.store = FileStore(settings.resolved_store_dir())
        self.pseudonymiser = Pseudonymiser(load_or_create_key(settings.resolved_key_path()))
        self.mirror = mirror if mirror is not None else default_mirror_hook()
        self._parties: dict[str, Party] = {}
        self._cursor: int | None = None
        self._last_rescan = 0.0
        self._mirror_later: dict[tuple[WorkflowKey, int], float] = {}  # backoff per mirror
        self._pool: Any = None  # worker processes for mirror reports (created when first needed)
        self._pool_lock = threading.Lock()

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self.engine.dispose()

    # -- loop ----------------------------------------------------------------------------------

    def run_once(self, wait: float = 0) -> int:
        """Handle every message now in the inbox (long-poll `wait` seconds when empty); returns
        the number of messages handled (pings included)."""
        handled = 0
        cursor: int | None = None
        first = True
        while True:
            page = self.client.mailbox(after=cursor, wait=wait if first else 0)
            first = False
            handled += self._handle_page(list(page.messages))
            if not page.messages or page.cursor == cursor:
                self.send_pending_mirrors()
                return handled
            cursor = page.cursor

    def run_forever(self, stop_event: threading.Event) -> None:
        """Poll and handle until `stop_event` is set; transient hub errors are logged, retried.
        Mirror reports are built in a second thread, so they never delay a technical report."""
        mirrors = threading.Thread(target=self._mirror_loop, args=(stop_event,),
                                   name="ggk-station-mirrors", daemon=True)
        mirrors.start()
        try:
            self._poll_loop(stop_event)
        finally:
            mirrors.join(60)

    def _mirror_loop(self, stop_event: threading.Event) -> None:
        while not stop_event.is_set():
            try:
                sent = self.send_pending_mirrors(stop=stop_event)
            except Exception as e:  # database or hub away: try again later
                log.warning("spiegelrapport loop error: %s", masked(str(e)))
                sent = 0
            if not sent:
                stop_event.wait(1.0)

    def _poll_loop(self, stop_event: threading.Event) -> None:
        backoff = 1.0
        while not stop_event.is_set():
            try:
                rescan = time.monotonic() - self._last_rescan > self.settings.rescan_seconds
                if rescan:
                    self._cursor = None
                    self._last_rescan = time.monotonic()
                page = self.client.mailbox(after=self._cursor, wait=self.settings.poll_wait)
                self._handle_page(list(page.messages))
                if page.cursor is not None:
                    self._cursor = page.cursor
                backoff = 1.0
            except Exception as e:  # keep the worker alive; the message is retried later
                log.warning("station loop error (retry in %.0fs): %s", backoff, masked(str(e)))
                stop_event.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _handle_page(self, messages: list[Message]) -> int:
        pings = [m for m in messages if m.type in PING_TYPES]
        if pings:
            self.client.answer_pings(pings)
        for message in messages:
            if message.type in PING_TYPES:
                continue
            try:
                self.handle(message)
            except Exception as e:  # one bad message must not block the others; retried later
                log.error("message %s (%s) failed, will be retried: %s: %s", message.id,
                          message.type, type(e).__name__, masked(str(e))[:500])
        return len(messages)

    # -- one message ---------------------------------------------------------------------------

    def handle(self, message: Message) -> str | None:
        """Claim, decide, reply, acknowledge. The outcome; None when another station has it."""
        wall = dt.datetime.now(dt.UTC)  # leases use real time, also under a simulated clock
        with self.engine.begin() as conn:
            done = records.processed(conn, message.id)
            if done is not None and done["acked_at"] is not None:
                return None  # finished (by this or another station) after the inbox was read
            if not records.claim(conn, message.id, self.settings.worker_id, wall,
                                 dt.timedelta(seconds=self.settings.claim_lease_seconds)):
                return None
        if done is None:
            outcome = self._decide(message)
        else:
            outcome = Outcome(done["outcome"],
                              [Reply(**r) for r in (done["reply_metadata"] or [])])
        checkpoint("decided")
        self._send(outcome.replies)
        checkpoint("replied")
        self.client.ack(message.id)
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.processed_messages).where(
                t.processed_messages.c.message_id == message.id).values(
                    acked_at=self.clock.now()))
            records.finish_claim(conn, message.id)
        self.store.clear_incoming(message.id)
        log.info("message %s (%s from %s): %s", message.id, message.type, message.sender,
                 outcome.outcome)
        return outcome.outcome

    def _decide(self, message: Message) -> Outcome:
        if message.type == AANLEVERING:
            return self._decide_aanlevering(message)
        if message.type == BESLUIT:
            return self._decide_besluit(message)
        if message.type in NOTICES:
            return self._decide_notice(message)
        refusal = Refused("onbekend-berichttype", (
            f"CBS verwerkt geen berichten van het type '{message.type}'. Gebruik "
            f"'{AANLEVERING}' voor een aanlevering of '{BESLUIT}' voor een besluit."))
        return self._refuse(message, refusal, conversation_id=message.conversation_id or "")

    def _decide_notice(self, message: Message) -> Outcome:
        """Keep a toelichting or uitstelverzoek (its small JSON attachment) in the audit trail
        and confirm it; the collection manager reads it with `ggk station status`/the audit."""
        import tempfile

        kind = NOTICES[message.type]
        meta = message.metadata or {}
        texts = []
        with tempfile.TemporaryDirectory(prefix="ggk-notice-") as folder:
            for attachment in message.attachments:
                if attachment.size > NOTICE_MAX_BYTES:
                    continue
                path = self.client.download(message.id, attachment.name, Path(folder)).path
                texts.append(path.read_text("utf-8", errors="replace"))
        conversation = message.conversation_id or ""
        reply = Reply(BEVESTIGING, reply_id(message.id, BEVESTIGING), message.sender,
                      {"statistic": meta.get("statistic"), "period": meta.get("period"),
                       "gemeente": meta.get("gemeente"), "onderwerp": kind,
                       "bericht": f"CBS heeft uw {kind} ontvangen en neemt het mee."},
                      message.id, conversation)
        outcome = Outcome("ontvangen", [reply])
        with self.engine.begin() as conn:
            self._record(message, outcome, conn)
            records.write_audit(conn, self.clock.now(), kind, gemeente=meta.get("gemeente"),
                                period=meta.get("period"), statistic=meta.get("statistic"),
                                message_id=message.id, detail="\n".join(texts)[:8000] or None)
        return outcome

    def _send(self, replies: list[Reply]) -> None:
        for reply in replies:
            files = []
            if reply.directory:
                files = sorted(p for p in self.store.absolute(reply.directory).iterdir()
                               if p.is_file())
            try:
                self.client.send(reply.receiver, reply.type, reply.metadata, files, id=reply.id,
                                 conversation_id=reply.conversation_id,
                                 in_reply_to=reply.in_reply_to)
            except Conflict:  # the same id was sent before with other bytes (e.g. a PDF date)
                log.info("reply %s was already sent", reply.id)

    def _record(self, message: Message, outcome: Outcome, conn: sa.Connection) -> None:
        first = outcome.replies[0] if outcome.replies else None
        conn.execute(sa.insert(t.processed_messages).values(
            message_id=message.id, type=message.type, sender=message.sender,
            outcome=outcome.outcome, reply_type=first.type if first else None,
            reply_id=first.id if first else None,
            reply_metadata=[r.as_json() for r in outcome.replies], reply_dir=None,
            decided_at=self.clock.now()))

    def _refuse(self, message: Message, refusal: Refused, *, conversation_id: str,
                key: WorkflowKey | None = None, extra: dict[str, Any] | None = None) -> Outcome:
        metadata = {"reden": refusal.code, "bericht": refusal.message, **(extra or {})}
        reply = Reply(WEIGERING, reply_id(message.id, WEIGERING), message.sender, metadata,
                      message.id, conversation_id)
        outcome = Outcome("geweigerd", [reply])
        with self.engine.begin() as conn:
            self._record(message, outcome, conn)
            records.write_audit(conn, self.clock.now(), "geweigerd", key=key,
                                message_id=message.id, detail=f"{refusal.code}: {refusal.message}")
        log.info("message %s refused: %s", message.id, refusal.code)
        return outcome

    # -- parties -------------------------------------------------------------------------------

    def _party(self, oin: str) -> Party | None:
        if oin not in self._parties:
            self._parties = {p.oin: p for p in self.client.parties()}
        return self._parties.get(oin)

    # -- aanlevering ---------------------------------------------------------------------------

    def _definition(self, statistic: str, period: str) -> Definition:
        return self.registry.for_period(statistic, period)

    def _context(self, conn: sa.Connection, definition: Definition, key: WorkflowKey) -> Context:
        required = next((d.name for d in definition.datasets if d.required), "basis")
        basis = records.load_record(conn, WorkflowKey(key.statistic, key.period, key.gemeente,
                                                      required))
        return Context(
            now=self.clock.now(), calendar=definition.calendar(key.period),
            timezone=definition.timezone,
            extension_until=records.extension_until(conn, key.statistic, key.period,
                                                    key.gemeente),
            dataset=key.dataset, basis_accepted=basis.accepted_version is not None
            and basis.state is not State.INGETROKKEN, required_dataset=required)

    def _check_delivery(self, message: Message) -> tuple[Definition, WorkflowKey]:
        """Metadata, sender and attachment checks; Refused with a Dutch message."""
        meta = message.metadata or {}
        missing = [k for k in ("statistic", "period", "dataset", "gemeente") if not meta.get(k)]
        if missing:
            raise Refused("metadata-onvolledig", (
                f"De aanlevering mist de gegevens {', '.join(missing)}. Verstuur het bestand "
                "opnieuw met statistic, period, dataset en gemeente (ggk gemeente submit doet "
                "dat voor u)."))
        statistic, period = str(meta["statistic"]), str(meta["period"])
        dataset, gemeente = str(meta["dataset"]), str(meta["gemeente"])
        party = self._party(message.sender)
        if party is None or party.gemeentecode != gemeente:
            own = party.gemeentecode if party else None
            raise Refused("gemeente-afzender", (
                f"U levert aan voor {gemeente}, maar uw certificaat hoort bij "
                f"{own or 'geen gemeente'}. Een gemeente kan alleen voor zichzelf aanleveren; "
                f"verstuur het bestand met gemeente {own}." if own else
                f"U levert aan voor {gemeente}, maar uw certificaat hoort niet bij een gemeente."))
        try:
            definition = self._definition(statistic, period)
        except UnknownPeriod:
            raise Refused("onbekende-periode", (
                f"CBS kent geen uitvraag '{statistic}' voor periode {period}. Controleer de "
                "periode (bijvoorbeeld 2026-H1).")) from None
        if dataset not in definition.dataset_names:
            raise Refused("onbekende-dataset", (
                f"De dataset '{dataset}' bestaat niet in {statistic} {definition.edition}. "
                f"Mogelijk zijn: {', '.join(definition.dataset_names)}."))
        if len(message.attachments) != 1:
            raise Refused("bijlage", (
                f"Een aanlevering bevat precies één CSV-bestand; dit bericht heeft er "
                f"{len(message.attachments)}. Verstuur één bestand per dataset."))
        return definition, WorkflowKey(statistic, period, gemeente, dataset)

    def _decide_aanlevering(self, message: Message) -> Outcome:
        conversation = message.conversation_id or ""
        try:
            definition, key = self._check_delivery(message)
        except Refused as refused:
            return self._refuse(message, refused, conversation_id=conversation,
                                extra=_meta_subset(message))
        conversation = key.conversation_id
        with self.engine.connect() as conn:
            record = records.load_record(conn, key)
            ctx = self._context(conn, definition, key)
        try:
            decide(record, Event.AANLEVERING, ctx)
        except Refused as refused:
            return self._refuse(message, refused, conversation_id=conversation, key=key,
                                extra=_meta_subset(message))
        return self._validate_and_store(message, definition, key, record)

    def _download(self, message: Message) -> tuple[Path, str, int]:
        attachment = message.attachments[0]
        target = self.store.incoming_dir(message.id) / "delivery.csv"
        self.client.download(message.id, attachment.name, target)
        digest = sha256_file(target)
        if digest != attachment.sha256:
            raise RuntimeError(f"attachment of {message.id} does not match its sha256")
        size = target.stat().st_size
        return self.store.keep_raw(target, digest), digest, size

    def _basis_keys(self, definition: Definition, key: WorkflowKey) -> Any:
        dataset = definition.dataset(key.dataset)
        fk = next(iter(dataset.foreign_keys), None)
        if fk is None:
            return None
        base = WorkflowKey(key.statistic, key.period, key.gemeente, fk.resource)
        with self.engine.connect() as conn:
            record = records.load_record(conn, base)
            if record.accepted_version is None:
                return None
            row = records.accepted_delivery(conn, base, record.accepted_version)
        if row is None or row["parquet_path"] is None:
            return None
        return self.store.read_parquet(row["parquet_path"]).select(list(fk.reference_fields))

    def _validate_and_store(self, message: Message, definition: Definition, key: WorkflowKey,
                            record: Record) -> Outcome:
        from ggk.validation import read_rows, validate_file

        raw, digest, size = self._download(message)
        checkpoint("download")
        personal = [f.name for f in definition.dataset(key.dataset).fields if f.personal]
        basis_keys = self._basis_keys(definition, key)
        result = validate_file(
            raw, dataset=key.dataset, gemeente=key.gemeente, period=key.period,
            definition=definition, basis_keys=basis_keys,
            key_transform={c: self.pseudonymiser.expr for c in personal} if basis_keys is not None
            else None)
        report: dict[str, Any] = dict(result.report)
        report.setdefault("file", {})
        report["file"]["name"] = str((message.metadata or {}).get("file_name")
                                     or message.attachments[0].name)
        report["aanlevering"] = message.id
        parquet_rel: str | None = None
        frame = None
        if result.accepted:
            fields = definition.dataset(key.dataset).field_names
            rows = read_rows(raw, definition=definition, dataset=key.dataset)
            frame = self.pseudonymiser.frame(  # only the schema's fields (no line numbers)
                rows.select([c for c in fields if c in rows.columns]), personal)
            parquet_rel = self.store.accepted_relpath(
                key.statistic, key.period, key.gemeente, key.dataset, 0).replace(
                    "v0.parquet", f"{message.id}.parquet")
            self.store.write_parquet(parquet_rel, frame)
        rapport = Reply(RAPPORT, reply_id(message.id, RAPPORT), message.sender, {}, message.id,
                        key.conversation_id)
        try:
            return self._store_delivery(message, definition, key, result, report, rapport,
                                        parquet_rel, frame, digest, size)
        except Refused as refused:  # the window closed or the state changed while validating
            with self.engine.connect() as conn:
                kept = conn.execute(sa.select(t.deliveries.c.message_id).where(
                    t.deliveries.c.sha256 == digest).limit(1)).first()
            if kept is None:
                self.store.delete_raw(digest)
            if parquet_rel:
                self.store.absolute(parquet_rel).unlink(missing_ok=True)
            return self._refuse(message, refused, conversation_id=key.conversation_id,
                                key=key, extra=_meta_subset(message))

    def _store_delivery(self, message: Message, definition: Definition, key: WorkflowKey,
                        result: Any, report: dict[str, Any], rapport: Reply,
                        parquet_rel: str | None, frame: Any, digest: str, size: int) -> Outcome:
        summary = report.get("summary", {})
        with self.engine.begin() as conn:
            current = records.lock_record(conn, key, self.clock.now())
            ctx = self._context(conn, definition, key)
            changes = None
            if frame is not None and current.accepted_version is not None:
                previous = records.accepted_delivery(conn, key, current.accepted_version)
                if previous and previous["parquet_path"]:
                    changes = compare(self.store.read_parquet(previous["parquet_path"]), frame,
                                      definition.dataset(key.dataset).primary_key,
                                      current.accepted_version)
            received = decide(current, Event.AANLEVERING, ctx)
            version = current.versions + 1
            verdict_event = Event.GOEDGEKEURD if result.accepted else Event.AFGEKEURD
            after = decide(received, verdict_event, ctx, version=version)
            report["versie"] = version
            if changes is not None and result.accepted:
                report["wijzigingen"] = changes.dutch()
            rapport.metadata = {
                "statistic": key.statistic, "period": key.period, "gemeente": key.gemeente,
                "dataset": key.dataset, "verdict": report.get("verdict"), "versie": version,
                "rows": summary.get("rows"), "errors": summary.get("errors"),
                "warnings": summary.get("warnings"), "toestand": after.state.value,
            }
            directory = self.store.reply_dir(rapport.id)
            self._write_report_files(directory, report, result)
            rapport.directory = self.store.relative(directory)
            now = self.clock.now()
            conn.execute(sa.insert(t.deliveries).values(
                message_id=message.id, statistic=key.statistic, period=key.period,
                gemeente=key.gemeente, dataset=key.dataset, version=version,
                sender=message.sender, file_name=report["file"]["name"], sha256=digest,
                bytes=size, verdict="goedgekeurd" if result.accepted else "afgekeurd",
                rows=int(summary.get("rows") or 0), errors=int(summary.get("errors") or 0),
                warnings=int(summary.get("warnings") or 0), parquet_path=parquet_rel,
                changes=changes.as_dict() if changes else None, received_at=now))
            records.save_record(conn, key, after, now, delivered=True)
            records.write_audit(conn, now, "aanlevering", key=key, from_state=current.state,
                                to_state=received.state, message_id=message.id,
                                detail=f"versie {version}, {size} bytes")
            records.write_audit(conn, now, verdict_event.value, key=key, from_state=received.state,
                                to_state=after.state, message_id=message.id,
                                detail=json.dumps({"rows": summary.get("rows"),
                                                   "errors": summary.get("errors"),
                                                   "wijzigingen": report.get("wijzigingen")}))
            outcome = Outcome(after.state.value, [rapport])
            self._record(message, outcome, conn)
        if not result.accepted and parquet_rel:
            self.store.absolute(parquet_rel).unlink(missing_ok=True)
        log.info("delivery %s %s/%s/%s/%s v%d: %s (%s rows, %s errors)", message.id,
                 key.statistic, key.period, key.gemeente, key.dataset, version,
                 report.get("verdict"), summary.get("rows"), summary.get("errors"))
        return outcome

    def _write_report_files(self, directory: Path, report: dict[str, Any], result: Any) -> None:
        (directory / "report.json").write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
        html = result.render_html()
        if "wijzigingen" in report:
            html = _with_changes_section(html, report["wijzigingen"])
        (directory / "report.html").write_text(html, "utf-8")
        result.write_findings_csv(directory / "findings.csv")

    # -- after the replies: the mirror report --------------------------------------------------

    def pending_mirrors(self) -> list[tuple[WorkflowKey, int]]:
        """Required datasets (basis) accepted but without a spiegelrapport yet: the workflow state
        `goedgekeurd` is the durable to-do marker (after a first delivery or a correction)."""
        if self.mirror is None:
            return []
        w = t.workflow
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(w.c.statistic, w.c.period, w.c.gemeente, w.c.dataset,
                                          w.c.accepted_version).where(
                w.c.state == State.GOEDGEKEURD.value, w.c.accepted_version.is_not(None)
            ).order_by(w.c.updated_at)).all()
        pending = []
        for statistic, period, gemeente, dataset, version in rows:
            try:
                definition = self._definition(statistic, period)
            except UnknownPeriod:
                continue
            key = WorkflowKey(statistic, period, gemeente, dataset)
            if self._mirror_later.get((key, version), 0) > time.monotonic():
                continue
            if dataset == next((d.name for d in definition.datasets if d.required), "basis"):
                pending.append((key, version))
        return pending

    def send_pending_mirrors(self, limit: int | None = None,
                             stop: threading.Event | None = None) -> int:
        """Build and send the spiegelrapport for pending accepted basis deliveries; returns the
        number sent. Done after the technical reports, so a mirror never delays one.

        All reports of one call are built from one snapshot of the accepted data: when several
        acceptances of a period arrive in a burst, the period's shared figures (the national
        figure; peers' values are kept per gemeente) are computed once for all of them. With
        `mirror_workers` > 0 the default hook runs in worker processes (a few reports in flight);
        each is claimed just before it is built and sent as soon as it is done."""
        pending = self.pending_mirrors()[:limit]
        if not pending or self.mirror is None:
            return 0
        source = self._mirror_source({key.statistic for key, _ in pending})
        pool = self._mirror_pool()
        in_flight: deque[_MirrorJob] = deque()
        sent = 0
        for key, version in pending:
            if stop is not None and stop.is_set():
                break
            try:
                job = self._start_mirror(key, version, source, pool)
            except Exception as e:
                self._mirror_failed(key, version, e)
                continue
            if job is None:  # another station has it (or there is nothing to send): look later
                self._mirror_later[(key, version)] = time.monotonic() + 5
                continue
            in_flight.append(job)
            while len(in_flight) > (self.settings.mirror_workers if pool else 0):
                sent += self._finish_mirror(in_flight.popleft())
        while in_flight:
            sent += self._finish_mirror(in_flight.popleft())
        return sent

    def _mirror_source(self, statistics: set[str]) -> Any:
        from ggk.station.accepted import StationAcceptedData

        return StationAcceptedData(self.engine, self.store).snapshot(sorted(statistics))

    def _mirror_pool(self) -> Any:
        """The worker processes for the default hook (spawned once, kept until close())."""
        from ggk.station.mirror_hook import GgkMirror, worker_init

        if self.settings.mirror_workers <= 0 or not isinstance(self.mirror, GgkMirror):
            return None
        with self._pool_lock:
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                self._pool = ProcessPoolExecutor(
                    self.settings.mirror_workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=worker_init, initargs=(self.settings.mirror_nice,))
            return self._pool

    def _mirror_failed(self, key: WorkflowKey, version: int, e: BaseException) -> None:
        """Logged; the state stays goedgekeurd, so it is retried after 60 s."""
        self._mirror_later[(key, version)] = time.monotonic() + 60
        log.error("spiegelrapport for %s %s failed (retry in 60 s): %s: %s",
                  key.gemeente, key.period, type(e).__name__, masked(str(e))[:500])

    def _start_mirror(self, key: WorkflowKey, version: int, source: Any,
                      pool: Any) -> _MirrorJob | None:
        """Claim the mirror of this accepted version and start building it (in `pool` when
        given); None when it is not this station's to make."""
        from ggk.station.mirror_hook import build_into

        assert self.mirror is not None
        with self.engine.connect() as conn:
            delivery = records.accepted_delivery(conn, key, version)
        if delivery is None:
            return None
        delivery_id = delivery["message_id"]
        claim_id = f"spiegelrapport:{delivery_id}"
        wall = dt.datetime.now(dt.UTC)
        with self.engine.begin() as conn:
            if not records.claim(conn, claim_id, self.settings.worker_id, wall,
                                 dt.timedelta(seconds=self.settings.claim_lease_seconds)):
                return None
        definition = self._definition(key.statistic, key.period)
        spiegel = Reply(SPIEGELRAPPORT, reply_id(delivery_id, SPIEGELRAPPORT), delivery["sender"],
                        {"statistic": key.statistic, "period": key.period,
                         "gemeente": key.gemeente, "versie": version}, delivery_id,
                        f"{key.statistic}/{key.period}/{key.gemeente}/spiegelrapport")
        directory = self.store.reply_dir(spiegel.id)
        job = _MirrorJob(key, version, claim_id, spiegel, definition, directory)
        if any(directory.iterdir()):  # built before a crash: send the same files again
            job.ready = True
        elif pool is not None:
            job.future = pool.submit(build_into, self.mirror, definition, key.period,
                                     key.gemeente, source, directory)
        else:
            job.ready = bool(build_into(self.mirror, definition, key.period, key.gemeente,
                                        source, directory))
        return job

    def _finish_mirror(self, job: _MirrorJob) -> int:
        """Wait for the job's files, send them, move the workflow on; 1 when sent."""
        key, version = job.key, job.version
        try:
            if job.future is not None:
                try:
                    job.ready = bool(job.future.result())
                except BrokenProcessPool:  # a worker died (e.g. killed): new workers next time
                    with self._pool_lock:
                        self._pool = None
                    raise
            if not job.ready:
                shutil.rmtree(job.directory, ignore_errors=True)
                self._mirror_later[(key, version)] = time.monotonic() + 5
                return 0
            spiegel = job.reply
            spiegel.directory = self.store.relative(job.directory)
            self._send([spiegel])
            with self.engine.begin() as conn:
                now = self.clock.now()
                current = records.lock_record(conn, key, now)
                if current.state is State.GOEDGEKEURD and current.accepted_version == version:
                    after = decide(current, Event.SPIEGELRAPPORT,
                                   self._context(conn, job.definition, key))
                    records.save_record(conn, key, after, now)
                    records.write_audit(conn, now, "spiegelrapport", key=key,
                                        from_state=current.state, to_state=after.state,
                                        message_id=spiegel.id, detail=f"versie {version}")
                records.finish_claim(conn, job.claim_id)
        except Exception as e:
            self._mirror_failed(key, version, e)
            return 0
        log.info("spiegelrapport %s sent to %s for %s v%d", spiegel.id, key.gemeente,
                 key.period, version)
        return 1

    # -- besluit -------------------------------------------------------------------------------

    def _decide_besluit(self, message: Message) -> Outcome:
        meta = message.metadata or {}
        statistic = str(meta.get("statistic") or message.type.split(".")[0])
        period = str(meta.get("period") or "")
        besluit = str(meta.get("besluit") or "")
        party = self._party(message.sender)
        gemeente = party.gemeentecode if party else None
        conversation = f"{statistic}/{period}/{gemeente}/besluit"
        toelichting = masked(str(meta.get("toelichting") or ""))[:500]
        try:
            if gemeente is None or (meta.get("gemeente") and meta["gemeente"] != gemeente):
                raise Refused("gemeente-afzender", (
                    "Een besluit kan alleen een gemeente nemen, en alleen over haar eigen "
                    f"aanlevering (uw certificaat hoort bij {gemeente or 'geen gemeente'})."))
            if besluit not in (Event.OPT_IN.value, Event.INTREKKEN.value):
                raise Refused("onbekend-besluit", (
                    f"Het besluit '{besluit}' bestaat niet. Kies 'opt-in' (toestemming voor "
                    "publicatie) of 'intrekken' (uw aanlevering niet gebruiken)."))
            try:
                definition = self._definition(statistic, period)
            except UnknownPeriod:
                raise Refused("onbekende-periode", (
                    f"CBS kent geen uitvraag '{statistic}' voor periode '{period}'. Geef de "
                    "periode op, bijvoorbeeld 2026-H1.")) from None
        except Refused as refused:
            return self._refuse(message, refused, conversation_id=conversation,
                                extra={"period": period, "besluit": besluit})
        try:
            return self._store_besluit(message, definition, statistic, period, gemeente,
                                       Event(besluit), toelichting, conversation)
        except Refused as refused:
            return self._refuse(message, refused, conversation_id=conversation,
                                extra={"period": period, "besluit": besluit})

    def _store_besluit(self, message: Message, definition: Definition, statistic: str,
                       period: str, gemeente: str, event: Event, toelichting: str,
                       conversation: str) -> Outcome:
        besluit = event.value
        with self.engine.begin() as conn:
            changes: list[tuple[WorkflowKey, Record, Record]] = []
            refusal: Refused | None = None
            for spec in definition.datasets:
                key = WorkflowKey(statistic, period, gemeente, spec.name)
                record = records.load_record(conn, key, for_update=True)
                if record.accepted_version is None:
                    continue
                try:
                    changes.append((key, record, decide(record, event,
                                                        self._context(conn, definition, key))))
                except Refused as refused:
                    refusal = refused
                    break
            if refusal is None and not changes:
                refusal = Refused("geen-goedgekeurde-levering", (
                    f"Een besluit over {period} kan pas na een goedgekeurde aanlevering. Lever "
                    "eerst de dataset basis aan; na goedkeuring kunt u opt-in geven of "
                    "intrekken."))
            if refusal is not None:
                raise refusal
            now = self.clock.now()
            for key, before, after in changes:
                records.save_record(conn, key, after, now)
                records.write_audit(conn, now, f"besluit-{besluit}", key=key,
                                    from_state=before.state, to_state=after.state,
                                    message_id=message.id, detail=toelichting or None)
            datasets = [key.dataset for key, _, _ in changes]
            text = (f"CBS heeft uw opt-in voor {period} vastgelegd voor {', '.join(datasets)}: "
                    "uw gegevens worden gebruikt voor publicatie."
                    if event is Event.OPT_IN else
                    f"CBS heeft uw intrekking voor {period} vastgelegd voor {', '.join(datasets)}: "
                    "uw gegevens worden niet gebruikt in cijfers en publicaties. Tot de uiterste "
                    "datum kunt u alsnog opt-in geven.")
            reply = Reply(BEVESTIGING, reply_id(message.id, BEVESTIGING), message.sender,
                          {"statistic": statistic, "period": period, "gemeente": gemeente,
                           "besluit": besluit, "datasets": datasets, "bericht": text},
                          message.id, conversation)
            outcome = Outcome(besluit, [reply])
            self._record(message, outcome, conn)
        return outcome

    # -- operator actions ----------------------------------------------------------------------

    def extend(self, gemeente: str, period: str, until: dt.date, *, statistic: str = "gmsd",
               reason: str | None = None) -> None:
        """Operator extension: the gemeente's deadlines of this period move to `until`."""
        grant_extension(self.engine, self.clock, statistic, period, gemeente, until, reason)

    def status(self, period: str, statistic: str = "gmsd") -> Any:
        """The operator view as data (`ggk.station.status.PeriodStatus`) for all 342 gemeenten."""
        from ggk.refdata import register
        from ggk.station.status import period_status

        gemeenten = [(g.code, g.naam) for g in register().all()]
        return period_status(self.engine, self._definition(statistic, period), period,
                             self.clock, gemeenten)

    def purge(self) -> int:
        """Delete raw files older than the retention (by this station's clock); files deleted."""
        from ggk.station.purge import purge_raw

        return purge_raw(self.engine, self.store, self.clock, self.settings.retention_days)


def grant_extension(engine: sa.Engine, clock: Clock, statistic: str, period: str, gemeente: str,
                    until: dt.date, reason: str | None = None) -> None:
    with engine.begin() as conn:
        records.grant_extension(conn, statistic, period, gemeente, until, clock.now(), reason)


def _meta_subset(message: Message) -> dict[str, Any]:
    meta = message.metadata or {}
    return {k: meta[k] for k in ("statistic", "period", "dataset", "gemeente") if k in meta}


def _with_changes_section(html: str, changes: dict[str, int]) -> str:
    section = (
        '<section id="wijzigingen"><h2>Wijzigingen ten opzichte van versie '
        f'{changes["vorige_versie"]}</h2><table>'
        f'<tr><th>Toegevoegd</th><td>{changes["toegevoegd"]}</td></tr>'
        f'<tr><th>Verwijderd</th><td>{changes["verwijderd"]}</td></tr>'
        f'<tr><th>Gewijzigd</th><td>{changes["gewijzigd"]}</td></tr>'
        f'<tr><th>Ongewijzigd</th><td>{changes["ongewijzigd"]}</td></tr>'
        '</table></section>')
    if "</body>" in html:
        return html.replace("</body>", section + "</body>", 1)
    return html + section


def accepted_data_source(station_or_engine: Station | sa.Engine, store: FileStore | None = None
                         ) -> Any:
    from ggk.station.accepted import StationAcceptedData

    if isinstance(station_or_engine, Station):
        return StationAcceptedData(station_or_engine.engine, station_or_engine.store)
    assert store is not None
    return StationAcceptedData(station_or_engine, store)

"""Intake of an aanlevering: check, validate, pseudonymise, store, decide.

`Intake.decide(message)` returns the recorded Outcome: a weigering when the delivery cannot be
taken (metadata, sender, calendar), else the technisch controlerapport of a new version. The
version, the workflow state, the audit rows and the replies are written in one transaction.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from ggk.client.interfaces import HubApi, Message
from ggk.clock import Clock, sent_moment
from ggk.conversation import AanleveringMetadata, Kind, MissingMetadata, RapportMetadata
from ggk.definitions import Definition, DefinitionRegistry, UnknownPeriod
from ggk.station import records
from ggk.station import tables as t
from ggk.station.checkpoints import checkpoint
from ggk.station.diff import compare
from ggk.station.outcomes import Outcome, Recorder, Reply, answer_type
from ggk.station.parties import PartyBook
from ggk.station.pseudonym import Pseudonymiser
from ggk.station.records import WorkflowKey
from ggk.station.report import TechnischControlerapport
from ggk.station.storage import FileStore, sha256_file
from ggk.station.workflow import Event, Record, Refused, decide
from ggk.validation import read_rows, validate_file
from ggk.validation.interfaces import ValidationResult

log = logging.getLogger("ggk.station")



def _said(message: Message) -> dict[str, Any]:
    """What a refused delivery said about itself, repeated in the weigering."""
    meta = message.metadata or {}
    return {k: str(meta[k]) for k in ("statistic", "period", "dataset", "gemeente")
            if meta.get(k)}


class Intake:
    def __init__(self, engine: sa.Engine, store: FileStore, client: HubApi, clock: Clock,
                 registry: DefinitionRegistry, parties: PartyBook,
                 pseudonymiser: Pseudonymiser, recorder: Recorder) -> None:
        self.engine = engine
        self.store = store
        self.client = client
        self.clock = clock
        self.registry = registry
        self.parties = parties
        self.pseudonymiser = pseudonymiser
        self.recorder = recorder

    def decide(self, message: Message) -> Outcome:
        """Check, validate and store one aanlevering; the recorded outcome."""
        conversation = message.conversation_id or ""
        try:
            definition, key = self.check(message)
        except Refused as refused:
            return self.recorder.refuse(message, refused, conversation_id=conversation,
                                        **_said(message))
        with self.engine.connect() as conn:
            record = records.load_record(conn, key)
            ctx = records.workflow_context(conn, definition, key, self.clock.now())
        try:
            decide(record, Event.AANLEVERING, ctx)
        except Refused as refused:
            return self.recorder.refuse(message, refused, conversation_id=key.conversation_id,
                                        key=key, **_said(message))
        return self._validate_and_store(message, definition, key, record)

    # -- check ---------------------------------------------------------------------------------

    def check(self, message: Message) -> tuple[Definition, WorkflowKey]:
        """Metadata, sender and attachment checks; Refused with a Dutch message."""
        try:
            meta = AanleveringMetadata.from_metadata(message.metadata)
        except MissingMetadata as e:
            raise Refused("metadata-onvolledig", (
                f"De aanlevering mist de gegevens {', '.join(e.missing)}. Verstuur het bestand "
                "opnieuw met statistic, period, dataset en gemeente (ggk gemeente submit doet "
                "dat voor u).")) from None
        statistic, period = str(meta.statistic), str(meta.period)
        dataset, gemeente = str(meta.dataset), str(meta.gemeente)
        party = self.parties.get(message.sender)
        if party is None or party.gemeentecode != gemeente:
            own = party.gemeentecode if party else None
            raise Refused("gemeente-afzender", (
                f"U levert aan voor {gemeente}, maar uw certificaat hoort bij "
                f"{own or 'geen gemeente'}. Een gemeente kan alleen voor zichzelf aanleveren; "
                f"verstuur het bestand met gemeente {own}." if own else
                f"U levert aan voor {gemeente}, maar uw certificaat hoort niet bij een gemeente."))
        try:
            definition = self.registry.for_period(statistic, period)
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
        return definition, WorkflowKey(statistic, period, gemeente, dataset, bool(meta.test))

    # -- validate and pseudonymise -------------------------------------------------------------

    def _download(self, message: Message) -> tuple[Path, str, int]:
        attachment = message.attachments[0]
        target = self.store.incoming_dir(message.id) / "delivery.csv"
        self.client.download(message.id, attachment.name, target)
        digest = sha256_file(target)
        if digest != attachment.sha256:
            raise RuntimeError(f"attachment of {message.id} does not match its sha256")
        size = target.stat().st_size
        return self.store.keep_raw(target, digest), digest, size

    def _referenced_keys(self, definition: Definition, key: WorkflowKey) -> pl.DataFrame | None:
        """The (pseudonymised) keys of the accepted dataset this one refers to, if any."""
        dataset = definition.dataset(key.dataset)
        fk = next(iter(dataset.foreign_keys), None)
        if fk is None:
            return None
        base = key.sibling(fk.resource)
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
        raw, digest, size = self._download(message)
        checkpoint("download")
        personal = [f.name for f in definition.dataset(key.dataset).fields if f.personal]
        referenced_keys = self._referenced_keys(definition, key)
        result = validate_file(
            raw, dataset=key.dataset, gemeente=key.gemeente, period=key.period,
            definition=definition, referenced_keys=referenced_keys,
            key_transform={c: self.pseudonymiser.expr for c in personal}
            if referenced_keys is not None else None)
        report = TechnischControlerapport(
            result, message.id, str((message.metadata or {}).get("file_name")
                                    or message.attachments[0].name))
        parquet_rel: str | None = None
        frame = None
        if result.accepted:
            fields = definition.dataset(key.dataset).field_names
            rows = read_rows(raw, definition=definition, dataset=key.dataset)
            frame = self.pseudonymiser.frame(  # only the schema's fields (no line numbers)
                rows.select([c for c in fields if c in rows.columns]), personal)
            parquet_rel = self.store.accepted_relpath(
                key.stored_statistic, key.period, key.gemeente, key.dataset, 0).replace(
                    "v0.parquet", f"{message.id}.parquet")
            self.store.write_parquet(parquet_rel, frame)
        kind = answer_type(message, Kind.TECHNISCH_CONTROLERAPPORT, definition.statistic)
        rapport = Reply(kind, self.recorder.ids(message.id, kind), message.sender, {}, message.id,
                        key.conversation_id)
        try:
            return self._store(message, definition, key, report, rapport, parquet_rel, frame,
                               digest, size)
        except Refused as refused:  # the window closed or the state changed while validating
            with self.engine.connect() as conn:
                kept = conn.execute(sa.select(t.deliveries.c.message_id).where(
                    t.deliveries.c.sha256 == digest).limit(1)).first()
            if kept is None:
                self.store.delete_raw(digest)
            if parquet_rel:
                self.store.delete_parquet(parquet_rel)
            return self.recorder.refuse(message, refused, conversation_id=key.conversation_id,
                                        key=key, **_said(message))

    # -- store and decide ----------------------------------------------------------------------

    def _store(self, message: Message, definition: Definition, key: WorkflowKey,
               report: TechnischControlerapport, rapport: Reply, parquet_rel: str | None,
               frame: pl.DataFrame | None, digest: str, size: int) -> Outcome:
        result: ValidationResult = report.result
        summary = report.summary
        # the report files go to a folder of this attempt; the decision's commit publishes it
        # (its path is recorded with the reply), a rolled back attempt removes it
        with self.store.reply_attempt(rapport.id) as directory, self.engine.begin() as conn:
            current = records.lock_record(conn, key, self.clock.now())
            ctx = records.workflow_context(conn, definition, key, self.clock.now())
            if frame is not None and current.accepted_version is not None:
                previous = records.accepted_delivery(conn, key, current.accepted_version)
                if previous and previous["parquet_path"]:
                    report.wijzigingen = compare(
                        self.store.read_parquet(previous["parquet_path"]), frame,
                        definition.dataset(key.dataset).primary_key, current.accepted_version)
            received = decide(current, Event.AANLEVERING, ctx)
            version = current.versions + 1
            verdict_event = Event.GOEDGEKEURD if result.accepted else Event.AFGEKEURD
            after = decide(received, verdict_event, ctx, version=version)
            report.versie = version
            rapport.metadata = RapportMetadata(
                key.statistic, key.period, key.gemeente, key.dataset, result.verdict, version,
                summary.get("rows"), summary.get("errors"), summary.get("warnings"),
                after.state.value, test=key.test or None).as_metadata()
            report.write(directory)
            rapport.directory = self.store.relative(directory)
            now = self.clock.now()
            changes = report.wijzigingen
            conn.execute(sa.insert(t.deliveries).values(
                message_id=message.id, statistic=key.stored_statistic, period=key.period,
                gemeente=key.gemeente, dataset=key.dataset, version=version,
                sender=message.sender, file_name=report.file_name, sha256=digest,
                bytes=size, verdict="goedgekeurd" if result.accepted else "afgekeurd",
                rows=int(summary.get("rows") or 0), errors=int(summary.get("errors") or 0),
                warnings=int(summary.get("warnings") or 0), parquet_path=parquet_rel,
                changes=changes.as_dict() if changes else None, received_at=now,
                sent_at=sent_moment(message.created_at, self.clock)))
            records.save_record(conn, key, after, now, delivered=True)
            records.write_audit(conn, now, "aanlevering", key=key, from_state=current.state,
                                to_state=received.state, message_id=message.id,
                                detail=f"versie {version}, {size} bytes")
            records.write_audit(conn, now, verdict_event.value, key=key, from_state=received.state,
                                to_state=after.state, message_id=message.id,
                                detail=json.dumps({"rows": summary.get("rows"),
                                                   "errors": summary.get("errors"),
                                                   "wijzigingen": changes.dutch() if changes
                                                   else None}))
            outcome = Outcome(after.state.value, [rapport])
            self.recorder.record(conn, message, outcome)
        if not result.accepted and parquet_rel:
            self.store.delete_parquet(parquet_rel)
        log.info("delivery %s %s/%s/%s/%s v%d: %s (%s rows, %s errors)", message.id,
                 key.stored_statistic, key.period, key.gemeente, key.dataset, version,
                 result.verdict, summary.get("rows"), summary.get("errors"))
        return outcome

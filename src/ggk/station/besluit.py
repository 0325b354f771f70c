"""A gemeente's besluit (opt-in or intrekken) about its accepted data of a period."""

from __future__ import annotations

import sqlalchemy as sa

from ggk.client.interfaces import Message
from ggk.clock import Clock
from ggk.conversation import (
    BesluitMetadata,
    BevestigingMetadata,
    ConversationId,
    Kind,
    MissingMetadata,
    conversation_id,
)
from ggk.definitions import Definition, DefinitionRegistry, UnknownPeriod
from ggk.station import records
from ggk.station.masking import masked
from ggk.station.outcomes import Outcome, Recorder, Reply, answer_type
from ggk.station.parties import PartyBook
from ggk.station.records import WorkflowKey
from ggk.station.workflow import Event, Record, Refused, decide


class BesluitDesk:
    """Decides a besluit: every dataset with accepted data moves, or none does (a weigering)."""

    def __init__(self, engine: sa.Engine, clock: Clock, registry: DefinitionRegistry,
                 parties: PartyBook, recorder: Recorder) -> None:
        self.engine = engine
        self.clock = clock
        self.registry = registry
        self.parties = parties
        self.recorder = recorder

    def decide(self, message: Message) -> Outcome:
        """The recorded outcome of one besluit message (bevestiging or weigering)."""
        said = message.metadata or {}
        party = self.parties.get(message.sender)
        gemeente = party.gemeentecode if party else None
        conversation = message.conversation_id or ""
        extra = {k: str(said[k]) for k in ("period", "besluit") if said.get(k)}
        try:
            try:
                meta = BesluitMetadata.from_metadata(said)
            except MissingMetadata as e:
                raise Refused("metadata-onvolledig", (
                    f"Het besluit mist de gegevens {', '.join(e.missing)}. Verstuur het opnieuw "
                    "met statistic, period en besluit (ggk gemeente besluit doet dat voor "
                    "u).")) from None
            statistic, period, besluit = str(meta.statistic), str(meta.period), str(meta.besluit)
            conversation = conversation_id(statistic, period, str(gemeente),
                                           ConversationId.BESLUIT)
            toelichting = masked(str(meta.toelichting or ""))[:500]
            if gemeente is None or (meta.gemeente and meta.gemeente != gemeente):
                raise Refused("gemeente-afzender", (
                    "Een besluit kan alleen een gemeente nemen, en alleen over haar eigen "
                    f"aanlevering (uw certificaat hoort bij {gemeente or 'geen gemeente'})."))
            if besluit not in (Event.OPT_IN.value, Event.INTREKKEN.value):
                raise Refused("onbekend-besluit", (
                    f"Het besluit '{besluit}' bestaat niet. Kies 'opt-in' (toestemming voor "
                    "publicatie) of 'intrekken' (uw aanlevering niet gebruiken)."))
            try:
                definition = self.registry.for_period(statistic, period)
            except UnknownPeriod:
                raise Refused("onbekende-periode", (
                    f"CBS kent geen uitvraag '{statistic}' voor periode '{period}'. Geef de "
                    "periode op, bijvoorbeeld 2026-H1.")) from None
            return self._store(message, definition, period, gemeente, Event(besluit),
                               toelichting, conversation, test=bool(meta.test))
        except Refused as refused:
            return self.recorder.refuse(message, refused, conversation_id=conversation, **extra)

    def _store(self, message: Message, definition: Definition, period: str, gemeente: str,
               event: Event, toelichting: str, conversation: str, *, test: bool) -> Outcome:
        """Record the besluit over every dataset with accepted data; a test besluit only over
        the test track (records.stored_statistic), never over the municipality's real data."""
        besluit, statistic = event.value, definition.statistic
        with self.engine.begin() as conn:
            changes: list[tuple[WorkflowKey, Record, Record]] = []
            for spec in definition.datasets:
                key = WorkflowKey(statistic, period, gemeente, spec.name, test)
                record = records.load_record(conn, key, for_update=True)
                if record.accepted_version is None:
                    continue
                ctx = records.workflow_context(conn, definition, key, self.clock.now())
                changes.append((key, record, decide(record, event, ctx)))  # may be Refused
            if not changes:
                raise Refused("geen-goedgekeurde-levering", (
                    f"Een besluit over {period} kan pas na een goedgekeurde aanlevering. Lever "
                    f"eerst de dataset {definition.required_dataset} aan; na goedkeuring kunt u "
                    "opt-in geven of intrekken."))
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
            if test:
                text = (f"Testbesluit ({besluit}) over uw testaanleveringen van {period} "
                        f"vastgelegd voor {', '.join(datasets)}. Dit telt niet als uw besluit en "
                        "raakt uw echte aanlevering niet.")
            kind = answer_type(message, Kind.BEVESTIGING, statistic)
            reply = Reply(kind, self.recorder.ids(message.id, kind), message.sender,
                          BevestigingMetadata(statistic, period, gemeente, besluit, datasets,
                                              text, test or None).as_metadata(), message.id,
                          conversation)
            outcome = Outcome(besluit, [reply])
            self.recorder.record(conn, message, outcome)
        return outcome

"""The station's records as `ggk.station.interfaces.PeriodRecords`: the one place the CBS
dashboard's facts are read from the station's tables and stored reports, and where its two requests
(an extension, a reminder) are written for the running station to tell the municipality."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from ggk.clock import Clock
from ggk.definitions import Definition, DefinitionRegistry, UnknownPeriod
from ggk.station import records
from ggk.station import tables as t
from ggk.station.database import as_utc
from ggk.station.interfaces import (
    Comment,
    DashboardError,
    DatasetState,
    DeliveryVersion,
    GemeenteFile,
    HistoryEntry,
    StoredReport,
    TimelineEvent,
)
from ggk.station.masking import masked
from ggk.station.settings import StationSettings
from ggk.station.storage import FileStore
from ggk.station.workflow import Context, Record, State, dutch_date, is_overdue

REMINDER_REQUESTED = "herinnering-gevraagd"  # written by the dashboard, with the message id
REMINDER_SENT = "herinnering-gemeld"  # written by the station once sent
REMINDER_UNDELIVERABLE = "herinnering-niet-bezorgd"  # no party at the hub for the gemeente
COMMENT_EVENTS = ("toelichting", "uitstelverzoek")
REJECTED = (State.AFGEKEURD, State.CORRECTIE_AFGEKEURD)
BESLUITEN = {State.OPT_IN: "opt-in", State.INGETROKKEN: "intrekken"}
MIRROR_JSON = "spiegelrapport.json"


@lru_cache(maxsize=4096)
def _flags_in(store: FileStore, message_id: str) -> tuple[dict[str, Any], ...]:
    """The flags of one sent spiegelrapport (its files never change once sent; cached, so a
    page of all gemeenten reads each one once, also from object storage)."""
    data = store.reply_file(store.reply_relpath(message_id), MIRROR_JSON)
    if data is None:
        return ()
    try:
        found = json.loads(data.decode("utf-8")).get("flags") or []
    except (OSError, ValueError):
        return ()
    return tuple(f for f in found if isinstance(f, dict))


class StationPeriodRecords:
    """`PeriodRecords` over one station database, its file store and its definitions."""

    def __init__(self, engine: sa.Engine, store: FileStore, registry: DefinitionRegistry,
                 clock: Clock, gemeenten: Sequence[tuple[str, str]]) -> None:
        self.engine = engine
        self.store = store
        self.registry = registry
        self.clock = clock
        self.gemeenten = dict(gemeenten)  # code -> naam of every municipality to show

    # -- the period -------------------------------------------------------------------------

    def statistics(self) -> list[str]:
        return sorted(self.registry.statistics())

    def periods(self, statistic: str) -> list[str]:
        known: set[str] = set()
        for definition in getattr(self.registry, "all", lambda: [])():
            if definition.statistic == statistic:
                known.update(definition.periods)
        with self.engine.connect() as conn:
            known.update(conn.execute(sa.select(t.workflow.c.period).distinct().where(
                t.workflow.c.statistic == statistic)).scalars())
        return sorted(known)

    def _definition(self, statistic: str, period: str) -> Definition | None:
        try:
            return self.registry.for_period(statistic, period)
        except UnknownPeriod:
            return None

    def calendar(self, statistic: str, period: str) -> dict[str, dt.date]:
        definition = self._definition(statistic, period)
        return dict(definition.calendar(period).events) if definition else {}

    def states(self, statistic: str, period: str) -> list[DatasetState]:
        definition = self._definition(statistic, period)
        with self.engine.connect() as conn:
            flows = {(r.gemeente, r.dataset): r for r in conn.execute(sa.select(
                t.workflow).where(t.workflow.c.statistic == statistic,
                                  t.workflow.c.period == period))}
            extensions = dict(conn.execute(sa.select(t.extensions.c.gemeente,
                                                     t.extensions.c.until).where(
                t.extensions.c.statistic == statistic, t.extensions.c.period == period)).all())
            comments: dict[str, int] = dict(conn.execute(
                sa.select(t.audit.c.gemeente, sa.func.count()).where(
                    t.audit.c.statistic == statistic, t.audit.c.period == period,
                    t.audit.c.event.in_(COMMENT_EVENTS)).group_by(t.audit.c.gemeente)).all())
            mirrors = self._newest_mirrors(conn, statistic, period)
        if definition is not None:
            datasets = [(d.name, d.required) for d in definition.datasets]
        else:  # a period without a calendar in this version: what the records hold (no
            # definition says which one is required, so none counts as required)
            datasets = [(name, False) for name in sorted({d for _, d in flows})]
        required = next((name for name, req in datasets if req), "")
        names = self.gemeenten | {g: g for g, _ in flows if g not in self.gemeenten}
        now = self.clock.now()
        result = []
        for code in sorted(names):
            flags = len(_flags_in(self.store, mirrors[code])) if code in mirrors else 0
            for dataset, is_required in datasets:
                flow = flows.get((code, dataset))
                record = (Record(State(flow.state), flow.accepted_version, flow.versions)
                          if flow else Record())
                deadline, overdue = None, False
                if definition is not None:
                    ctx = Context(now=now, calendar=definition.calendar(period),
                                  timezone=definition.timezone,
                                  extension_until=extensions.get(code), dataset=dataset,
                                  required_dataset=required)
                    deadline, overdue = ctx.closes("aanlevering_sluit"), is_overdue(record, ctx)
                result.append(DatasetState(
                    statistic, period, code, names[code], dataset, is_required,
                    record.state.value, record.accepted_version, record.versions,
                    as_utc(flow.last_delivery_at) if flow and flow.last_delivery_at else None,
                    deadline, overdue, record.state in REJECTED, extensions.get(code),
                    flags if is_required else 0, int(comments.get(code, 0)),
                    BESLUITEN.get(record.state)))
        return result

    def _newest_mirrors(self, conn: sa.Connection, statistic: str, period: str,
                        gemeente: str | None = None) -> dict[str, str]:
        """gemeente -> message id of its newest spiegelrapport of the period."""
        query = sa.select(t.audit.c.gemeente, t.audit.c.message_id).where(
            t.audit.c.event == "spiegelrapport", t.audit.c.statistic == statistic,
            t.audit.c.period == period).order_by(t.audit.c.id)
        if gemeente is not None:
            query = query.where(t.audit.c.gemeente == gemeente)
        return {g: m for g, m in conn.execute(query).all() if m}

    def timeline(self, statistic: str, period: str) -> list[TimelineEvent]:
        d = t.deliveries
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(d.c.received_at, d.c.gemeente, d.c.dataset,
                                          d.c.version, d.c.verdict).where(
                d.c.statistic == statistic, d.c.period == period).order_by(
                d.c.received_at)).all()
        return [TimelineEvent(as_utc(r.received_at), r.gemeente, r.dataset, r.version,
                              r.verdict == "goedgekeurd") for r in rows]

    # -- one municipality -------------------------------------------------------------------

    def gemeente_file(self, statistic: str, period: str, gemeente: str) -> GemeenteFile:
        states = tuple(s for s in self.states(statistic, period) if s.gemeente == gemeente)
        if not states:
            raise DashboardError(f"Gemeente {gemeente} is onbekend.")
        d, a, p = t.deliveries, t.audit, t.processed_messages
        with self.engine.connect() as conn:
            versions = conn.execute(sa.select(d).where(
                d.c.statistic == statistic, d.c.period == period, d.c.gemeente == gemeente)
                .order_by(d.c.received_at.desc(), d.c.version.desc())).mappings().all()
            audit = conn.execute(sa.select(a).where(
                a.c.gemeente == gemeente, sa.or_(a.c.period == period, a.c.period.is_(None)),
                sa.or_(a.c.statistic == statistic, a.c.statistic.is_(None)))
                .order_by(a.c.id.desc())).mappings().all()
            replies = conn.execute(sa.select(p.c.message_id, p.c.reply_metadata,
                                             sa.func.coalesce(p.c.replied_at, p.c.decided_at)
                                             ).where(
                p.c.message_id.in_([v["message_id"] for v in versions]))).all()
            mirrors = self._newest_mirrors(conn, statistic, period, gemeente)
        reports = [self._report_of(reply, replied_at)
                   for _, replied, replied_at in replies for reply in replied or []
                   if reply.get("directory")]
        reports += [StoredReport(row["message_id"], f"{statistic}.spiegelrapport", row["dataset"],
                                 _version_of(row["detail"]), as_utc(row["at"]),
                                 self._files(row["message_id"]))
                    for row in audit if row["event"] == "spiegelrapport" and row["message_id"]]
        reports.sort(key=lambda r: r.sent_at or dt.datetime.min.replace(tzinfo=dt.UTC),
                     reverse=True)
        comments = tuple(Comment(as_utc(row["at"]), row["event"], row["message_id"],
                                 _comment_fields(row["detail"]))
                         for row in audit if row["event"] in COMMENT_EVENTS)
        history = tuple(HistoryEntry(as_utc(row["at"]), row["event"], row["dataset"],
                                     row["from_state"], row["to_state"], row["message_id"],
                                     row["detail"] if row["event"] not in COMMENT_EVENTS
                                     else None)
                        for row in audit)
        flags = _flags_in(self.store, mirrors[gemeente]) if gemeente in mirrors else ()
        return GemeenteFile(
            statistic, period, gemeente, states[0].naam, states,
            tuple(DeliveryVersion(v["message_id"], v["dataset"], v["version"], v["file_name"],
                                  as_utc(v["received_at"]), v["verdict"], v["rows"],
                                  v["errors"], v["warnings"]) for v in versions),
            tuple(reports), comments, history, flags)

    def _report_of(self, reply: dict[str, Any], replied_at: dt.datetime | None) -> StoredReport:
        meta = reply.get("metadata") or {}
        return StoredReport(reply["id"], reply["type"], meta.get("dataset"), meta.get("versie"),
                            as_utc(replied_at) if replied_at else None,
                            self._files(reply["id"], reply.get("directory")))

    def _folder(self, reply_id: str, recorded: str | None = None) -> str | None:
        """A reply's folder (relative to the store): the recorded one, else `replies/<id>`
        (spiegelrapport), else the newest attempt folder `replies/<id>.<nonce>` (technical
        reports)."""
        if recorded and self.store.objects.names(recorded):
            return recorded
        exact = self.store.reply_relpath(reply_id)
        if self.store.objects.names(exact):
            return exact
        return self.store.objects.newest_folder(f"{exact}.")

    def _files(self, reply_id: str, recorded: str | None = None) -> tuple[str, ...]:
        directory = self._folder(reply_id, recorded)
        if directory is None:
            return ()
        return tuple(self.store.objects.names(directory))

    def report_file(self, reply_id: str, name: str) -> bytes:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise DashboardError("Dit bestand bestaat niet.")
        try:
            uuid.UUID(reply_id)
        except ValueError:
            raise DashboardError("Dit rapport bestaat niet.") from None
        directory = self._folder(reply_id)
        data = self.store.reply_file(directory, name) if directory is not None else None
        if data is None:
            raise DashboardError("Dit rapport bestaat niet.")
        return data

    # -- requests -------------------------------------------------------------------------

    def grant_extension(self, statistic: str, period: str, gemeente: str, until: dt.date,
                        reason: str | None) -> None:
        definition = self._definition(statistic, period)
        if definition is None:
            raise DashboardError(f"CBS kent geen periode {period} van {statistic}.")
        deadline = definition.calendar(period).events["aanlevering_sluit"]
        if until <= deadline:
            raise DashboardError(f"Uitstel moet na de deadline liggen ({dutch_date(deadline)}).")
        if gemeente not in self.gemeenten:
            raise DashboardError(f"Gemeente {gemeente} is onbekend.")
        with self.engine.begin() as conn:
            records.grant_extension(conn, statistic, period, gemeente, until, self.clock.now(),
                                    masked(reason.strip())[:500] if reason else None)

    def request_reminders(self, statistic: str, period: str, gemeenten: Sequence[str],
                          text: str) -> list[str]:
        if self._definition(statistic, period) is None:
            raise DashboardError(f"CBS kent geen periode {period} van {statistic}.")
        text = masked(text.strip())[:2000]
        if not text:
            raise DashboardError("Schrijf eerst de tekst van de herinnering.")
        ids = []
        with self.engine.begin() as conn:
            now = self.clock.now()
            for code in gemeenten:
                message_id = str(uuid.uuid4())
                records.write_audit(conn, now, REMINDER_REQUESTED, statistic=statistic,
                                    period=period, gemeente=code, message_id=message_id,
                                    detail=text)
                ids.append(message_id)
        return ids

    def channel_failures(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.failures).order_by(
                t.failures.c.last_failed_at.desc())).mappings().all()
        return [{**row, **{k: as_utc(row[k]) if row[k] else None for k in (
            "first_failed_at", "last_failed_at", "next_attempt_at", "dead_at")}}
                for row in rows]


def _version_of(detail: str | None) -> int | None:
    text = (detail or "").removeprefix("versie ").strip()
    return int(text) if text.isdigit() else None


def _comment_fields(detail: str | None) -> dict[str, str]:
    """What the municipality wrote: the JSON the portal attaches, else the text as it came."""
    fields: dict[str, str] = {}
    text, decoder, position = detail or "", json.JSONDecoder(), 0
    while position < len(text):
        while position < len(text) and text[position].isspace():
            position += 1
        try:
            found, position = decoder.raw_decode(text, position)
        except ValueError:
            break
        if isinstance(found, dict):
            fields.update({str(k): str(v) for k, v in found.items() if v is not None})
    if not fields and detail:
        fields["tekst"] = detail
    return fields


def open_period_records(settings: StationSettings, clock: Clock | None = None,
                        registry: DefinitionRegistry | None = None) -> StationPeriodRecords:
    """The records of the station configured by `settings` (its database must be migrated), for
    all municipalities of the reference register."""
    from ggk.clock import SystemClock
    from ggk.definitions import shipped
    from ggk.refdata import register
    from ggk.station.database import create_engine, require_current_schema

    engine = create_engine(settings.resolved_database_url())
    require_current_schema(engine)
    return StationPeriodRecords(engine, FileStore.for_settings(settings),
                                registry or shipped(), clock or SystemClock(),
                                [(g.code, g.naam) for g in register().all()])

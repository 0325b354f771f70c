"""The portal's work for each gemeente on the hub: its period at a glance, its reports, sending.

A `Desk` holds the hub client of one gemeente (its own certificate) and the folder where the
gemeente's reports are saved. Status and reports come from ggk.gemeente (the same logic as
`ggk gemeente status` / `reports`), sending from ggk.gemeente.submit, so the CLI and the portal
build identical messages. The portal adds `namens` (the person) to the metadata it sends.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ggk.client import HubClient
from ggk.client.interfaces import ClientError
from ggk.client.tus_upload import file_sha256
from ggk.conversation import ConversationId, Kind, conversation_id, kind_of, message_type
from ggk.definitions import Definition, UnknownPeriod, registry
from ggk.gemeente.inbox import Inbox
from ggk.gemeente.status import Overview, overview
from ggk.gemeente.submit import GemeenteError, send_besluit, submit_file
from ggk.portal import tables as t
from ggk.portal.interfaces import (
    CalendarLine,
    Clock,
    DatasetLine,
    GemeenteConnection,
    PortalError,
    PortalSetupError,
    StoredReport,
    Upload,
)

OVERVIEW_SECONDS = 3.0
HOLD_BACK = 1  # bytes of a staged upload kept back until the user confirms the send
SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


def today(clock: Clock) -> dt.date:
    return clock.now().astimezone(AMSTERDAM).date()


def statistics() -> list[str]:
    """Every statistic of the definitions registry (shipped, plus GGK_DEFINITIONS)."""
    return registry().statistics()


def current_period(clock: Clock, statistic: str) -> str:
    """The period of `statistic` whose delivery cycle (aanlevering open .. publicatie) contains
    today, else the next one to open, else the last one."""
    day = today(clock)
    calendars = sorted((c for d in registry().all() if d.statistic == statistic
                        for c in d.calendars.values()), key=lambda c: c.events["aanlevering_open"])
    for calendar in calendars:
        if calendar.events["aanlevering_open"] <= day <= calendar.events.get(
                "publicatie", calendar.events["aanlevering_open"]):
            return calendar.period
    upcoming = [c for c in calendars if c.events["aanlevering_open"] > day]
    return (upcoming[0] if upcoming else calendars[-1]).period


def definition_for(period: str) -> Definition:
    """The definition of the one statistic that has `period` (periods name their statistic:
    a half-year, a quarter, ...)."""
    found = []
    for statistic in statistics():
        try:
            found.append(registry().for_period(statistic, period))
        except UnknownPeriod:
            continue
    if len(found) != 1:
        raise PortalError(f"onbekende periode {period!r}" if not found else
                          f"periode {period!r} hoort bij meer dan één statistiek")
    return found[0]


class Desk:
    """`ggk.portal.interfaces.GemeenteDesk` for one gemeente."""

    def __init__(self, connection: GemeenteConnection, hub: str, ca: Path, data_dir: Path,
                 engine: sa.Engine, clock: Clock) -> None:
        self.connection = connection
        self.code = connection.code
        self.hub = hub
        self.ca = ca
        self.reports_dir = data_dir / "gemeenten" / connection.code / "rapporten"
        self.engine = engine
        self.clock = clock
        self._client: HubClient | None = None
        self._lock = threading.RLock()  # one collect at a time; the client is shared
        self._inbox: Inbox | None = None
        # the hub's view (outbox + inbox) per period, reused for a few seconds: a dashboard view
        # costs hub round trips; anything this desk sends or receives clears it
        self._overviews: dict[str, tuple[float, list[Overview]]] = {}

    @property
    def client(self) -> HubClient:
        if self._client is None:
            self._client = HubClient(self.hub, cert=self.connection.cert, ca=self.ca)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- the period at a glance ------------------------------------------------------------------

    def calendar(self, period: str) -> list[CalendarLine]:
        calendar = definition_for(period).calendar(period)
        day = today(self.clock)
        return [CalendarLine(name, calendar.titles.get(name, name), date, (date - day).days)
                for name, date in sorted(calendar.events.items(), key=lambda item: item[1])]

    def _overview(self, period: str) -> list[Overview]:
        cached = self._overviews.get(period)
        if cached is not None and time.monotonic() - cached[0] < OVERVIEW_SECONDS:
            return cached[1]
        try:
            with self._lock:
                found = overview(self.client, period, self.reports_dir,
                                 hidden=self._unconfirmed())
                self._overviews[period] = (time.monotonic(), found)
                return found
        except ClientError as e:
            raise PortalError("De hub is op dit moment niet bereikbaar; de stand kan niet "
                              "worden opgehaald. Probeer het later opnieuw.") from e

    def _unconfirmed(self) -> set[str]:
        """The ids of uploads staged at the hub that the user has not (yet) sent: not a
        delivery, so not in the overview."""
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(t.uploads.c.id).where(
                t.uploads.c.gemeente == self.code,
                t.uploads.c.state.not_in(("versturen", "verstuurd")))).scalars())

    def datasets(self, period: str) -> list[DatasetLine]:
        definition = definition_for(period)
        events = definition.calendar(period).events
        day = today(self.clock)
        found = {o.onderwerp: o for o in self._overview(period)}
        lines = []
        for spec in definition.datasets:
            lines.append(_dataset_line(spec.name, spec.title, spec.required, found.get(spec.name),
                                       events, day, decided="besluit" in found,
                                       decides=spec.name == definition.required_dataset))
        required_title = next(s.title for s in definition.datasets
                              if s.name == definition.required_dataset)
        lines.append(_besluit_line(found.get("besluit"), found.get(definition.required_dataset),
                                   required_title, events, day))
        return lines

    # -- reports -----------------------------------------------------------------------------------

    def collect(self) -> list[StoredReport]:
        with self._lock:
            if self._inbox is None:
                self._inbox = Inbox(self.client, self.reports_dir)
            received = self._inbox.collect()
            if received:
                self._overviews.clear()
        return [self._stored(r.directory) for r in received]

    def _stored(self, directory: Path) -> StoredReport:
        data = json.loads((directory / "bericht.json").read_text("utf-8"))
        metadata = dict(data.get("metadata") or {})
        created = data.get("created_at")
        rel = directory.relative_to(self.reports_dir)
        return StoredReport(
            key=str(rel.as_posix()), type=str(data.get("type")), message_id=str(data.get("id")),
            in_reply_to=data.get("in_reply_to"), period=rel.parts[0], onderwerp=rel.parts[1],
            created_at=dt.datetime.fromisoformat(created) if created else None,
            metadata=metadata, directory=directory,
            files=tuple(sorted(p.name for p in directory.iterdir()
                               if p.is_file() and p.name != "bericht.json"
                               and not p.name.endswith(".cache"))))

    def reports(self, period: str | None = None) -> list[StoredReport]:
        if not self.reports_dir.is_dir():
            return []
        found = []
        for path in self.reports_dir.glob("*/*/*/bericht.json"):
            try:
                report = self._stored(path.parent)
            except (OSError, ValueError):
                continue  # half-written: the next collect completes it
            if period is None or report.period == period:
                found.append(report)
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        found.sort(key=lambda r: r.created_at or epoch, reverse=True)
        return found

    def report(self, key: str) -> StoredReport:
        """One saved report by its key; PortalError (shown as not found) for anything else."""
        parts = key.split("/")
        if len(parts) != 3 or not all(SAFE_PART.match(p) for p in parts):
            raise PortalError("rapport niet gevonden")
        directory = self.reports_dir.joinpath(*parts)
        if not (directory / "bericht.json").is_file():
            raise PortalError("rapport niet gevonden")
        return self._stored(directory)

    # -- sending -----------------------------------------------------------------------------------

    def _named(self, upload: Upload, path: Path) -> Path:
        """The received file under its own name (a second link to the same bytes): the hub shows
        CBS the original file name, while the local check may still be reading `path`."""
        named = path.parent / upload.file_name
        if not named.exists():
            os.link(path, named)
        return named

    def stage_upload(self, upload: Upload, path: Path) -> str:
        """Upload all but the last `HOLD_BACK` bytes to the hub while the local check runs (the
        hub delivers a message only once every byte is there, so nothing reaches CBS before
        `send_upload`); returns the file's sha256 for that send."""
        named = self._named(upload, path)
        sha256 = file_sha256(named)
        try:
            with HubClient(self.hub, cert=self.connection.cert, ca=self.ca) as client:
                submit_file(client, named, statistic=definition_for(upload.period).statistic,
                            period=upload.period, dataset=upload.dataset, gemeente=self.code,
                            message_id=upload.id, sha256=sha256, hold_back=HOLD_BACK)
        except (GemeenteError, ClientError) as e:
            # the send after the user's confirmation starts (or resumes) the upload itself
            raise PortalError(f"Vooruit versturen naar de hub is mislukt: {e}") from e
        return sha256

    def send_upload(self, upload: Upload, namens: str, path: Path | None = None,
                    progress: Any = None, sha256: str | None = None) -> str:
        """Send the received file (the rest of what `stage_upload` began, or all of it), with a
        client of its own: a large upload must not hold up this gemeente's pages and report
        fetching, which share `self.client`."""
        assert path is not None
        named = self._named(upload, path)
        try:
            with HubClient(self.hub, cert=self.connection.cert, ca=self.ca) as client:
                message = submit_file(
                    client, named, statistic=definition_for(upload.period).statistic,
                    period=upload.period, dataset=upload.dataset, gemeente=self.code,
                    progress=progress, message_id=upload.id, sha256=sha256)
        except (GemeenteError, ClientError) as e:
            raise PortalError(f"Versturen naar CBS is mislukt: {e}") from e
        del namens  # the person is in the portal's audit trail and on the upload record
        self._overviews.clear()
        if message.state == "refused":
            raise PortalError(f"De hub weigerde het bestand ({message.refusal_reason}).")
        return message.id

    def send_besluit(self, period: str, besluit: str, toelichting: str, namens: str) -> str:
        try:
            with self._lock:
                message = send_besluit(self.client, statistic=definition_for(period).statistic,
                                       period=period,
                                       besluit=besluit, gemeente=self.code,
                                       toelichting=toelichting or None)
        except (GemeenteError, ClientError) as e:
            raise PortalError(f"Het besluit kon niet worden verstuurd: {e}") from e
        self._remember("besluit", period, besluit, toelichting, message.id, namens)
        return message.id

    def _send_document(self, kind: Kind, period: str, topic: str, document: dict[str, Any],
                       file_name: str, in_reply_to: str | None = None) -> str:
        statistic = definition_for(period).statistic
        with tempfile.TemporaryDirectory(prefix="ggk-portal-") as folder:
            path = Path(folder) / file_name
            path.write_text(json.dumps(document, ensure_ascii=False, indent=2), "utf-8")
            try:
                with self._lock:
                    receiver = self.client.find_party(role="cbs").oin
                    message = self.client.send(
                        receiver, message_type(statistic, kind), {
                            "statistic": statistic, "period": period,
                                          "gemeente": self.code},
                        [path], conversation_id=conversation_id(statistic, period, self.code,
                                                                topic),
                        in_reply_to=in_reply_to)
            except ClientError as e:
                raise PortalError(f"Versturen naar CBS is mislukt: {e}") from e
        return message.id

    def send_flag_comment(self, report: StoredReport, indicator: str, soort: str, text: str,
                          namens: str) -> str:
        text = text.strip()
        if not text:
            raise PortalError("Schrijf eerst een toelichting.")
        if len(text) > 4000:
            raise PortalError("Een toelichting mag hoogstens 4000 tekens lang zijn.")
        message_id = self._send_document(
            Kind.TOELICHTING, report.period,
            ConversationId.SPIEGELRAPPORT,
            {"soort": "toelichting-signaal", "gemeente": self.code, "periode": report.period,
             "indicator": indicator, "signaal": soort, "toelichting": text, "namens": namens,
             "spiegelrapport": report.message_id}, "toelichting.json",
            in_reply_to=report.message_id)
        self._remember("toelichting", report.period, f"{indicator}/{soort}", text, message_id,
                       namens, report.key)
        return message_id

    def request_extension(self, period: str, dataset: str, until: dt.date, reason: str,
                          namens: str) -> str:
        reason = reason.strip()
        if not reason:
            raise PortalError("Geef een reden voor het uitstel.")
        events = definition_for(period).calendar(period).events
        if until <= events["aanlevering_sluit"]:
            raise PortalError("De gevraagde datum ligt niet na de deadline "
                              f"({events['aanlevering_sluit']:%d-%m-%Y}).")
        message_id = self._send_document(
            Kind.UITSTELVERZOEK, period, dataset,
            {"soort": "uitstelverzoek", "gemeente": self.code, "periode": period,
             "dataset": dataset, "tot": until.isoformat(), "reden": reason, "namens": namens},
            "uitstelverzoek.json")
        self._remember("uitstelverzoek", period, f"{dataset} tot {until.isoformat()}", reason,
                       message_id, namens)
        return message_id

    def _remember(self, kind: str, period: str, subject: str, text: str, message_id: str,
                  namens: str, report_key: str | None = None) -> None:
        self._overviews.clear()
        with self.engine.begin() as conn:
            conn.execute(sa.insert(t.sent).values(
                gemeente=self.code, period=period, kind=kind, subject=subject, text=text,
                report_key=report_key, message_id=message_id, by=namens,
                at=dt.datetime.now(dt.UTC)))

    def sent(self, kind: str | None = None, report_key: str | None = None) -> list[Any]:
        query = sa.select(t.sent).where(t.sent.c.gemeente == self.code).order_by(t.sent.c.id)
        if kind:
            query = query.where(t.sent.c.kind == kind)
        if report_key:
            query = query.where(t.sent.c.report_key == report_key)
        with self.engine.connect() as conn:
            return list(conn.execute(query))


def _dataset_line(name: str, title: str, required: bool, found: Overview | None,
                  events: dict[str, dt.date], day: dt.date, decided: bool,
                  decides: bool) -> DatasetLine:
    deadline = events["aanlevering_sluit"]
    if found is None:
        if day < events["aanlevering_open"]:
            step = f"Aanleveren kan vanaf {events['aanlevering_open']:%d-%m-%Y}."
        elif required:
            step = f"Lever het bestand aan vóór {deadline:%d-%m-%Y}."
        else:
            step = "Niet verplicht: lever aan als uw gemeente deze gegevens heeft."
        return DatasetLine(name, title, required, "nog niet aangeleverd",
                           "warn" if required else "neutral", "", step)
    rapport = next((r for r in found.replies if kind_of(r.type) is Kind.TECHNISCH_CONTROLERAPPORT),
                   None)
    weigering = next((r for r in found.replies if kind_of(r.type) is Kind.WEIGERING), None)
    sent_at = found.latest.sent_at
    detail = f"{found.sent_count} keer aangeleverd, laatst " + (
        f"{sent_at.astimezone(AMSTERDAM):%d-%m-%Y %H:%M}" if sent_at else "onbekend")
    if weigering is not None:
        return DatasetLine(name, title, required, "geweigerd", "error", detail,
                           f"CBS weigerde de aanlevering: {weigering.metadata.get('bericht', '')}")
    if rapport is None:
        return DatasetLine(name, title, required, "in behandeling bij CBS", "neutral", detail,
                           "Wacht op het technisch controlerapport (meestal binnen enkele "
                           "minuten; uiterlijk 3 werkdagen).")
    m = rapport.metadata
    detail += f"; versie {m.get('versie', '-')}, {m.get('rows', '?')} regels, " \
              f"{m.get('errors', '?')} fouten"
    if m.get("verdict") == "goedgekeurd":
        step = ("Bekijk het spiegelrapport en neem een besluit."
                if decides and not decided else "Niets te doen.")
        return DatasetLine(name, title, required, "goedgekeurd", "ok", detail, step)
    last = events.get("correctie_sluit", deadline)
    return DatasetLine(name, title, required, "afgekeurd", "error", detail,
                       f"Verbeter de fouten uit het technisch controlerapport en lever het hele "
                       f"bestand opnieuw aan vóór {last:%d-%m-%Y}.")


def _besluit_line(found: Overview | None, required: Overview | None, required_name: str,
                  events: dict[str, dt.date], day: dt.date) -> DatasetLine:
    deadline = events["besluit_deadline"]
    required_ok = required is not None and any(
        kind_of(r.type) is Kind.TECHNISCH_CONTROLERAPPORT
        and r.metadata.get("verdict") == "goedgekeurd" for r in required.replies)
    if found is None:
        step = (f"Neem vóór {deadline:%d-%m-%Y} een besluit: opt-in of intrekken."
                if required_ok else f"Eerst moet de aanlevering {required_name} zijn goedgekeurd.")
        return DatasetLine("besluit", "Besluit over publicatie", True, "nog geen besluit",
                           "warn" if required_ok else "neutral", "", step)
    chosen = found.latest.onderwerp
    bevestigd = any(kind_of(r.type) is Kind.BEVESTIGING for r in found.replies)
    geweigerd = next((r for r in found.replies if kind_of(r.type) is Kind.WEIGERING), None)
    if geweigerd is not None:
        return DatasetLine("besluit", "Besluit over publicatie", True, f"{chosen}: geweigerd",
                           "error", str(geweigerd.metadata.get("bericht", "")),
                           "Lees de reden en neem zo nodig een nieuw besluit.")
    status = f"{chosen}: bevestigd door CBS" if bevestigd else f"{chosen}: verstuurd"
    step = (f"U kunt uw besluit tot {deadline:%d-%m-%Y} wijzigen." if day <= deadline
            else "De termijn voor het besluit is verstreken.")
    return DatasetLine("besluit", "Besluit over publicatie", True, status,
                       "ok" if bevestigd else "neutral", "", step)


def technical_reports(desk: Desk, period: str, dataset: str) -> list[tuple[StoredReport,
                                                                            dict[str, Any]]]:
    """The technical reports of one dataset, oldest first, with their report.json."""
    found = []
    for report in desk.reports(period):
        if report.kind is Kind.TECHNISCH_CONTROLERAPPORT and report.onderwerp == dataset:
            path = report.directory / "report.json"
            if path.is_file():
                found.append((report, json.loads(path.read_text("utf-8"))))
    found.reverse()
    return found


def finding_differences(previous: dict[str, Any] | None, current: dict[str, Any]
                        ) -> list[dict[str, Any]]:
    """Per (code, kolom): count in the previous and this version (only where they differ)."""
    def counts(report: dict[str, Any] | None) -> dict[tuple[str, str], int]:
        result: dict[tuple[str, str], int] = {}
        for finding in (report or {}).get("findings", []):
            key = (str(finding.get("code")), str(finding.get("column") or "-"))
            result[key] = result.get(key, 0) + int(finding.get("count") or 0)
        return result

    before, after = counts(previous), counts(current)
    return [{"code": code, "kolom": column, "voor": before.get((code, column), 0),
             "na": after.get((code, column), 0)}
            for code, column in sorted(set(before) | set(after))
            if before.get((code, column), 0) != after.get((code, column), 0)]


def connection_from_cert(code: str | None, cert: Path, hub: str, ca: Path) -> GemeenteConnection:
    """Ask the hub who this certificate is; it must be an active gemeente (and `code` if given)."""
    if not cert.is_file():
        raise PortalSetupError(f"certificate file not found: {cert}")
    try:
        with HubClient(hub, cert=cert, ca=ca) as client:
            me = client.me()
    except ClientError as e:
        raise PortalSetupError(f"the hub did not accept this certificate: {e}") from e
    if me.role != "gemeente" or not me.gemeentecode:
        raise PortalSetupError(f"{cert} belongs to {me.name} (role {me.role}), not a gemeente")
    if code and code != me.gemeentecode:
        raise PortalSetupError(f"{cert} belongs to {me.gemeentecode}, not {code}")
    return GemeenteConnection(me.gemeentecode, me.name, me.oin, cert.resolve())

"""The hub operator's console: ggk.web's foundation for accounts with the internal role
`hub-operator`, the hub's records through `ggk.hub.interfaces.ChannelWatch` and `PartyDirectory`,
the station's dead letters through `ggk.station.interfaces.PeriodRecords` (when the console runs
next to a station), and the console's own onboarding checklist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI

from ggk.clock import utcnow
from ggk.console import tables as t
from ggk.console.migrations import MIGRATIONS
from ggk.database import as_utc
from ggk.hub.interfaces import ChannelWatch, Party, PartyDirectory
from ggk.web.app import WebConfig, WebFoundation
from ggk.web.oidc import OidcSettings

HERE = Path(__file__).resolve().parent
TITLE = "Beheerconsole Gemeentelijke Statistiek"
ROLE = "hub-operator"
CERTIFICATE_WARNING_DAYS = 60
# The steps of connecting a municipality, in order: (name, title, what to do).
STEPS = (
    ("registreren", "Registreren bij de hub",
     "Registreer het certificaat van de gemeente: ggk party add --cert <pem> "
     "--gemeentecode <code>."),
    ("certificaat", "Certificaat geldig",
     "Controleer dat het PKIoverheid-certificaat geldig is en niet binnen 60 dagen verloopt."),
    ("burentest", "Burentest",
     "De gemeente pingt een andere gemeente en krijgt antwoord (ggk burentest)."),
    ("ketentest", "Ketentest",
     "De gemeente levert een testbestand aan en ontvangt het technisch controlerapport van CBS "
     "(ggk gemeente ketentest)."),
    ("live", "Live",
     "De gemeente is aangesloten: zij kan echt aanleveren. Meld het aan CBS en de gemeente."),
)
STEP_NAMES = tuple(name for name, _, _ in STEPS)


class OnboardingError(ValueError):
    """A step that cannot be ticked off (yet); the message is Dutch, for the operator."""


@dataclass(frozen=True, slots=True)
class StepState:
    name: str
    title: str
    help: str
    done_at: dt.datetime | None
    done_by: str | None
    note: str | None
    hub_fact: str | None  # what the hub says about this step, when it knows
    may_tick: bool


@dataclass(frozen=True, slots=True)
class Onboarding:
    gemeente: str
    naam: str
    started_at: dt.datetime
    started_by: str
    steps: tuple[StepState, ...]

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.done_at)

    @property
    def next_step(self) -> StepState | None:
        return next((s for s in self.steps if s.done_at is None), None)


@dataclass
class ConsoleSettings:
    data_dir: Path
    watch: ChannelWatch
    parties: PartyDirectory
    database_url: str | None = None  # default: SQLite console.db in data_dir
    oidc: OidcSettings | None = None
    # the station's failed messages (PeriodRecords.channel_failures), when next to a station
    station_failures: Callable[[], list[dict[str, Any]]] | None = None
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'console.db').resolve()}"


class Console:
    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.watch = settings.watch
        self.parties = settings.parties
        self.web = WebFoundation(WebConfig(
            database_url=settings.url, title=TITLE, oidc=settings.oidc,
            template_dirs=[HERE / "templates", HERE.parent / "dashboard" / "templates"],
            static_dir=HERE.parent / "dashboard" / "static", required_role=ROLE))
        self.engine: sa.Engine = self.web.engine

    def now(self) -> dt.datetime:
        return self.settings.clock()

    def migrate(self) -> None:
        self.web.migrate()
        MIGRATIONS.migrate(self.engine)

    def create_app(self) -> FastAPI:
        from ggk.console.views import console_router

        return self.web.create_app([console_router(self)])

    def close(self) -> None:
        self.engine.dispose()

    # -- onboarding ---------------------------------------------------------------------------

    def _party_of(self, gemeente: str) -> Party | None:
        found = [p for p in self.parties.list() if p.gemeentecode == gemeente and p.active]
        return found[0] if found else None

    def start_onboarding(self, gemeente: str, by: str) -> str:
        from ggk.refdata import register
        from ggk.refdata.interfaces import UnknownGemeente

        code = gemeente.strip().upper()
        try:
            naam = register().get(code).naam
        except UnknownGemeente:
            raise OnboardingError(f"Gemeentecode '{code}' bestaat niet (bijvoorbeeld GM0363)."
                                  ) from None
        with self.engine.begin() as conn:
            if conn.execute(sa.select(t.onboardings.c.gemeente).where(
                    t.onboardings.c.gemeente == code)).first():
                raise OnboardingError(f"{naam} ({code}) wordt al aangesloten.")
            conn.execute(sa.insert(t.onboardings).values(gemeente=code, naam=naam,
                                                         started_at=utcnow(), started_by=by))
        return code

    def onboardings(self) -> list[Onboarding]:
        with self.engine.connect() as conn:
            codes = list(conn.execute(sa.select(t.onboardings.c.gemeente).order_by(
                t.onboardings.c.started_at.desc())).scalars())
        return [o for o in (self.onboarding(c) for c in codes) if o is not None]

    def onboarding(self, gemeente: str) -> Onboarding | None:
        with self.engine.connect() as conn:
            started = conn.execute(sa.select(t.onboardings).where(
                t.onboardings.c.gemeente == gemeente)).first()
            if started is None:
                return None
            done = {r.step: r for r in conn.execute(sa.select(t.onboarding_steps).where(
                t.onboarding_steps.c.gemeente == gemeente))}
        party = self._party_of(gemeente)
        facts = self._hub_facts(party)
        steps, previous_done = [], True
        for name, title, help_text in STEPS:
            row = done.get(name)
            fact, fact_ok = facts.get(name, (None, True))
            steps.append(StepState(name, title, help_text, as_utc(row.done_at) if row else None,
                                   row.done_by if row else None, row.note if row else None,
                                   fact, row is None and previous_done and fact_ok))
            previous_done = row is not None
        return Onboarding(started.gemeente, started.naam, as_utc(started.started_at),
                          started.started_by, tuple(steps))

    def _hub_facts(self, party: Party | None) -> dict[str, tuple[str, bool]]:
        """What the hub knows of the first two steps: (Dutch sentence, may be ticked)."""
        if party is None:
            return {"registreren": ("De hub kent nog geen actieve partij met deze gemeentecode.",
                                    False),
                    "certificaat": ("Nog geen certificaat geregistreerd.", False)}
        facts = {"registreren": (f"Geregistreerd als {party.name} (OIN {party.oin}).", True)}
        expires = party.cert_not_after
        if expires is None:
            facts["certificaat"] = ("De hub kent de vervaldatum van het certificaat niet.", True)
        else:
            days = (expires - self.now()).days
            ok = days > CERTIFICATE_WARNING_DAYS
            facts["certificaat"] = (
                f"Geldig tot {expires:%d-%m-%Y} (nog {days} dagen)"
                + ("." if ok else f": verloopt binnen {CERTIFICATE_WARNING_DAYS} dagen, "
                   "vraag eerst een nieuw certificaat aan."), ok)
        return facts

    def tick(self, gemeente: str, step: str, by: str, note: str | None) -> None:
        onboarding = self.onboarding(gemeente)
        if onboarding is None or step not in STEP_NAMES:
            raise OnboardingError("Deze stap bestaat niet.")
        state = next(s for s in onboarding.steps if s.name == step)
        if not state.may_tick:
            raise OnboardingError(
                f"'{state.title}' kan nog niet worden afgevinkt"
                + (f": {state.hub_fact}" if state.hub_fact and state.done_at is None
                   else ": rond eerst de stappen ervoor af."))
        with self.engine.begin() as conn:
            conn.execute(sa.insert(t.onboarding_steps).values(
                gemeente=gemeente, step=step, done_at=utcnow(), done_by=by,
                note=(note or "").strip()[:500] or None))

"""The CBS period dashboard: ggk.web's foundation (login, sessions, CSRF, layout, mail) for the
collection managers (internal role `verzamelbeheer`), the station's records through
`ggk.station.interfaces.PeriodRecords`, and the dashboard's own table of contact addresses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from fastapi import FastAPI

from ggk.clock import utcnow
from ggk.dashboard import tables as t
from ggk.dashboard.migrations import MIGRATIONS
from ggk.station.interfaces import DatasetState, PeriodRecords
from ggk.web.app import WebConfig, WebFoundation
from ggk.web.interfaces import Mailer
from ggk.web.mail import NoMailer
from ggk.web.oidc import OidcSettings

HERE = Path(__file__).resolve().parent
TITLE = "CBS Dashboard Gemeentelijke Statistiek"
ROLE = "verzamelbeheer"
# filter name -> label (the test is `matches`)
FILTERS = {
    "te-laat": "Te laat",
    "afgekeurd": "Afgekeurd",
    "niet-aangeleverd": "Nog niet aangeleverd",
    "besluit-open": "Nog geen besluit",
    "signalen": "Met signalen",
    "toelichtingen": "Met toelichtingen",
}


def matches(state: DatasetState, name: str | None) -> bool:
    """Whether one row passes the named filter (None or unknown: every row)."""
    if name == "te-laat":
        return state.overdue
    if name == "afgekeurd":
        return state.rejected
    if name == "niet-aangeleverd":
        return state.required and state.versions == 0
    if name == "besluit-open":
        return state.required and state.accepted_version is not None and state.besluit is None
    if name == "signalen":
        return state.flags > 0
    if name == "toelichtingen":
        return state.comments > 0
    return True


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current moment (aware)."""


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


@dataclass
class DashboardSettings:
    data_dir: Path
    records: PeriodRecords
    database_url: str | None = None  # default: SQLite dashboard.db in data_dir
    public_url: str = "https://127.0.0.1:8700"
    oidc: OidcSettings | None = None
    mailer: Mailer = field(default_factory=NoMailer)
    page_size: int = 50  # municipalities per page of the overview
    clock: Clock = field(default_factory=SystemClock)

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'dashboard.db').resolve()}"


class Dashboard:
    def __init__(self, settings: DashboardSettings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.records = settings.records
        self.web = WebFoundation(WebConfig(
            database_url=settings.url, title=TITLE, oidc=settings.oidc,
            template_dirs=[HERE / "templates"], static_dir=HERE / "static",
            required_role=ROLE), mailer=settings.mailer)
        self.engine: sa.Engine = self.web.engine

    def migrate(self) -> None:
        self.web.migrate()
        MIGRATIONS.migrate(self.engine)

    def create_app(self) -> FastAPI:
        from ggk.dashboard.views import dashboard_router

        return self.web.create_app([dashboard_router(self)])

    def close(self) -> None:
        self.engine.dispose()

    # -- contacts ------------------------------------------------------------------------------

    def contacts(self, gemeente: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(t.contacts.c.email).where(
                t.contacts.c.gemeente == gemeente).order_by(t.contacts.c.email)).scalars())

    def contacts_of(self, gemeenten: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for code, email in conn.execute(sa.select(t.contacts.c.gemeente, t.contacts.c.email)
                                            .where(t.contacts.c.gemeente.in_(list(gemeenten)))):
                found.setdefault(code, []).append(email)
        return found

    def add_contact(self, gemeente: str, email: str, by: str) -> str:
        email = email.strip().lower()
        if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
            raise ValueError(f"'{email}' is geen e-mailadres.")
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t.contacts).where(t.contacts.c.gemeente == gemeente,
                                                      t.contacts.c.email == email))
            conn.execute(sa.insert(t.contacts).values(gemeente=gemeente, email=email,
                                                      added_at=utcnow(), added_by=by))
        return email

    def remove_contact(self, gemeente: str, email: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t.contacts).where(t.contacts.c.gemeente == gemeente,
                                                      t.contacts.c.email == email))

    # -- periods -------------------------------------------------------------------------------

    def current_period(self, today: dt.date) -> str | None:
        """The newest period whose delivery window has opened and that has deliveries (else the
        newest opened one), of the first statistic that has one (statistics have their own
        period schemes); else the first period known."""
        known = []
        for statistic in self.records.statistics():
            periods = self.records.periods(statistic)
            known += periods
            opened = [p for p in periods
                      if (opens := self.records.calendar(statistic, p).get("aanlevering_open"))
                      and opens <= today]
            delivered = [p for p in opened if self.records.timeline(statistic, p)]
            if opened:
                return (delivered or opened)[-1]
        return min(known) if known else None

    def all_periods(self) -> list[str]:
        return sorted({p for s in self.records.statistics() for p in self.records.periods(s)})

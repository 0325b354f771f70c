"""The portal application: ggk.web's foundation plus the gemeente desks, uploads, notifications
and a background loop that fetches reports and sends e-mail."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI

from ggk.definitions import registry
from ggk.portal import tables as t
from ggk.portal.interfaces import Clock, GemeenteConnection, PortalError, PortalSetupError
from ggk.portal.migrations import MIGRATIONS
from ggk.portal.notify import Notifier
from ggk.portal.service import Desk, SystemClock, connection_from_cert, current_period
from ggk.portal.uploads import UploadStore
from ggk.web.app import WebConfig, WebFoundation
from ggk.web.interfaces import Mailer
from ggk.web.mail import NoMailer
from ggk.web.oidc import OidcSettings

HERE = Path(__file__).resolve().parent
log = logging.getLogger("ggk.portal")
TITLE = "Portaal Gemeentelijke Statistiek"


@dataclass
class PortalSettings:
    data_dir: Path
    hub: str
    ca: Path
    database_url: str | None = None  # default: SQLite portal.db in data_dir
    public_url: str = "https://127.0.0.1:8600"
    oidc: OidcSettings | None = None
    mailer: Mailer = field(default_factory=NoMailer)
    poll_seconds: float = 5.0
    upload_chunk_bytes: int = 8 * 1024 * 1024  # one PATCH of the browser's tus upload
    clock: Clock = field(default_factory=SystemClock)
    # per statistic, the period pages open on when none is asked (the demo: the period the
    # pilot played); a statistic not named here: its current period by the clock
    periods: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'portal.db').resolve()}"


class Portal:
    def __init__(self, settings: PortalSettings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.web = WebFoundation(WebConfig(
            database_url=settings.url, title=TITLE, oidc=settings.oidc,
            template_dirs=[HERE / "templates"], static_dir=HERE / "static"),
            mailer=settings.mailer)
        self.engine: sa.Engine = self.web.engine
        self.uploads = UploadStore(self.engine, settings.data_dir)
        self.notifier = Notifier(self.engine, self.web.accounts, settings.mailer, settings.clock,
                                 settings.public_url)
        self._desks: dict[str, Desk] = {}
        self._desks_lock = threading.Lock()

    @property
    def clock(self) -> Clock:
        return self.settings.clock

    def current_period(self, statistic: str | None = None) -> str:
        """The period pages of `statistic` (default: the registry's first) open on: the
        configured one, else the current one by the clock."""
        statistic = statistic or registry().default_statistic()
        return self.settings.periods.get(statistic) or current_period(self.clock, statistic)

    def migrate(self) -> None:
        self.web.migrate()
        MIGRATIONS.migrate(self.engine)

    # -- gemeenten -----------------------------------------------------------------------------

    def add_gemeente(self, cert: Path, code: str | None = None) -> GemeenteConnection:
        """Configure (or replace) the certificate the portal uses for a gemeente."""
        connection = connection_from_cert(code, cert, self.settings.hub, self.settings.ca)
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t.gemeenten).where(t.gemeenten.c.code == connection.code))
            conn.execute(sa.insert(t.gemeenten).values(
                code=connection.code, name=connection.name, oin=connection.oin,
                cert_path=str(connection.cert)))
        with self._desks_lock:
            old = self._desks.pop(connection.code, None)
        if old is not None:
            old.close()
        return connection

    def connections(self) -> list[GemeenteConnection]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.gemeenten).order_by(t.gemeenten.c.code)).all()
        return [GemeenteConnection(r.code, r.name, r.oin, Path(r.cert_path)) for r in rows]

    def desk(self, code: str) -> Desk:
        with self._desks_lock:
            if code in self._desks:
                return self._desks[code]
        found = next((c for c in self.connections() if c.code == code), None)
        if found is None:
            raise PortalError(f"gemeente {code} is niet aangesloten op het portaal")
        with self._desks_lock:
            return self._desks.setdefault(code, Desk(
                found, self.settings.hub, self.settings.ca, self.settings.data_dir, self.engine,
                self.clock))

    def name_of(self, code: str) -> str:
        found = next((c for c in self.connections() if c.code == code), None)
        return found.name if found else code

    # -- background work ---------------------------------------------------------------------

    def collect_once(self) -> int:
        """Fetch new reports for every gemeente, e-mail about them, send due reminders."""
        new = 0
        self.uploads.purge()
        for connection in self.connections():
            try:
                desk = self.desk(connection.code)
                for report in desk.collect():
                    new += 1
                    try:
                        self.notifier.report_arrived(desk, report)
                    except OSError as e:
                        log.warning("mail about %s failed: %s", report.key, e)
                self.notifier.reminders(desk)
            except (PortalError, OSError) as e:
                log.warning("collecting for %s failed: %s", connection.code, e)
            except Exception:  # noqa: BLE001 - the loop must go on for the other gemeenten
                log.exception("collecting for %s failed", connection.code)
        return new

    def run_background(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            self.collect_once()
            stop.wait(max(0.2, self.settings.poll_seconds - (time.monotonic() - started)))

    def create_app(self) -> FastAPI:
        from ggk.portal.views import portal_router
        from ggk.web.account_views import accounts_admin_router

        return self.web.create_app([portal_router(self), accounts_admin_router(
            lambda: [(c.code, c.name) for c in self.connections()])])

    def close(self) -> None:
        with self._desks_lock:
            for desk in self._desks.values():
                desk.close()
            self._desks.clear()
        self.engine.dispose()


def check_settings(settings: PortalSettings) -> None:
    if not settings.ca.is_file():
        raise PortalSetupError(f"CA file not found: {settings.ca}")

"""The CBS station, composed of its rooms (docs/station.md has the map):

- `worker.Worker`: poll loop and the dispatch table (message type -> handler), per-message
  isolation, claim -> decide -> reply -> acknowledge;
- `intake.Intake`: an aanlevering (check, validate, pseudonymise, store, decide);
- `besluit.BesluitDesk`: a besluit (opt-in, intrekken);
- `mirror_jobs.MirrorJobs`: the spiegelrapporten, built in worker processes;
- `outcomes`: recorded decisions and their replies; `report`: the technisch controlerapport.

`Station` only builds these from the settings and offers the entry points the CLI, the pilot and
the tests use.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

import sqlalchemy as sa

from ggk.client.interfaces import HubApi, Message
from ggk.clock import Clock, SystemClock
from ggk.conversation import NOTICES, Kind
from ggk.definitions import DefinitionRegistry, shipped
from ggk.station import records
from ggk.station.besluit import BesluitDesk
from ggk.station.claims import ClaimBook
from ggk.station.database import create_engine, migrate, require_current_schema
from ggk.station.failures import FailureBook
from ggk.station.intake import Intake
from ggk.station.interfaces import StationEvents
from ggk.station.masking import masked
from ggk.station.metrics import StationMetrics
from ggk.station.mirror_hook import MirrorHook, default_mirror_hook
from ggk.station.mirror_jobs import MirrorJobs
from ggk.station.notices import NoticeDesk
from ggk.station.outcomes import Recorder, ReplyIds, ReplySender
from ggk.station.parties import PartyBook
from ggk.station.pseudonym import Pseudonymiser, load_or_create_key
from ggk.station.records import WorkflowKey
from ggk.station.settings import StationSettings
from ggk.station.status import PeriodStatus
from ggk.station.storage import FileStore
from ggk.station.worker import Worker
from ggk.station.workflow import check_calendars

log = logging.getLogger("ggk.station")


class Station:
    """The CBS station. Embedding: `Station(settings, client, clock).run_once()` or
    `.run_forever(stop_event)`; `client` is a `ggk.client.HubClient` with the CBS certificate."""

    def __init__(self, settings: StationSettings, client: HubApi, clock: Clock | None = None, *,
                 registry: DefinitionRegistry | None = None, mirror: MirrorHook | None = None,
                 auto_migrate: bool = True, events: StationEvents | None = None) -> None:
        self.settings = settings
        self.client = client
        self.clock = clock or SystemClock()
        # metrics follow the station here: Prometheus (`ggk station run --metrics-port`) unless
        # the embedder listens itself
        self.metrics = StationMetrics(self)
        self.events: StationEvents = events if events is not None else self.metrics
        self.registry = registry or shipped()
        for definition in self.registry.all():
            check_calendars(definition)
        self.engine = create_engine(settings.resolved_database_url())
        if auto_migrate:
            migrate(self.engine)
        require_current_schema(self.engine)
        self.store = FileStore.for_settings(settings)
        secret = load_or_create_key(settings.resolved_key_path())
        self.pseudonymiser = Pseudonymiser(secret)
        ids = ReplyIds(secret)
        self.claims = ClaimBook(self.engine, settings.worker_id, settings.claim_lease_seconds,
                                self.store.root / "instances")
        self.claims.start()
        recorder = Recorder(self.engine, self.clock, ids, self.claims)
        self.failures = FailureBook(self.engine, settings.max_attempts, settings.retry_seconds)
        sender = ReplySender(client, self.store)
        parties = PartyBook(client)
        self.intake = Intake(self.engine, self.store, client, self.clock, self.registry, parties,
                             self.pseudonymiser, recorder)
        self.besluiten = BesluitDesk(self.engine, self.clock, self.registry, parties, recorder)
        self.notices = NoticeDesk(self.engine, self.clock, client, parties, recorder)
        self.mirrors = MirrorJobs(settings, self.engine, self.store, self.clock, self.registry,
                                  sender, ids, self.claims,
                                  mirror if mirror is not None else default_mirror_hook(),
                                  self.events)
        self.reply_ids = ids
        self.worker = Worker(settings, client, self.engine, self.store, self.clock,
                             {Kind.AANLEVERING: self.intake.decide,
                              Kind.BESLUIT: self.besluiten.decide,
                              **dict.fromkeys(NOTICES, self.notices.decide)},
                             recorder, sender, self.mirrors, self.failures, self.claims,
                             self.events,
                             chores=(self.send_extension_notices, self.send_reminders,
                                     self.publish_due))
        self.publication = _publication_step(settings)

    @property
    def mirror(self) -> MirrorHook | None:
        """The hook that builds spiegelrapporten (None: none are sent)."""
        return self.mirrors.hook

    @mirror.setter
    def mirror(self, hook: MirrorHook | None) -> None:
        self.mirrors.hook = hook

    def close(self) -> None:
        """Stop the mirror workers and give up unfinished claims (a restart takes them over)."""
        self.mirrors.close()
        self.claims.close()
        self.engine.dispose()

    # -- running -------------------------------------------------------------------------------

    def run_once(self, wait: float = 0) -> int:
        """Handle every message now in the inbox, then send the pending mirror reports."""
        return self.worker.run_once(wait)

    def run_forever(self, stop_event: threading.Event) -> None:
        """Poll and handle until `stop_event` is set (mirror reports in a second thread)."""
        self.worker.run_forever(stop_event)

    def publish_due(self, force: bool = False) -> list[Any]:
        """Releases made now by the publication step (ggk.publication): after a period's besluit
        deadline, when its opted-in data or the decisions changed since the latest release."""
        from ggk.station.accepted import StationAcceptedData

        if self.publication is None:
            return []
        source = StationAcceptedData(self.engine, self.store, opt_in_only=True)
        try:
            return self.publication.run(source, self.registry, self.clock, force=force)
        except Exception as e:  # a publication must never stop the station; retried later
            log.error("publication step failed: %s: %s", type(e).__name__, masked(str(e))[:500])
            return []

    def handle(self, message: Message) -> str | None:
        """Claim, decide, reply, acknowledge one message; None when another station has it."""
        return self.worker.handle(message)

    def pending_mirrors(self) -> list[tuple[WorkflowKey, int]]:
        return self.mirrors.pending()

    def send_pending_mirrors(self, limit: int | None = None,
                             stop: threading.Event | None = None) -> int:
        return self.mirrors.send_pending(limit, stop)

    # -- operator actions ----------------------------------------------------------------------

    def extend(self, gemeente: str, period: str, until: dt.date, *, statistic: str,
               reason: str | None = None) -> None:
        """Operator extension: the gemeente's deadlines of this period move to `until`."""
        grant_extension(self.engine, self.clock, statistic, period, gemeente, until, reason)

    def send_extension_notices(self) -> int:
        """Tell municipalities about extensions granted since (uitstel); number sent."""
        from ggk.station.extension_notice import send_extension_notices

        return send_extension_notices(self)

    def send_reminders(self) -> int:
        """Send the reminders the CBS dashboard asked for (herinnering); number sent."""
        from ggk.station.reminders import send_reminders

        return send_reminders(self)

    def status(self, period: str, statistic: str) -> PeriodStatus:
        """The operator view as data (`ggk.station.status.PeriodStatus`) for all 342 gemeenten."""
        from ggk.refdata import register
        from ggk.station.status import period_status

        gemeenten = [(g.code, g.naam) for g in register().all()]
        return period_status(self.engine, self.registry.for_period(statistic, period), period,
                             self.clock, gemeenten)

    def purge(self) -> int:
        """Delete raw files older than the retention (by this station's clock); files deleted."""
        from ggk.station.purge import purge_raw

        return purge_raw(self.engine, self.store, self.clock, self.settings.retention_days)


def _publication_step(settings: StationSettings) -> Any:
    if not settings.publish_after_besluit:
        return None
    from ggk.publication.station_step import PublicationStep

    return PublicationStep(settings.resolved_publication_dir())


def grant_extension(engine: sa.Engine, clock: Clock, statistic: str, period: str, gemeente: str,
                    until: dt.date, reason: str | None = None) -> None:
    with engine.begin() as conn:
        records.grant_extension(conn, statistic, period, gemeente, until, clock.now(), reason)

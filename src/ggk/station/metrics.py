"""What the station tells Prometheus and the record of channel incidents (docs/monitoring.md).

`StationMetrics` is a Station's default `StationEvents` (ggk.station.interfaces): the worker and
the mirror jobs report a mailbox poll, a handled or failed message, a sent spiegelrapport. Figures
that must be true across all stations on one database and across restarts (mirror lag, dead
letters, the store's free space) are read at scrape time.
`serve_metrics` publishes the registry on an HTTP endpoint of its own
(`ggk station run --metrics-port`, loopback by default). Every metric name here is used by
deploy/prometheus/ggk-alerts.yml or documented in docs/monitoring.md; a test scrapes a real
station and checks the rules' names exist.

Channel incidents: when a poll of the hub fails after a successful one, the station writes
`kanaal-storing` to its audit trail, and `kanaal-hersteld` at the next successful poll. The VWS
evaluation reads channel availability from those two events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ggk.client.interfaces import Message
from ggk.conversation import Kind, kind_of
from ggk.disk_metrics import store_space
from ggk.station import records
from ggk.station import tables as t
from ggk.station.masking import masked
from ggk.station.workflow import State

if TYPE_CHECKING:
    from ggk.station.service import Station

CHANNEL_DOWN = "kanaal-storing"
CHANNEL_UP = "kanaal-hersteld"


class _ScrapeTimeCollector(Collector):
    """Mirror lag, dead letters and free space, from the database and the store when Prometheus
    asks."""

    def __init__(self, station: Station) -> None:
        self.station = station

    def collect(self) -> Iterable[Metric]:
        pending = GaugeMetricFamily(
            "ggk_station_mirror_pending",
            "Accepted deliveries of the required dataset whose spiegelrapport is not sent yet")
        oldest = GaugeMetricFamily("ggk_station_mirror_oldest_pending_seconds",
                                   "Mirror lag: how long the oldest accepted delivery has "
                                   "waited for its spiegelrapport (0 when none waits)")
        waiting = self._pending_since()
        now = self.station.clock.now()
        pending.add_metric([], len(waiting))
        oldest.add_metric([], max(((now - since).total_seconds() for since in waiting),
                                  default=0.0))
        yield pending
        yield oldest
        dead = GaugeMetricFamily("ggk_station_dead_lettered_messages",
                                 "Messages the station gave up on after max_attempts failures "
                                 "(dead letters; `ggk station retry` releases one)")
        with self.station.engine.connect() as conn:
            dead.add_metric([], conn.execute(sa.select(sa.func.count()).select_from(t.failures)
                                             .where(t.failures.c.dead_at.is_not(None))).scalar()
                            or 0)
        yield dead
        yield from store_space("ggk_station_store", "the station's file store",
                               self.station.store.root)

    def _pending_since(self) -> list[dt.datetime]:
        station = self.station
        if station.mirror is None:
            return []
        w = t.workflow
        with station.engine.connect() as conn:
            rows = conn.execute(sa.select(w.c.statistic, w.c.period, w.c.dataset, w.c.updated_at)
                                .where(w.c.state == State.GOEDGEKEURD.value,
                                       w.c.accepted_version.is_not(None))).all()
        since = []
        for statistic, period, dataset, updated_at in rows:
            try:
                definition = station.registry.for_period(statistic, period)
            except Exception:  # a period this ggk does not know: no mirror is made for it
                continue
            if dataset in definition.dataset_names:  # every accepted dataset gets a mirror
                since.append(updated_at)
        return since


class StationMetrics:
    """The station's Prometheus registry (one per Station): its `StationEvents` (the default
    events of a Station) and the figures read at scrape time."""

    def __init__(self, station: Station) -> None:
        self.station = station
        self.registry = CollectorRegistry()
        r = self.registry
        self.deliveries = Counter("ggk_station_deliveries", "Aanleveringen decided, by outcome "
                                  "(the workflow state after validation, or geweigerd)",
                                  ["outcome"], registry=r)
        self.messages = Counter("ggk_station_messages", "Messages handled, by type and outcome",
                                ["type", "outcome"], registry=r)
        self.processing = Histogram("ggk_station_processing_seconds",
                                    "Time from claiming a message to its acknowledgement",
                                    ["type"], registry=r,
                                    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
                                             300))
        self.failures = Counter("ggk_station_message_failures",
                                "Attempts to handle a message that failed (it is retried)",
                                ["type"], registry=r)
        self.polls = Counter("ggk_station_polls", "Mailbox polls of the hub, by result",
                             ["result"], registry=r)
        self.last_poll = Gauge("ggk_station_last_successful_poll_timestamp_seconds",
                               "Unix time of the last successful mailbox poll", registry=r)
        self.queue_messages = Gauge("ggk_station_queue_messages",
                                    "Messages in the last mailbox page read", registry=r)
        self.queue_age = Gauge("ggk_station_queue_oldest_age_seconds",
                               "Age of the oldest message in the last mailbox page read (queue "
                               "age; 0 when the page was empty)", registry=r)
        self.mirrors = Counter("ggk_station_spiegelrapporten",
                               "Spiegelrapporten sent, by statistic", ["statistic"], registry=r)
        self.mirror_seconds = Histogram("ggk_station_spiegelrapport_seconds",
                                        "Time from claiming a spiegelrapport to sending it",
                                        registry=r, buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
                                                             600))
        self.registry.register(_ScrapeTimeCollector(station))
        self._channel_down = False

    # -- StationEvents (ggk.station.interfaces): called by the worker and the mirror jobs -----

    def mailbox_read(self, messages: Sequence[Message]) -> None:
        """A mailbox page was read: queue length and age; a channel incident ends."""
        self.polls.labels("ok").inc()
        wall = dt.datetime.now(dt.UTC)
        self.last_poll.set(wall.timestamp())
        self.queue_messages.set(len(messages))
        ages = [(wall - m.created_at).total_seconds() for m in messages if m.created_at]
        self.queue_age.set(max(ages, default=0.0))
        if self._channel_down:
            self._channel_event(CHANNEL_UP, "de hub is weer bereikbaar")
            self._channel_down = False

    def mailbox_failed(self, error: BaseException) -> None:
        """A mailbox poll failed; the first failure after a success starts a channel incident."""
        self.polls.labels("error").inc()
        if not self._channel_down:
            self._channel_down = True
            self._channel_event(CHANNEL_DOWN, f"{type(error).__name__}: {str(error)[:300]}")

    def _channel_event(self, event: str, detail: str) -> None:
        try:
            with self.station.engine.begin() as conn:
                records.write_audit(conn, self.station.clock.now(), event, detail=masked(detail))
        except Exception:  # the database may be what failed; the metric still counts it
            pass

    def message_handled(self, message_type: str, outcome: str, seconds: float) -> None:
        self.processing.labels(message_type).observe(seconds)
        self.messages.labels(message_type, outcome).inc()
        if kind_of(message_type) is Kind.AANLEVERING:
            self.deliveries.labels(outcome).inc()

    def message_failed(self, message_type: str, attempts: int, dead: bool) -> None:
        """One attempt failed (dead letters are counted from the database at scrape time)."""
        self.failures.labels(message_type).inc()

    def mirror_sent(self, statistic: str, seconds: float) -> None:
        self.mirrors.labels(statistic).inc()
        self.mirror_seconds.observe(seconds)


def serve_metrics(metrics: StationMetrics, port: int, address: str = "127.0.0.1") -> Any:
    """Serve the registry at http://address:port/metrics in a daemon thread; returns the server
    (call `.shutdown()` to stop). Port 0 picks a free port (`server.server_port`)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=address, registry=metrics.registry)
    return server

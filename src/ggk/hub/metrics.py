"""Prometheus metrics, in a registry per app (several apps may live in one process)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ggk.disk_metrics import store_space

if TYPE_CHECKING:
    from ggk.hub.messages import MessageService
    from ggk.hub.parties import PartyRegistry


class _DatabaseCollector(Collector):
    """Figures that must be true across all hub processes come from the database at scrape time."""

    def __init__(self, service: MessageService) -> None:
        self.service = service

    def collect(self) -> Iterable[Metric]:
        by_state = GaugeMetricFamily("ggk_hub_messages", "Messages by type and state",
                                     labels=["type", "state"])
        for message_type, state, count in self.service.counts_by_type_and_state():
            by_state.add_metric([message_type, state], count)
        waiting = GaugeMetricFamily("ggk_hub_unacknowledged_messages",
                                    "Available or fetched messages not yet acknowledged, "
                                    "by receiver",
                                    labels=["oin", "role"])
        oldest = GaugeMetricFamily("ggk_hub_oldest_unacknowledged_seconds",
                                   "Age of the oldest unacknowledged message, by receiver",
                                   labels=["oin", "role"])
        for p in self.service.monitoring():
            waiting.add_metric([p["oin"], p["role"]], p["unacknowledged"])
            oldest.add_metric([p["oin"], p["role"]], p["oldest_unacknowledged_seconds"] or 0.0)
        yield by_state
        yield waiting
        yield oldest


class _PartyAndDiskCollector(Collector):
    """Certificate expiry per active party (alert: within 60 days) and the store's free space
    (local folder only: object storage has no disk for the hub to watch)."""

    def __init__(self, parties: PartyRegistry, store_dir: Path | None) -> None:
        self.parties = parties
        self.store_dir = Path(store_dir) if store_dir is not None else None

    def collect(self) -> Iterable[Metric]:
        expiry = GaugeMetricFamily("ggk_hub_party_certificate_expiry_timestamp_seconds",
                                   "Unix time at which the registered certificate of an active "
                                   "party expires", labels=["oin", "role"])
        for party in self.parties.list():
            if party.active and party.cert_not_after is not None:
                expiry.add_metric([party.oin, party.role], party.cert_not_after.timestamp())
        yield expiry
        if self.store_dir is not None:
            yield from store_space("ggk_hub_storage", "the hub's attachment store",
                                   self.store_dir)


class HubMetrics:
    def __init__(self, service: MessageService, parties: PartyRegistry | None = None,
                 store_dir: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        self.bytes_in = Counter("ggk_hub_bytes_in", "Attachment bytes received by this process",
                                registry=self.registry)
        self.bytes_out = Counter("ggk_hub_bytes_out", "Attachment bytes sent by this process",
                                 registry=self.registry)
        self.upload_chunks = Counter("ggk_hub_upload_chunks",
                                     "tus PATCH requests received, by whether the client sent an "
                                     "Upload-Checksum for the chunk (sha256) or not (none)",
                                     ["checksum"], registry=self.registry)
        self.refusals = Counter("ggk_hub_refusals", "Refused requests and messages by reason",
                                ["reason"], registry=self.registry)
        self.latency = Histogram("ggk_hub_request_seconds", "Request latency",
                                 ["method", "route", "status"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                                          10, 30, 60))
        self.listening = Gauge("ggk_hub_mailbox_listener_up",
                               "1 while this process LISTENs for mailbox notifications on "
                               "PostgreSQL (0: long polls fall back to frequent re-queries)",
                               registry=self.registry)
        self.registry.register(_DatabaseCollector(service))
        if parties is not None:
            self.registry.register(_PartyAndDiskCollector(parties, store_dir))


class LatencyMiddleware:
    """Pure ASGI middleware (keeps streaming bodies streaming) timing every request."""

    def __init__(self, app: Any, metrics: HubMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            self.metrics.latency.labels(scope["method"], path, str(status["code"])).observe(
                time.perf_counter() - started)

"""The objects one hub app shares between requests, built once per app from its settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import sqlalchemy as sa
from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from ggk.hub.auth import Authenticator
from ggk.hub.database import create_engine
from ggk.hub.interfaces import Party
from ggk.hub.messages import MessageService
from ggk.hub.metrics import HubMetrics
from ggk.hub.parties import PartyRegistry
from ggk.hub.receipts import HubKey, load_or_create_hub_key
from ggk.hub.settings import HubSettings
from ggk.hub.storage import FileStore

T = TypeVar("T")


class MailboxNotifier:
    """Wakes long-polling requests of this process when a message becomes available.

    Other processes' messages are found by the long poll's short database polling instead.
    """

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.generation = 0
        self._event: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._event = asyncio.Event()

    def _bump(self) -> None:
        self.generation += 1
        if self._event is not None:
            self._event.set()
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Thread-safe: may be called from worker threads."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._bump)

    async def wait(self, generation: int, timeout: float) -> None:
        if self.generation != generation or self._event is None:
            return
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass


@dataclass
class HubContext:
    settings: HubSettings
    engine: sa.Engine
    store: FileStore
    key: HubKey
    registry: PartyRegistry
    authenticator: Authenticator
    service: MessageService
    metrics: HubMetrics
    notifier: MailboxNotifier = field(default_factory=MailboxNotifier)
    inline_database: bool = False

    async def database(self, work: Callable[[], T]) -> T:
        """Run a request's database work (`work` opens its one connection and transaction).

        SQLite (embedded: a file in this process, a statement costs microseconds): inline on the
        event loop, because the hop to a worker thread and back costs more CPU than the work
        itself (measured: ~0.3-0.5 ms of a ~1.5 ms send). The price is that the loop waits
        while SQLite does, which is short: only worker threads (uploads, expiry) and other
        processes (`ggk party`) take the write lock besides, for microseconds, and a WAL
        checkpoint now and then takes a few ms. PostgreSQL (network round trips, several hub
        processes): in the thread pool, so that the loop never waits for the network."""
        if self.inline_database:
            return work()
        return await run_in_threadpool(work)

    @classmethod
    def build(cls, settings: HubSettings, engine: sa.Engine | None = None) -> HubContext:
        engine = engine or create_engine(settings.resolved_database_url())
        store = FileStore(settings.resolved_store_dir())
        registry = PartyRegistry(engine)
        notifier = MailboxNotifier()
        service = MessageService(engine, settings, store, on_available=notifier.notify)
        return cls(
            settings=settings, engine=engine, store=store,
            key=load_or_create_hub_key(settings.hub_key_path), registry=registry,
            authenticator=Authenticator(settings, registry), service=service,
            metrics=HubMetrics(service, registry, settings.resolved_store_dir()),
            notifier=notifier,
            inline_database=engine.dialect.name == "sqlite",
        )


def hub(request: Request) -> HubContext:
    return request.app.state.hub  # type: ignore[no-any-return]


def current_party(request: Request) -> Party:
    """FastAPI dependency: the authenticated party (403 problem otherwise)."""
    return hub(request).authenticator.party(request)


class RequestCaller:
    """The caller of one request, authenticated in the connection the endpoint's work uses
    (`MessageService` calls it with that connection); remembered after the first success."""

    __slots__ = ("party", "request")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.party: Party | None = None

    def __call__(self, conn: sa.Connection) -> Party:
        if self.party is None:
            self.party = hub(self.request).authenticator.party(self.request, conn)
        return self.party


def caller(request: Request) -> RequestCaller:
    return RequestCaller(request)

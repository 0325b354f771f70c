"""The objects one hub app shares between requests, built once per app from its settings."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import sqlalchemy as sa
from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from ggk.hub.auth import Authenticator
from ggk.hub.database import create_engine
from ggk.hub.interfaces import AttachmentStore, Party
from ggk.hub.messages import MessageService
from ggk.hub.metrics import HubMetrics
from ggk.hub.notify import MailboxNotifier, PostgresListener, newest_cursors
from ggk.hub.objectstore import S3Store
from ggk.hub.parties import PartyRegistry
from ggk.hub.receipts import (
    HubKey,
    ReceiptKeys,
    load_hub_key,
    load_or_create_hub_key,
    load_public_key,
)
from ggk.hub.settings import HubSettings
from ggk.hub.storage import FileStore
from ggk.hub.uploadlocks import PostgresUploadLocks, ProcessUploadLocks, upload_locks

T = TypeVar("T")


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
    keys: ReceiptKeys | None = None
    upload_locks: ProcessUploadLocks | PostgresUploadLocks = field(
        default_factory=ProcessUploadLocks)
    listener: PostgresListener | None = None  # PostgreSQL: LISTEN/NOTIFY wakes long polls

    @property
    def poll_interval(self) -> float:
        """How often a long poll re-queries: rarely while notifications arrive, else often."""
        if self.notified_across_processes:
            return self.settings.long_poll_safety_interval
        return self.settings.long_poll_interval

    @property
    def notified_across_processes(self) -> bool:
        """True while changes made by any hub process wake this one's long polls (PostgreSQL
        NOTIFY, listening); on SQLite only this process's own changes do."""
        return self.listener is not None and self.listener.listening.is_set()

    async def safety_net(self) -> list[str]:
        """One batched query for every mailbox this process knows empty: forgets and wakes the
        parties whose mailbox has a message after all (its notification was lost); returns
        their OINs. Nothing to do (no query) while nothing is known empty."""
        known = self.notifier.known_empty_mailboxes()
        if not known or not self.notified_across_processes:
            return []

        def query() -> dict[tuple[str, str], int]:
            with self.engine.connect() as conn:
                return newest_cursors(conn, known)

        newest = await run_in_threadpool(query)
        return self.notifier.forget_changed(known, lambda box, oin: newest.get((box, oin)))

    @property
    def receipt_keys(self) -> ReceiptKeys:
        return self.keys or ReceiptKeys(self.key)

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
        """Everything from settings. A multi-node hub (S3 storage or `multi_node`) refuses to
        start without a configured receipt key (ValueError): every node must sign with it."""
        if settings.is_multi_node and settings.receipt_key_file is None:
            raise ValueError("a hub with several nodes (S3 storage or --multi-node) needs "
                             "--receipt-key: the Ed25519 key all nodes sign receipts with")
        engine = engine or create_engine(settings.resolved_database_url())
        store: AttachmentStore = (
            S3Store.connect(settings.s3_endpoint_url, settings.s3_bucket, settings.s3_region,
                            settings.s3_prefix)
            if settings.s3_bucket else FileStore(settings.resolved_store_dir()))
        registry = PartyRegistry(engine)
        notifier = MailboxNotifier()
        postgres = engine.dialect.name == "postgresql"
        key = (load_hub_key(settings.receipt_key_file) if settings.receipt_key_file
               else load_or_create_hub_key(settings.hub_key_path))
        # the hub's private key file is the secret every hub process shares
        id_scope_secret = hashlib.sha256(b"ggk-message-id-scope\0"
                                         + settings.hub_key_path.read_bytes()).digest()
        service = MessageService(engine, settings, store,
                                 on_available=(lambda: None) if postgres else notifier.notify,
                                 id_scope_secret=id_scope_secret)
        listener = (PostgresListener(engine.url, notifier, forget_party=registry.forget)
                    if postgres else None)
        if listener is not None:
            registry.caching = listener.listening.is_set
        metrics = HubMetrics(service, registry,
                             None if settings.s3_bucket else settings.resolved_store_dir())
        if listener is not None:
            metrics.listening.set_function(lambda: float(listener.listening.is_set()))
        return cls(
            settings=settings, engine=engine, store=store, key=key, registry=registry,
            authenticator=Authenticator(settings, registry), service=service,
            metrics=metrics, notifier=notifier,
            inline_database=engine.dialect.name == "sqlite",
            keys=ReceiptKeys(key, tuple(load_public_key(p)
                                        for p in settings.receipt_previous_key_files)),
            upload_locks=upload_locks(engine),
            listener=listener,
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


async def authenticate_first(request: Request, who: RequestCaller) -> None:
    """Authenticate the caller in a connection of its own (before a request body is read);
    `who` remembers the party, so the endpoint's own transaction does not ask again."""
    context = hub(request)

    def check() -> None:
        with context.engine.connect() as conn:
            who(conn)

    await context.database(check)

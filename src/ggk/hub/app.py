"""The hub's FastAPI application, built from settings (one app per HubContext)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from ggk.hub import api, problems, transfers
from ggk.hub.context import HubContext
from ggk.hub.database import require_current_schema
from ggk.hub.metrics import LatencyMiddleware
from ggk.hub.settings import HubSettings

log = logging.getLogger("ggk.hub")


async def _sweep_expired(context: HubContext) -> None:
    while True:
        try:
            await run_in_threadpool(context.service.expire_due)
            await run_in_threadpool(context.service.purge_retained)
        except Exception:  # keep sweeping; the next round may succeed
            log.exception("expiry sweep failed")
        await asyncio.sleep(context.settings.expiry_sweep_seconds)


async def _refresh_crl(context: HubContext) -> None:
    while True:
        await asyncio.sleep(context.settings.crl_refresh_seconds)
        await run_in_threadpool(context.authenticator.refresh_crl)


async def _safety_net(context: HubContext) -> None:
    """PostgreSQL: one query per interval checks every mailbox known empty (ggk.hub.notify)."""
    while True:
        await asyncio.sleep(context.settings.long_poll_safety_interval)
        try:
            woken = await context.safety_net()
        except Exception:  # keep checking; the next round may succeed
            log.exception("long-poll safety net failed")
            context.notifier.notify()  # forget what is known: let every poll look itself
            continue
        if woken:
            log.warning("long-poll safety net woke %d parties whose notification was lost",
                        len(woken))


def create_app(settings: HubSettings, context: HubContext | None = None) -> FastAPI:
    """The hub app. Refuses (SchemaNotCurrent) when the database is not migrated."""
    context = context or HubContext.build(settings)
    require_current_schema(context.engine, settings.resolved_database_url())

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        context.notifier.bind(asyncio.get_running_loop())
        if context.listener is not None:
            context.listener.start()
        tasks = [asyncio.create_task(_sweep_expired(context))]
        if context.listener is not None:
            tasks.append(asyncio.create_task(_safety_net(context)))
        if settings.crl_source is not None:
            tasks.append(asyncio.create_task(_refresh_crl(context)))
        try:
            yield
        finally:
            if context.listener is not None:
                await run_in_threadpool(context.listener.stop)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="ggk hub",
        version="1",
        summary="OIN-authenticated message routing with mailboxes, signed receipts and "
                "resumable large-file transfer (mutual TLS).",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.hub = context
    problems.install(app)
    app.include_router(api.router)
    app.include_router(transfers.router)
    app.add_middleware(LatencyMiddleware, metrics=context.metrics)
    return app

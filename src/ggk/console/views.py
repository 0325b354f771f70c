"""The console's pages and actions (Dutch, for the hub operator). Every route needs an account with
the internal role `hub-operator`; ggk.web refuses every other account at login."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ggk.console.app import CERTIFICATE_WARNING_DAYS, Console, OnboardingError
from ggk.localtime import shown
from ggk.web.app import CurrentUser, NotVisible, client_address

ROLE_NL = {"gemeente": "gemeente", "cbs": "CBS", "operator": "beheerder"}
STATE_NL = {"accepted": ("wordt ontvangen", "neutral"), "available": ("klaar", "neutral"),
            "fetched": ("opgehaald", "neutral"), "acknowledged": ("afgeleverd", "ok"),
            "refused": ("geweigerd", "error"), "expired": ("verlopen", "error")}
WAITING_TOO_LONG = 3600  # seconds: a message waiting longer than this is shown as a problem


def age(seconds: float | None) -> str:
    """`3 min`, `2 u 5 min`, `4 d 3 u` (Dutch short units)."""
    if seconds is None:
        return "-"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min" if minutes else f"{int(seconds)} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} u {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} u"


def console_router(console: Console) -> APIRouter:
    router = APIRouter()
    web = console.web
    web.templates.filters["tijd"] = lambda value: shown(value)
    web.templates.filters["leeftijd"] = age
    web.templates.globals.update(role_nl=ROLE_NL, message_state_nl=STATE_NL,
                                 waiting_too_long=WAITING_TOO_LONG)

    @router.get("/", response_class=HTMLResponse)
    def health(request: Request, user: CurrentUser) -> Response:
        now = console.now()
        parties = console.watch.health(now)
        soon = now + dt.timedelta(days=CERTIFICATE_WARNING_DAYS)
        expiring = sorted((p for p in parties if p.active and p.cert_not_after
                           and p.cert_not_after <= soon), key=lambda p: p.cert_not_after)
        failures = (console.settings.station_failures()
                    if console.settings.station_failures else None)
        figures = {
            "partijen": sum(1 for p in parties if p.active),
            "berichten wachtend": sum(p.waiting for p in parties),
            "langst wachtend": age(max((p.oldest_waiting_seconds or 0 for p in parties),
                                       default=0) or None),
            "verlopen (hub)": sum(p.expired for p in parties),
            "dead letters (station)": sum(1 for f in failures or [] if f.get("dead_at")),
            "certificaten < 60 dagen": len(expiring),
        }
        return web.render(request, "console/kanaal.html", title="Kanaal", parties=parties,
                          expiring=expiring, failures=failures, figures=figures, now=now,
                          soon=soon)

    @router.get("/berichten", response_class=HTMLResponse)
    def messages(request: Request, user: CurrentUser) -> Response:
        wanted = (request.query_params.get("id") or "").strip()
        if wanted:
            return RedirectResponse(f"/berichten/{wanted}", 303)
        party = request.query_params.get("partij") or None
        parties = {p.oin: p for p in console.watch.health(console.now())}
        return web.render(request, "console/berichten.html", title="Berichten",
                          messages=console.watch.recent(100, party), party=party,
                          parties=parties)

    @router.get("/berichten/{message_id}", response_class=HTMLResponse)
    def trail(request: Request, message_id: str, user: CurrentUser) -> Response:
        try:
            uuid.UUID(message_id)
        except ValueError:
            raise NotVisible() from None
        found = console.watch.messages(message_id)
        entries = console.watch.trail(message_id)
        if not found and not entries:
            raise NotVisible()
        parties = {p.oin: p for p in console.watch.health(console.now())}
        web.audit.record(user, "message.trail", message_id, address=client_address(request))
        return web.render(request, "console/bericht.html", title=f"Bericht {message_id}",
                          message_id=message_id, found=found, entries=entries, parties=parties)

    @router.get("/aansluiten", response_class=HTMLResponse)
    def onboardings(request: Request, user: CurrentUser) -> Response:
        return web.render(request, "console/aansluiten.html", title="Gemeenten aansluiten",
                          onboardings=console.onboardings())

    @router.post("/aansluiten")
    async def start(request: Request, user: CurrentUser) -> Response:
        form = await request.form()
        try:
            code = console.start_onboarding(str(form.get("gemeente") or ""), user.email)
        except OnboardingError as e:
            web.flash(request, str(e), "error")
            return RedirectResponse("/aansluiten", 303)
        web.audit.record(user, "onboarding.start", code, organisation=code,
                         address=client_address(request))
        return RedirectResponse(f"/aansluiten/{code}", 303)

    @router.get("/aansluiten/{code}", response_class=HTMLResponse)
    def checklist(request: Request, code: str, user: CurrentUser) -> Response:
        onboarding = console.onboarding(code)
        if onboarding is None:
            raise NotVisible()
        return web.render(request, "console/checklist.html",
                          title=f"Aansluiten {onboarding.naam}", onboarding=onboarding)

    @router.post("/aansluiten/{code}/{step}")
    async def tick(request: Request, code: str, step: str, user: CurrentUser) -> Response:
        form = await request.form()
        try:
            console.tick(code, step, user.email, str(form.get("notitie") or ""))
        except OnboardingError as e:
            web.flash(request, str(e), "error")
        else:
            web.audit.record(user, "onboarding.step", step, organisation=code,
                             address=client_address(request))
            web.flash(request, "Stap afgevinkt.")
        return RedirectResponse(f"/aansluiten/{code}", 303)

    return router

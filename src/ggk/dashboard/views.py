"""The dashboard's pages and actions (Dutch, for CBS's collection managers). Every route needs a
logged-in account with the internal role `verzamelbeheer` (ggk.web refuses every other account
at login and treats its session as not logged in)."""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ggk.dashboard.app import FILTERS, Dashboard, matches
from ggk.dashboard.chart import chart_window, daily_counts, period_chart_svg
from ggk.dashboard.export import to_csv, to_xlsx
from ggk.localtime import local, shown
from ggk.station.interfaces import DashboardError, DatasetState
from ggk.web.app import CurrentUser, NotVisible, client_address
from ggk.web.interfaces import User

log = logging.getLogger("ggk.dashboard")

STATE_NL = {
    "geen-aanlevering": ("nog niets", "neutral"),
    "ontvangen": ("ontvangen", "neutral"),
    "afgekeurd": ("afgekeurd", "error"),
    "goedgekeurd": ("goedgekeurd", "ok"),
    "spiegelrapport-verzonden": ("spiegelrapport verzonden", "ok"),
    "correctie-ontvangen": ("correctie ontvangen", "neutral"),
    "correctie-afgekeurd": ("correctie afgekeurd", "warn"),
    "opt-in": ("opt-in", "ok"),
    "ingetrokken": ("ingetrokken", "warn"),
}
EVENT_NL = {"toelichting": "Toelichting op signaal", "uitstelverzoek": "Verzoek om uitstel",
            "uitstel": "Uitstel verleend", "uitstel-gemeld": "Uitstel gemeld aan gemeente",
            "herinnering-gevraagd": "Herinnering klaargezet",
            "herinnering-gemeld": "Herinnering verstuurd",
            "herinnering-niet-bezorgd": "Herinnering niet bezorgd (geen partij bij de hub)",
            "geweigerd": "Bericht geweigerd",
            "spiegelrapport": "Spiegelrapport verzonden"}
REPORT_NL = {"technisch-controlerapport": "Technisch controlerapport",
             "spiegelrapport": "Spiegelrapport"}
CALENDAR_NL = {"aanlevering_open": "Aanleverperiode opent", "aanlevering_sluit": "Deadline",
               "correctie_sluit": "Correctieperiode sluit",
               "besluit_deadline": "Uiterste datum besluit", "publicatie": "Publicatie"}
DEFAULT_REMINDER = ("Wij hebben nog geen goedgekeurde basislevering van uw gemeente ontvangen "
                    "voor {statistiek} {periode}. Wilt u uw bestand vóór {deadline} aanleveren? "
                    "Lukt dat niet, vraag dan uitstel aan via het portaal.")


def _tijd(value: dt.datetime | None) -> str:
    return shown(value)


def _datum(value: dt.date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else "-"


ORDERS = {"code": "gemeentecode", "naam": "naam", "aandacht": "aandacht eerst (te laat, afgekeurd)",
          "recent": "laatste aanlevering eerst"}


def ordered_gemeenten(rows: Sequence[DatasetState], order: str) -> list[str]:
    """The municipalities of `rows` in the chosen order (unknown: by gemeentecode)."""
    names = {r.gemeente: r.naam for r in rows}
    if order == "naam":
        return sorted(names, key=lambda code: (names[code].lower(), code))
    if order == "aandacht":
        weight: dict[str, int] = dict.fromkeys(names, 0)
        for r in rows:
            weight[r.gemeente] += 2 * r.overdue + r.rejected
        return sorted(names, key=lambda code: (-weight[code], code))
    if order == "recent":
        last: dict[str, float] = dict.fromkeys(names, 0.0)
        for r in rows:
            if r.last_delivery_at:
                last[r.gemeente] = max(last[r.gemeente], r.last_delivery_at.timestamp())
        return sorted(names, key=lambda code: (-last[code], code))
    return sorted(names)


def lines_of(rows: Sequence[DatasetState]) -> list[dict[str, Any]]:
    """One line per municipality x statistic, its datasets stacked in it (required first)."""
    grouped: dict[tuple[str, str], list[DatasetState]] = {}
    for row in rows:
        grouped.setdefault((row.gemeente, row.statistic), []).append(row)
    lines = []
    for (code, statistic), states in grouped.items():
        states.sort(key=lambda s: (not s.required, s.dataset))
        deliveries = [s.last_delivery_at for s in states if s.last_delivery_at]
        lines.append({
            "gemeente": code, "naam": states[0].naam, "statistic": statistic, "states": states,
            "last_delivery_at": max(deliveries) if deliveries else None,
            "deadline": states[0].deadline, "extension_until": states[0].extension_until,
            "overdue": any(s.overdue for s in states), "flags": sum(s.flags for s in states),
            "comments": max(s.comments for s in states),
            "besluit": next((s.besluit for s in states if s.besluit), None)})
    return lines


def dashboard_router(dashboard: Dashboard) -> APIRouter:  # noqa: C901 - one place for the routes
    router = APIRouter()
    web = dashboard.web
    records = dashboard.records
    web.templates.filters["tijd"] = _tijd
    web.templates.filters["datum"] = _datum
    web.templates.globals.update(state_nl=STATE_NL, event_nl=EVENT_NL, report_nl=REPORT_NL,
                                 calendar_nl=CALENDAR_NL, filters=FILTERS)

    def today() -> dt.date:
        return local(dashboard.settings.clock.now()).date()

    def chosen(request: Request) -> tuple[str, list[str]]:
        """The period asked for (else the current one) and the statistics to show."""
        statistics = records.statistics()
        wanted = request.query_params.get("statistiek") or ""
        period = request.query_params.get("periode") or dashboard.current_period(today())
        if period is None or period not in dashboard.all_periods():
            raise NotVisible()
        if wanted:
            if wanted not in statistics:
                raise NotVisible()
            statistics = [wanted]
        return period, [s for s in statistics if period in records.periods(s)]

    def audit(request: Request, user: User, action: str, detail: str,
              gemeente: str | None = None) -> None:
        web.audit.record(user, action, detail, organisation=gemeente,
                         address=client_address(request))

    def states_of(period: str, statistics: Sequence[str], name: str | None
                  ) -> list[DatasetState]:
        return [s for statistic in statistics for s in records.states(statistic, period)
                if matches(s, name)]

    # -- the period ---------------------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request, user: CurrentUser) -> Response:
        period, statistics = chosen(request)
        name = request.query_params.get("filter")
        name = name if name in FILTERS else None
        search = (request.query_params.get("zoek") or "").strip().lower()
        sections = []
        all_rows: list[DatasetState] = []
        for statistic in statistics:
            rows = records.states(statistic, period)
            calendar = records.calendar(statistic, period)
            events = records.timeline(statistic, period)
            required = next((r.dataset for r in rows if r.required), "")
            start, end = chart_window(calendar, events, today())
            counts = daily_counts(events, required, start, end)
            required_rows = [r for r in rows if r.required]
            sections.append({
                "statistic": statistic, "calendar": sorted(calendar.items(), key=lambda i: i[1]),
                "chart": period_chart_svg(counts, calendar, today(),
                                          f"Aanleveringen {statistic.upper()} {period}",
                                          f"grafiek-{statistic}"),
                "counts": [c for i, c in enumerate(counts)
                           if i == len(counts) - 1 or c.delivered != counts[i + 1].delivered
                           or c.accepted != counts[i + 1].accepted][-12:],
                "totals": {
                    "gemeenten": len(required_rows),
                    "aangeleverd": sum(1 for r in required_rows if r.versions),
                    "goedgekeurd": sum(1 for r in required_rows if r.accepted_version is not None),
                    "afgekeurd": sum(1 for r in rows if r.rejected),
                    "te laat": sum(1 for r in rows if r.overdue),
                    "opt-in": sum(1 for r in required_rows if r.besluit == "opt-in"),
                    "ingetrokken": sum(1 for r in required_rows if r.besluit == "intrekken"),
                    "met signalen": sum(1 for r in required_rows if r.flags),
                    "met toelichtingen": sum(1 for r in required_rows if r.comments),
                },
            })
            all_rows += [r for r in rows if matches(r, name) and (
                not search or search in r.gemeente.lower() or search in r.naam.lower())]
        order = request.query_params.get("volgorde") or "code"
        gemeenten = ordered_gemeenten(all_rows, order)
        size = dashboard.settings.page_size
        pages = max(1, -(-len(gemeenten) // size))
        try:
            page = min(max(int(request.query_params.get("pagina") or 1), 1), pages)
        except ValueError:
            page = 1
        shown_codes = set(gemeenten[(page - 1) * size:page * size])
        position = {code: index for index, code in enumerate(gemeenten)}
        query = {k: v for k, v in request.query_params.items() if k != "pagina" and v}
        return web.render(
            request, "dashboard/overzicht.html", title=f"Periode {period}", period=period,
            periods=dashboard.all_periods(), statistics=records.statistics(),
            statistic=request.query_params.get("statistiek") or "", sections=sections,
            lines=sorted(lines_of([r for r in all_rows if r.gemeente in shown_codes]),
                         key=lambda line: position[line["gemeente"]]),
            orders=ORDERS, order=order if order in ORDERS else "code", filter=name,
            search=search,
            matched=len(gemeenten), page=page, pages=pages,
            query=urlencode(query), page_query=lambda n: urlencode(query | {"pagina": n}),
            filter_query=lambda f: urlencode(
                {k: v for k, v in query.items() if k != "filter"} | ({"filter": f} if f else {})),
            default_reminder=DEFAULT_REMINDER)

    @router.get("/export.{kind}")
    def export(request: Request, kind: str, user: CurrentUser) -> Response:
        if kind not in ("csv", "xlsx"):
            raise NotVisible()
        period, statistics = chosen(request)
        name = request.query_params.get("filter")
        rows = states_of(period, statistics, name if name in FILTERS else None)
        audit(request, user, "export", f"{kind} {period} ({len(rows)} regels)")
        stem = f"ggk-{'-'.join(statistics) or 'alle'}-{period}"
        if kind == "csv":
            return Response(to_csv(rows), media_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": f'attachment; filename="{stem}.csv"'})
        return Response(to_xlsx(rows), media_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'})

    @router.post("/herinnering")
    async def remind(request: Request, user: CurrentUser) -> Response:
        form = await request.form()
        statistic, period = str(form.get("statistiek") or ""), str(form.get("periode") or "")
        text = str(form.get("tekst") or "")
        back = f"/?{urlencode({'periode': period})}"
        if statistic not in records.statistics() or period not in records.periods(statistic):
            raise NotVisible()
        waiting = [s for s in records.states(statistic, period)
                   if s.required and s.accepted_version is None and s.besluit is None]
        deadline = next((s.deadline for s in waiting if s.deadline), None)
        text = text.strip() or DEFAULT_REMINDER
        text = text.replace("{statistiek}", statistic.upper()).replace(
            "{periode}", period).replace("{deadline}", _datum(deadline))
        try:
            ids = records.request_reminders(statistic, period, [s.gemeente for s in waiting],
                                            text)
        except DashboardError as e:
            web.flash(request, str(e), "error")
            return RedirectResponse(back, 303)
        mailed = mail_gemeenten(
            [s.gemeente for s in waiting],
            f"Herinnering: aanlevering {statistic.upper()} {period}", text)
        audit(request, user, "reminder.send",
              f"{statistic} {period}: {len(ids)} gemeenten, {mailed} e-mails")
        web.flash(request, f"Herinnering klaargezet voor {len(ids)} gemeenten zonder "
                           f"goedgekeurde basislevering; het station verstuurt ze via het "
                           f"kanaal. {mailed} e-mail(s) verstuurd.")
        return RedirectResponse(back, 303)

    def mail_gemeenten(gemeenten: Sequence[str], subject: str, body: str) -> int:
        sent = 0
        for code, addresses in dashboard.contacts_of(gemeenten).items():
            try:
                web.mailer.send(addresses, subject, body + "\n\nCentraal Bureau voor de "
                                "Statistiek\n(Dit bericht gaat ook via het kanaal naar uw "
                                "gemeente.)")
                sent += 1
            except OSError as e:
                log.warning("mail to the contacts of %s failed: %s", code, e)
        return sent

    # -- earlier periods ---------------------------------------------------------------------

    @router.get("/vergelijken", response_class=HTMLResponse)
    def compare(request: Request, user: CurrentUser) -> Response:
        statistics = records.statistics()
        statistic = request.query_params.get("statistiek") or (statistics[0] if statistics
                                                                else "")
        if statistic not in statistics:
            raise NotVisible()
        periods = records.periods(statistic)[-4:]
        by_period = {p: [r for r in records.states(statistic, p) if r.required]
                     for p in periods}
        totals = {p: {
            "aangeleverd": sum(1 for r in rows if r.versions),
            "goedgekeurd": sum(1 for r in rows if r.accepted_version is not None),
            "te laat": sum(1 for r in rows if r.overdue),
            "afgekeurd": sum(1 for r in rows if r.rejected),
            "opt-in": sum(1 for r in rows if r.besluit == "opt-in"),
            "ingetrokken": sum(1 for r in rows if r.besluit == "intrekken"),
            "uitstel": sum(1 for r in rows if r.extension_until),
        } for p, rows in by_period.items()}
        grid: dict[str, dict[str, DatasetState]] = {}
        for p, rows in by_period.items():
            for r in rows:
                grid.setdefault(r.gemeente, {})[p] = r
        active = [code for code, cells in sorted(grid.items())
                  if any(c.versions or c.extension_until for c in cells.values())]
        return web.render(request, "dashboard/vergelijken.html",
                          title=f"Perioden naast elkaar ({statistic.upper()})",
                          statistic=statistic, statistics=statistics, periods=periods,
                          totals=totals, grid=grid, active=active)

    # -- one municipality -------------------------------------------------------------------

    @router.get("/gemeente/{code}", response_class=HTMLResponse)
    def gemeente(request: Request, code: str, user: CurrentUser) -> Response:
        period, statistics = chosen(request)
        files = []
        for statistic in statistics:
            try:
                files.append(records.gemeente_file(statistic, period, code))
            except DashboardError as e:
                raise NotVisible() from e
        return web.render(request, "dashboard/gemeente.html",
                          title=f"{files[0].naam if files else code} {period}", code=code,
                          naam=files[0].naam if files else code, period=period, files=files,
                          contacts=dashboard.contacts(code), periods=dashboard.all_periods(),
                          calendars={f.statistic: records.calendar(f.statistic, period)
                                     for f in files})

    @router.post("/gemeente/{code}/uitstel")
    async def extend(request: Request, code: str, user: CurrentUser) -> Response:
        form = await request.form()
        statistic, period = str(form.get("statistiek") or ""), str(form.get("periode") or "")
        reason = str(form.get("reden") or "").strip()
        back = f"/gemeente/{code}?{urlencode({'periode': period})}"
        try:
            until = dt.date.fromisoformat(str(form.get("tot") or ""))
        except ValueError:
            web.flash(request, "Vul een geldige datum in (dag-maand-jaar).", "error")
            return RedirectResponse(back, 303)
        try:
            records.grant_extension(statistic, period, code, until, reason or None)
        except DashboardError as e:
            web.flash(request, str(e), "error")
            return RedirectResponse(back, 303)
        body = (f"CBS heeft uw gemeente uitstel verleend voor {statistic.upper()} {period}: "
                f"u kunt aanleveren tot en met {_datum(until)}."
                + (f"\nToelichting van CBS: {reason}" if reason else ""))
        mailed = mail_gemeenten([code], f"Uitstel {statistic.upper()} {period}", body)
        audit(request, user, "extension.grant",
              f"{statistic} {period} tot {until.isoformat()}", code)
        web.flash(request, f"Uitstel tot en met {_datum(until)} vastgelegd. Het station meldt "
                           "het de gemeente via het kanaal"
                           + (" en er is een e-mail verstuurd." if mailed else
                              "; er is geen e-mailadres van de gemeente bekend."))
        return RedirectResponse(back, 303)

    @router.post("/gemeente/{code}/contact")
    async def contact(request: Request, code: str, user: CurrentUser) -> Response:
        form = await request.form()
        period = str(form.get("periode") or "")
        back = f"/gemeente/{code}?{urlencode({'periode': period})}" if period else \
            f"/gemeente/{code}"
        email = str(form.get("email") or "")
        if form.get("verwijder"):
            dashboard.remove_contact(code, email)
            audit(request, user, "contact.remove", email, code)
            web.flash(request, f"{email} verwijderd.")
            return RedirectResponse(back, 303)
        try:
            added = dashboard.add_contact(code, email, user.email)
        except ValueError as e:
            web.flash(request, str(e), "error")
            return RedirectResponse(back, 303)
        audit(request, user, "contact.add", added, code)
        web.flash(request, f"{added} ontvangt voortaan e-mail over deze gemeente.")
        return RedirectResponse(back, 303)

    @router.get("/rapport/{reply_id}/{name}")
    def report(request: Request, reply_id: str, name: str, user: CurrentUser) -> Response:
        try:
            data = records.report_file(reply_id, name)
        except DashboardError as e:
            raise NotVisible() from e
        headers: dict[str, Any] = {
            # a report is a document of its own: its inline styles, nothing else
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                       "img-src data:; frame-ancestors 'none'",
        }
        if not name.endswith(".html"):
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Response(data, media_type=media_type, headers=headers)

    return router

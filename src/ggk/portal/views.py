"""The portal's pages and actions (Dutch). Every page of a gemeente checks membership first: a
user who is not a member gets the same "not found" page as for a page that does not exist; only a
medewerker may act (upload, send, decide, comment, ask for more time), alleen-lezen may look."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ggk.conversation import Kind
from ggk.portal.app import Portal
from ggk.portal.interfaces import PortalError, StoredReport, Upload
from ggk.portal.service import (
    AMSTERDAM,
    Desk,
    definition_for,
    finding_differences,
    statistics,
    technical_reports,
)
from ggk.portal.uploads import TUS_VERSION, check_upload, parse_metadata, start_background
from ggk.web.app import CurrentUser, NotVisible, client_address
from ggk.web.interfaces import User

GEMEENTE_PAGES = (
    ("", "Overzicht"), ("/aanleveren", "Aanleveren"), ("/rapporten", "Rapporten"),
    ("/versies", "Versies"), ("/besluit", "Besluit"), ("/uitstel", "Uitstel"),
    ("/logboek", "Logboek"),
)
SEVERITY_NL = {"error": "fout", "warning": "waarschuwing"}


def _fmt_dt(value: dt.datetime | None) -> str:
    return value.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M") if value else "-"


def portal_router(portal: Portal) -> APIRouter:  # noqa: C901 - one place for all the routes
    router = APIRouter()
    web = portal.web
    web.templates.filters["datum"] = lambda d: d.strftime("%d-%m-%Y") if d else "-"
    web.templates.filters["tijd"] = _fmt_dt
    web.templates.globals["severity_nl"] = SEVERITY_NL
    web.templates.globals["gemeente_pages"] = GEMEENTE_PAGES

    def access(request: Request, code: str, user: User, act: bool = False) -> Desk:
        role = user.role_for(code)
        if role is None:
            raise NotVisible()
        if act and role != "medewerker":
            raise StarletteHTTPException(403, "U heeft alleen leesrechten voor deze gemeente.")
        try:
            desk = portal.desk(code)
        except PortalError as e:
            raise NotVisible() from e
        request.state.gemeente = code
        return desk

    def render(request: Request, template: str, desk: Desk | None = None, status: int = 200,
               **context: Any) -> HTMLResponse:
        if desk is not None:
            user: User = request.state.user
            context.setdefault("gemeente", desk.connection)
            context.setdefault("may_act", user.may_act_for(desk.code))
        return web.render(request, template, status, **context)

    def audit(request: Request, user: User, action: str, detail: str, code: str | None) -> None:
        web.audit.record(user, action, detail, organisation=code,
                         address=client_address(request))

    def period_of(request: Request) -> str:
        period = request.query_params.get("periode") or portal.current_period()
        definition_for(period)  # unknown: PortalError
        return period

    def other_statistics(desk: Desk, shown: str) -> list[dict[str, Any]]:
        """Every other statistic of the registry at a glance: its own current period, the state
        of its datasets and its next date."""
        found = []
        for statistic in statistics():
            if statistic == shown:
                continue
            period = portal.current_period(statistic)
            try:
                lines = desk.datasets(period)
            except PortalError:
                lines = []  # the hub is away: the focused period's alert says so
            found.append({"definition": definition_for(period), "period": period,
                          "lines": lines, "upcoming": next(
                              (c for c in desk.calendar(period) if c.days_left >= 0), None)})
        return found

    # -- start ---------------------------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request, user: CurrentUser) -> Response:
        if len(user.organisations) == 1:
            return RedirectResponse(f"/gemeente/{user.organisations[0]}", 303)
        if not user.organisations and user.beheerder:
            return RedirectResponse("/beheer", 303)
        choices = [(code, portal.name_of(code), user.role_for(code))
                   for code in user.organisations]
        return render(request, "portal/kies.html", title="Kies een gemeente", choices=choices)

    # -- overview -----------------------------------------------------------------------------

    @router.get("/gemeente/{code}", response_class=HTMLResponse)
    def overview(request: Request, code: str, user: CurrentUser) -> Response:
        desk = access(request, code, user)
        try:
            period = period_of(request)
        except PortalError as e:
            raise NotVisible() from e
        calendar = desk.calendar(period)
        hub_error = None
        try:
            lines = desk.datasets(period)
        except PortalError as e:
            lines, hub_error = [], str(e)
        next_steps = [line for line in lines if line.tone in ("warn", "error")]
        upcoming = next((c for c in calendar if c.days_left >= 0), None)
        uitstel = next((r for r in desk.reports(period) if r.kind is Kind.UITSTEL), None)
        definition = definition_for(period)
        return render(request, "portal/overzicht.html", desk, title=f"Overzicht {period}",
                      period=period, periods=list(definition.periods), definition=definition,
                      others=other_statistics(desk, definition.statistic),
                      calendar=calendar, lines=lines,
                      next_steps=next_steps, upcoming=upcoming, hub_error=hub_error,
                      uitstel=uitstel,
                      reports=desk.reports(period)[:5], uploads=portal.uploads.of(code, 5))

    @router.get("/gemeente/{code}/nieuw", response_class=HTMLResponse)
    def new_reports(request: Request, code: str, user: CurrentUser) -> Response:
        """htmx fragment: the latest reports (the page polls it)."""
        desk = access(request, code, user)
        return render(request, "portal/_rapporten.html", desk,
                      reports=desk.reports(period_of(request))[:5])

    # -- upload -------------------------------------------------------------------------------

    @router.get("/gemeente/{code}/aanleveren", response_class=HTMLResponse)
    def upload_page(request: Request, code: str, user: CurrentUser) -> Response:
        desk = access(request, code, user, act=True)
        period = period_of(request)
        return render(request, "portal/aanleveren.html", desk, title="Aanleveren",
                      period=period, datasets=definition_for(period).datasets,
                      uploads=portal.uploads.of(code, 10),
                      chunk_bytes=portal.settings.upload_chunk_bytes)

    @router.post("/gemeente/{code}/tus")
    def tus_create(request: Request, code: str, user: CurrentUser) -> Response:
        access(request, code, user, act=True)
        try:
            length = int(request.headers.get("Upload-Length", ""))
            meta = parse_metadata(request.headers.get("Upload-Metadata"))
            period = meta.get("periode") or portal.current_period()
            definition = definition_for(period)
            dataset = meta.get("dataset", "")
            if dataset not in {d.name for d in definition.datasets}:
                raise PortalError(f"onbekende dataset {dataset!r}")
            upload = portal.uploads.create(gemeente=code, period=period, dataset=dataset,
                                           file_name=meta.get("filename", "aanlevering.csv"),
                                           size=length, created_by=user.email)
        except (ValueError, PortalError) as e:
            return Response(str(e), 400, headers={"Tus-Resumable": TUS_VERSION})
        audit(request, user, "upload.start",
              f"upload {upload.file_name} ({length} bytes, {dataset}, {period})", code)
        return Response(status_code=201, headers={
            "Location": f"/gemeente/{code}/tus/{upload.id}", "Tus-Resumable": TUS_VERSION,
            "Upload-Offset": "0"})

    def tus_upload(request: Request, code: str, upload_id: str, user: User) -> Upload:
        access(request, code, user, act=True)
        upload = portal.uploads.get(code, upload_id)
        if upload is None:
            raise NotVisible()
        return upload

    @router.head("/gemeente/{code}/tus/{upload_id}")
    def tus_head(request: Request, code: str, upload_id: str,
                 user: CurrentUser) -> Response:
        upload = tus_upload(request, code, upload_id, user)
        return Response(status_code=200, headers={
            "Upload-Offset": str(upload.offset), "Upload-Length": str(upload.size),
            "Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"})

    @router.patch("/gemeente/{code}/tus/{upload_id}")
    async def tus_patch(request: Request, code: str, upload_id: str,
                        user: CurrentUser) -> Response:
        upload = tus_upload(request, code, upload_id, user)
        if request.headers.get("content-type") != "application/offset+octet-stream":
            return Response("Content-Type moet application/offset+octet-stream zijn", 415)
        lock = portal.uploads.lock(upload.id)
        if not lock.acquire(blocking=False):
            return Response("Er loopt al een upload voor dit bestand", 409,
                            headers={"Tus-Resumable": TUS_VERSION})
        try:
            upload = portal.uploads.get(code, upload_id) or upload
            try:
                offset = await portal.uploads.append(
                    upload, int(request.headers.get("Upload-Offset", "-1")), request.stream())
            except PortalError as e:
                status = 409 if str(e) == "offset-mismatch" else 400
                return Response(str(e), status, headers={"Tus-Resumable": TUS_VERSION})
        finally:
            lock.release()
        if offset == upload.size:
            portal.uploads.update(upload.id, state="controleren")
            audit(request, user, "upload.complete", f"upload {upload.file_name} ontvangen", code)
            done = portal.uploads.get(code, upload_id)
            assert done is not None
            # the check and the upload to the hub (all but its last bytes) run side by side
            start_background(lambda: check_upload(portal.uploads, done), f"check-{upload.id}")
            desk = portal.desk(code)
            portal.uploads.stage(upload.id, lambda: desk.stage_upload(
                done, portal.uploads.path(done)))
        return Response(status_code=204, headers={"Upload-Offset": str(offset),
                                                  "Tus-Resumable": TUS_VERSION})

    @router.get("/gemeente/{code}/aanleveren/{upload_id}", response_class=HTMLResponse)
    def upload_result(request: Request, code: str, upload_id: str,
                      user: CurrentUser) -> Response:
        desk = access(request, code, user)
        upload = portal.uploads.get(code, upload_id)
        if upload is None:
            raise NotVisible()
        template = "portal/_upload_stand.html" if request.headers.get("HX-Request") \
            else "portal/upload.html"
        return render(request, template, desk, title=f"Aanlevering {upload.file_name}",
                      upload=upload)

    @router.post("/gemeente/{code}/aanleveren/{upload_id}/versturen")
    async def upload_send(request: Request, code: str, upload_id: str,
                          user: CurrentUser) -> Response:
        desk = access(request, code, user, act=True)
        upload = portal.uploads.get(code, upload_id)
        if upload is None:
            raise NotVisible()
        form = await request.form()
        if upload.state != "gecontroleerd":
            web.flash(request, "Deze aanlevering kan nu niet worden verstuurd.", "warning")
            return RedirectResponse(f"/gemeente/{code}/aanleveren/{upload_id}", 303)
        if upload.verdict != "goedgekeurd" and form.get("toch") != "ja":
            web.flash(request, "Het bestand bevat fouten. Kruis aan dat u het toch wilt "
                               "versturen, of lever een verbeterd bestand aan.", "error")
            return RedirectResponse(f"/gemeente/{code}/aanleveren/{upload_id}", 303)
        portal.uploads.update(upload.id, state="versturen", sent_bytes=0)
        audit(request, user, "aanlevering.send",
              f"aanlevering {upload.dataset} {upload.period} ({upload.file_name}, lokaal "
              f"{upload.verdict}) naar CBS verstuurd", code)
        path = portal.uploads.path(upload)

        def send() -> None:
            def progress(_name: str, done: int, _total: int) -> None:
                portal.uploads.update(upload.id, sent_bytes=done)
            try:
                message_id = desk.send_upload(upload, user.email, path, progress,
                                              sha256=portal.uploads.staged(upload.id))
            except PortalError as e:
                portal.uploads.update(upload.id, state="mislukt", error=str(e))
                return
            portal.uploads.update(upload.id, state="verstuurd", message_id=message_id,
                                  sent_bytes=upload.size)
            shutil.rmtree(path.parent, ignore_errors=True)

        start_background(send, f"send-{upload.id}")
        return RedirectResponse(f"/gemeente/{code}/aanleveren/{upload_id}", 303)

    # -- reports ------------------------------------------------------------------------------

    @router.get("/gemeente/{code}/rapporten", response_class=HTMLResponse)
    def reports(request: Request, code: str, user: CurrentUser) -> Response:
        desk = access(request, code, user)
        return render(request, "portal/rapporten.html", desk, title="Rapporten",
                      reports=desk.reports())

    def stored(desk: Desk, period: str, dataset: str, folder: str) -> StoredReport:
        try:
            return desk.report(f"{period}/{dataset}/{folder}")
        except PortalError as e:
            raise NotVisible() from e

    @router.get("/gemeente/{code}/rapporten/{period}/{dataset}/{folder}",
                response_class=HTMLResponse)
    def report_page(request: Request, code: str, period: str, dataset: str, folder: str,
                    user: CurrentUser) -> Response:
        desk = access(request, code, user)
        report = stored(desk, period, dataset, folder)
        content: dict[str, Any] = {}
        for name in ("report.json", "spiegelrapport.json"):
            path = report.directory / name
            if path.is_file():
                content = json.loads(path.read_text("utf-8"))
        comments = {}
        for row in desk.sent("toelichting", report.key):
            comments.setdefault(row.subject, []).append(row)
        return render(request, "portal/rapport.html", desk, title=report.title, report=report,
                      content=content, comments=comments)

    @router.get("/gemeente/{code}/rapporten/{period}/{dataset}/{folder}/bestand/{name}")
    def report_file(request: Request, code: str, period: str, dataset: str, folder: str,
                    name: str, user: CurrentUser) -> Response:
        desk = access(request, code, user)
        report = stored(desk, period, dataset, folder)
        if name == "report.pdf" and "report.html" in report.files:
            return _technical_pdf(report)
        if name == "spiegelrapport.csv" and "spiegelrapport.json" in report.files:
            return _mirror_csv(report)
        if name not in report.files:
            raise NotVisible()
        return FileResponse(report.directory / name, filename=name,
                            content_disposition_type="attachment")

    @router.post("/gemeente/{code}/rapporten/{period}/{dataset}/{folder}/toelichting")
    async def flag_comment(request: Request, code: str, period: str, dataset: str, folder: str,
                           user: CurrentUser) -> Response:
        desk = access(request, code, user, act=True)
        report = stored(desk, period, dataset, folder)
        form = await request.form()
        indicator, soort = str(form.get("indicator") or ""), str(form.get("soort") or "")
        flags = json.loads((report.directory / "spiegelrapport.json").read_text("utf-8")).get(
            "flags", []) if "spiegelrapport.json" in report.files else []
        if not any(f.get("indicator") == indicator and f.get("soort") == soort for f in flags):
            raise NotVisible()
        try:
            desk.send_flag_comment(report, indicator, soort, str(form.get("toelichting") or ""),
                                   user.email)
        except PortalError as e:
            web.flash(request, str(e), "error")
        else:
            audit(request, user, "spiegelrapport.toelichting",
                  f"toelichting op signaal {indicator} ({soort}) naar CBS verstuurd", code)
            web.flash(request, f"Uw toelichting bij {indicator} is verstuurd naar CBS.")
        return RedirectResponse(f"/gemeente/{code}/rapporten/{report.key}#signaal-{indicator}",
                                303)

    # -- versions -----------------------------------------------------------------------------

    @router.get("/gemeente/{code}/versies", response_class=HTMLResponse)
    def versions(request: Request, code: str, user: CurrentUser) -> Response:
        desk = access(request, code, user)
        period = period_of(request)
        dataset = request.query_params.get("dataset") or definition_for(period).required_dataset
        datasets = definition_for(period).datasets
        if dataset not in {d.name for d in datasets}:
            raise NotVisible()
        history = []
        previous: dict[str, Any] | None = None
        for report, content in technical_reports(desk, period, dataset):
            history.append({"report": report, "content": content,
                            "verschillen": finding_differences(previous, content),
                            "eerste": previous is None})
            previous = content
        history.reverse()
        return render(request, "portal/versies.html", desk, title="Versies", period=period,
                      dataset=dataset, datasets=datasets, history=history)

    # -- besluit ------------------------------------------------------------------------------

    @router.get("/gemeente/{code}/besluit", response_class=HTMLResponse)
    def besluit_page(request: Request, code: str, user: CurrentUser) -> Response:
        desk = access(request, code, user)
        period = period_of(request)
        definition = definition_for(period)
        return render(request, "portal/besluit.html", desk, title="Besluit", period=period,
                      deadline=definition.calendar(period).events["besluit_deadline"],
                      definition=definition, earlier=desk.sent("besluit"))

    @router.post("/gemeente/{code}/besluit", response_class=HTMLResponse)
    async def besluit(request: Request, code: str, user: CurrentUser) -> Response:
        desk = access(request, code, user, act=True)
        form = await request.form()
        period = str(form.get("periode") or portal.current_period())
        choice = str(form.get("besluit") or "")
        toelichting = str(form.get("toelichting") or "").strip()[:2000]
        deadline = definition_for(period).calendar(period).events["besluit_deadline"]
        if choice not in ("opt-in", "intrekken"):
            return render(request, "portal/besluit.html", desk, 400, title="Besluit",
                          period=period, deadline=deadline, earlier=desk.sent("besluit"),
                          definition=definition_for(period),
                          error="Kies opt-in of intrekken.")
        if form.get("bevestigd") != "ja":
            return render(request, "portal/besluit_bevestigen.html", desk,
                          title="Besluit bevestigen", period=period, besluit=choice,
                          toelichting=toelichting, deadline=deadline)
        try:
            desk.send_besluit(period, choice, toelichting, user.email)
        except PortalError as e:
            web.flash(request, str(e), "error")
            return RedirectResponse(f"/gemeente/{code}/besluit", 303)
        audit(request, user, f"besluit.{choice}", f"besluit {choice} voor {period} verstuurd",
              code)
        web.flash(request, f"Uw besluit ({choice}) voor {period} is verstuurd naar CBS. U ziet "
                           "de bevestiging van CBS bij de rapporten.")
        return RedirectResponse(f"/gemeente/{code}", 303)

    # -- extension ----------------------------------------------------------------------------

    @router.get("/gemeente/{code}/uitstel", response_class=HTMLResponse)
    def extension_page(request: Request, code: str, user: CurrentUser) -> Response:
        desk = access(request, code, user)
        period = period_of(request)
        return render(request, "portal/uitstel.html", desk, title="Uitstel aanvragen",
                      period=period, datasets=definition_for(period).datasets,
                      deadline=definition_for(period).calendar(period).events[
                          "aanlevering_sluit"], earlier=desk.sent("uitstelverzoek"))

    @router.post("/gemeente/{code}/uitstel")
    async def extension(request: Request, code: str, user: CurrentUser) -> Response:
        desk = access(request, code, user, act=True)
        form = await request.form()
        period = str(form.get("periode") or portal.current_period())
        dataset = str(form.get("dataset") or definition_for(period).required_dataset)
        try:
            until = dt.date.fromisoformat(str(form.get("tot") or ""))
        except ValueError:
            web.flash(request, "Vul een geldige datum in.", "error")
            return RedirectResponse(f"/gemeente/{code}/uitstel", 303)
        try:
            desk.request_extension(period, dataset, until, str(form.get("reden") or ""),
                                   user.email)
        except PortalError as e:
            web.flash(request, str(e), "error")
            return RedirectResponse(f"/gemeente/{code}/uitstel", 303)
        audit(request, user, "uitstel.request",
              f"uitstel gevraagd voor {dataset} {period} tot {until.isoformat()}", code)
        web.flash(request, f"Uw verzoek om uitstel tot {until:%d-%m-%Y} is verstuurd naar CBS.")
        return RedirectResponse(f"/gemeente/{code}", 303)

    # -- audit trail --------------------------------------------------------------------------

    @router.get("/gemeente/{code}/logboek", response_class=HTMLResponse)
    def gemeente_log(request: Request, code: str, user: CurrentUser) -> Response:
        desk = access(request, code, user)
        return render(request, "portal/logboek.html", desk, title="Logboek",
                      entries=web.audit.entries(organisation=code))

    @router.get("/beheer", response_class=HTMLResponse)
    def admin(request: Request, user: CurrentUser) -> Response:
        if not user.beheerder:
            raise NotVisible()
        return render(request, "portal/beheer.html", title="Beheer", users=web.accounts.all(),
                      connections=portal.connections(), entries=web.audit.entries(limit=100))

    return router


def _technical_pdf(report: StoredReport) -> Response:
    pdf = report.directory / "report.pdf.cache"
    if not pdf.is_file():
        from weasyprint import HTML

        HTML(string=(report.directory / "report.html").read_text("utf-8")).write_pdf(str(pdf))
    return FileResponse(pdf, media_type="application/pdf", filename="technisch-controlerapport.pdf",
                        content_disposition_type="attachment")


def _mirror_csv(report: StoredReport) -> Response:
    data = json.loads((report.directory / "spiegelrapport.json").read_text("utf-8"))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["code", "indicator", "eenheid", "eigen", "vorige_periode",
                     "verandering_procent", "landelijk", "signalen"])
    for entry in data.get("indicators", []):
        writer.writerow([entry.get("code"), entry.get("naam"), entry.get("eenheid"),
                         entry.get("eigen"), entry.get("vorige_periode"),
                         entry.get("verandering_procent"), entry.get("landelijk"),
                         " ".join(entry.get("signalen") or [])])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="spiegelrapport.csv"'})

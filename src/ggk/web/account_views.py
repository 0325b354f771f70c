"""Pages of the web foundation for accounts: 'Mijn account' for every logged-in person (change the
password, turn two-step login with TOTP on or off) and the beheerder's account administration
(list, add for a gemeente with a role, disable, reset TOTP). Every POST carries the CSRF token
(checked by the app before any route code), is audited, and guessing a password or code counts
towards the login rate limit of the account and the address."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from ggk.web import accounts as service
from ggk.web.app import CurrentUser, NotVisible, WebFoundation, client_address, web_of
from ggk.web.interfaces import (
    MEMBERSHIP_ROLES,
    AccountError,
    LoginRefused,
    TooManyAttempts,
    User,
)

ACCOUNT = "/mijn-account"
ADMIN = "/beheer/accounts"
TOO_SHORT = (f"Het nieuwe wachtwoord is te kort: gebruik minstens "
             f"{service.PASSWORD_MIN_LENGTH} tekens.")
WRONG_CODE = "Deze code klopt niet of is al gebruikt. Gebruik de nieuwste code uit uw app."
# the gemeenten a beheerder may give accounts for: (gemeentecode, name)
Organisations = Callable[[], Sequence[tuple[str, str]]]


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def account_router() -> APIRouter:
    router = APIRouter()

    def page(request: Request, user: User, status: int = 200, **context: Any) -> HTMLResponse:
        web = web_of(request)
        setup = request.state.session.data.get("totp_setup")
        qr = None
        if setup and not user.totp_enabled:
            uri = service.provisioning_uri(setup, user.email)
            qr = Markup(segno.make(uri, error="m").svg_inline(
                scale=5, light="#fff", title="QR-code voor uw authenticator-app"))
            context.update(secret=setup, uri=uri)
        return web.render(request, "web/account.html", status, title="Mijn account", qr=qr,
                          has_password=web.accounts.has_password(user.id),
                          min_length=service.PASSWORD_MIN_LENGTH, **context)

    def guessed_wrong(web: WebFoundation, request: Request, user: User, action: str,
                      detail: str) -> None:
        web.limiter.failed(user.email, client_address(request))
        web.audit.record(user, action, detail, address=client_address(request))

    async def code_refused(request: Request, user: User, what: str, error_key: str,
                           accepts: Callable[[str], bool]) -> HTMLResponse | None:
        """The page with an error when the form's code is refused (or too many were), else
        None; a wrong code counts towards the login rate limit."""
        web = web_of(request)
        form = await request.form()
        try:
            web.limiter.check(user.email, client_address(request))
        except TooManyAttempts as e:
            return page(request, user, 429, **{error_key: str(e)})
        if accepts(_field(form, "code")):
            return None
        guessed_wrong(web, request, user, "account.totp-refused",
                      f"onjuiste code bij {what} tweestapsverificatie")
        return page(request, user, 400, **{error_key: WRONG_CODE})

    @router.get(ACCOUNT, response_class=HTMLResponse)
    def account(request: Request, user: CurrentUser) -> Response:
        return page(request, user)

    @router.post(f"{ACCOUNT}/wachtwoord")
    async def change_password(request: Request, user: CurrentUser) -> Response:
        web = web_of(request)
        form = await request.form()
        current, new = _field(form, "huidig"), _field(form, "nieuw")
        address = client_address(request)
        if len(new) < service.PASSWORD_MIN_LENGTH:
            return page(request, user, 400, password_error=TOO_SHORT)
        if new != _field(form, "herhaal"):
            return page(request, user, 400,
                        password_error="De twee nieuwe wachtwoorden zijn niet gelijk.")
        try:
            web.limiter.check(user.email, address)
            web.accounts.change_password(user.id, current, new)
        except TooManyAttempts as e:
            return page(request, user, 429, password_error=str(e))
        except LoginRefused as e:
            guessed_wrong(web, request, user, "account.password-refused",
                          "huidig wachtwoord onjuist")
            return page(request, user, 400, password_error=str(e))
        ended = web.sessions.end_all_for(user.id, keep=request.state.session)
        web.audit.record(user, "account.password-change",
                         f"wachtwoord gewijzigd; {ended} andere sessie(s) beëindigd",
                         address=address)
        web.flash(request, "Uw wachtwoord is gewijzigd. U bent op andere apparaten uitgelogd.")
        return RedirectResponse(ACCOUNT, 303)

    @router.post(f"{ACCOUNT}/tweestaps/starten")
    def totp_start(request: Request, user: CurrentUser) -> Response:
        web = web_of(request)
        if not user.totp_enabled:
            session = request.state.session
            session.data["totp_setup"] = service.new_totp_secret()
            web.sessions.save_data(session)
        return RedirectResponse(f"{ACCOUNT}#tweestaps", 303)

    @router.post(f"{ACCOUNT}/tweestaps/bevestigen")
    async def totp_confirm(request: Request, user: CurrentUser) -> Response:
        web = web_of(request)
        session = request.state.session
        secret = session.data.get("totp_setup")
        if user.totp_enabled or not secret:
            return RedirectResponse(ACCOUNT, 303)
        refused = await code_refused(request, user, "aanzetten", "totp_error",
                                     lambda code: web.accounts.confirm_totp(user.id, secret, code))
        if refused is not None:
            return refused
        session.data.pop("totp_setup")
        web.sessions.save_data(session)
        web.audit.record(user, "account.totp-on", "tweestapsverificatie aangezet",
                         address=client_address(request))
        web.flash(request, "Inloggen in twee stappen staat aan. U vult voortaan bij het "
                           "inloggen ook een code uit uw app in.")
        return RedirectResponse(ACCOUNT, 303)

    @router.post(f"{ACCOUNT}/tweestaps/uitzetten")
    async def totp_off(request: Request, user: CurrentUser) -> Response:
        web = web_of(request)
        if not user.totp_enabled:
            return RedirectResponse(ACCOUNT, 303)
        refused = await code_refused(request, user, "uitzetten", "totp_off_error",
                                     lambda code: web.accounts.verify_totp(user.id, code))
        if refused is not None:
            return refused
        web.accounts.disable_totp(user.id)
        web.audit.record(user, "account.totp-off", "tweestapsverificatie uitgezet",
                         address=client_address(request))
        web.flash(request, "Inloggen in twee stappen staat uit.")
        return RedirectResponse(ACCOUNT, 303)

    return router


def accounts_admin_router(organisations: Organisations) -> APIRouter:
    """The beheerder's account pages; anyone else gets 'not found', as for other hidden pages."""
    router = APIRouter()

    def beheerder(user: User) -> None:
        if not user.beheerder:
            raise NotVisible()

    def target(web: WebFoundation, account_id: int) -> User:
        found = web.accounts.get(account_id)
        if found is None:
            raise NotVisible()
        return found

    def page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
        web = web_of(request)
        return web.render(request, "web/accounts_beheer.html", status, title="Accounts",
                          users=web.accounts.all(), organisations=list(organisations()),
                          roles=MEMBERSHIP_ROLES, min_length=service.PASSWORD_MIN_LENGTH,
                          **context)

    @router.get(ADMIN, response_class=HTMLResponse)
    def list_accounts(request: Request, user: CurrentUser) -> Response:
        beheerder(user)
        return page(request)

    @router.post(ADMIN)
    async def add(request: Request, user: CurrentUser) -> Response:
        beheerder(user)
        web = web_of(request)
        form = await request.form()
        values = {k: _field(form, k) for k in ("email", "naam", "wachtwoord", "gemeente", "rol")}
        codes = {code for code, _name in organisations()}
        errors = []
        if "@" not in values["email"]:
            errors.append("Vul een geldig e-mailadres in.")
        elif web.accounts.by_email(values["email"]) is not None:
            errors.append("Er is al een account met dit e-mailadres.")
        if not values["naam"].strip():
            errors.append("Vul de naam in.")
        if values["wachtwoord"] and len(values["wachtwoord"]) < service.PASSWORD_MIN_LENGTH:
            errors.append(f"Het wachtwoord is te kort: gebruik minstens "
                          f"{service.PASSWORD_MIN_LENGTH} tekens, of laat het leeg voor "
                          "inloggen via de inlogdienst.")
        if values["gemeente"] not in codes:
            errors.append("Kies een aangesloten gemeente.")
        if values["rol"] not in MEMBERSHIP_ROLES:
            errors.append("Kies een rol: medewerker of alleen-lezen.")
        if not errors:
            role = values["rol"]
            try:
                created = service.add_account(
                    web.accounts, web.audit, user, values["email"], values["naam"].strip(),
                    values["wachtwoord"] or None,
                    memberships=service.memberships_for(
                        [values["gemeente"]] if role == "medewerker" else [],
                        [values["gemeente"]] if role == "alleen-lezen" else []),
                    address=client_address(request))
            except AccountError as e:
                errors.append(str(e))
            else:
                web.flash(request, f"Account {created.email} is aangemaakt.")
                return RedirectResponse(ADMIN, 303)
        values.pop("wachtwoord")
        return page(request, 400, errors=errors, values=values)

    @router.post(ADMIN + "/{account_id}/uitschakelen")
    def disable(request: Request, account_id: int, user: CurrentUser) -> Response:
        beheerder(user)
        web = web_of(request)
        found = target(web, account_id)
        if found.id == user.id:
            return page(request, 400, errors=["U kunt uw eigen account niet uitschakelen."])
        service.disable_account(web.accounts, web.audit, web.sessions.end_all_for, user, found,
                                address=client_address(request))
        web.flash(request, f"Account {found.email} is uitgeschakeld.")
        return RedirectResponse(ADMIN, 303)

    @router.post(ADMIN + "/{account_id}/tweestaps-herstellen")
    def totp_reset(request: Request, account_id: int, user: CurrentUser) -> Response:
        beheerder(user)
        web = web_of(request)
        found = target(web, account_id)
        service.reset_totp(web.accounts, web.audit, user, found,
                           address=client_address(request))
        web.flash(request, f"Tweestapsverificatie van {found.email} staat uit; de gebruiker "
                           "kan die op 'Mijn account' opnieuw instellen.")
        return RedirectResponse(ADMIN, 303)

    return router

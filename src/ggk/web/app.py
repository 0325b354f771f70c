"""The web foundation's app factory: database, accounts, sessions, CSRF, login (password + TOTP,
OpenID Connect), security headers, static assets and the base layout.

An application (the portal, later the CBS dashboard) builds a `WebFoundation`, adds its routers
and template folder, and uses the dependencies `current_user` / `current_session` in its routes.
Every non-GET request must carry the session's CSRF token (form field `csrf_token` or header
`X-CSRF-Token`); the check runs before any route code.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from ggk.database import create_engine
from ggk.web import tables
from ggk.web.accounts import AccountStore
from ggk.web.audit import AuditTrail
from ggk.web.interfaces import (
    CsrfRefused,
    InternalRole,
    LoginRefused,
    Mailer,
    TooManyAttempts,
    User,
)
from ggk.web.mail import NoMailer
from ggk.web.migrations import MIGRATIONS
from ggk.web.oidc import OidcSettings
from ggk.web.ratelimit import LoginLimiter
from ggk.web.sessions import COOKIE_NAME, SessionStore, WebSession

HERE = Path(__file__).resolve().parent
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Browser files from npm (package.json at the repository root, installed by `make install` with
# `npm ci`), served under /assets/ by exact name only.
ASSETS = {
    "utrecht-tokens.css": "@utrecht/design-tokens/dist/index.css",
    "utrecht.css": "@utrecht/component-library-css/dist/index.css",
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "tus.min.js": "tus-js-client/dist/tus.min.js",
}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")


class LoginRequired(Exception):
    """Raised by `current_user` when nobody is logged in: the app redirects to the login page."""


class NotVisible(Exception):
    """The page exists but not for this user: answered exactly like a page that does not exist."""


def find_assets_dir() -> Path:
    """node_modules with the portal's npm packages: $GGK_WEB_ASSETS, else the checkout's."""
    configured = os.environ.get("GGK_WEB_ASSETS")
    candidates = [Path(configured)] if configured else [
        parent / "node_modules" for parent in HERE.parents]
    for candidate in candidates:
        if (candidate / ASSETS["utrecht.css"]).is_file():
            return candidate
    raise RuntimeError(
        "the web assets (npm packages) are not installed: run `make install` (npm ci) in the "
        "ggk checkout, or point GGK_WEB_ASSETS at a node_modules folder that has them")


@dataclass
class WebConfig:
    database_url: str
    title: str
    oidc: OidcSettings | None = None
    assets_dir: Path | None = None
    template_dirs: Sequence[Path] = ()
    static_dir: Path | None = None  # the application's own /static/app/ files
    home: str = "/"
    # an internal application (CBS dashboard, operator console): only accounts with this role
    # may log in, and a session of any other account counts as not logged in
    required_role: InternalRole | None = None


@dataclass
class WebFoundation:
    config: WebConfig
    mailer: Mailer = field(default_factory=NoMailer)

    def __post_init__(self) -> None:
        self.engine = create_engine(self.config.database_url, max_overflow=40)
        self.accounts = AccountStore(self.engine)
        self.audit = AuditTrail(self.engine)
        self.limiter = LoginLimiter(self.engine)
        self.sessions = SessionStore(self.engine)
        self.assets_dir = self.config.assets_dir or find_assets_dir()
        loaders = [FileSystemLoader(str(d)) for d in self.config.template_dirs]
        loaders.append(FileSystemLoader(str(HERE / "templates")))
        self.templates = Environment(loader=ChoiceLoader(loaders),
                                     autoescape=select_autoescape(["html"]))
        self.templates.globals["site_title"] = self.config.title
        self.templates.globals["oidc_label"] = self.config.oidc.label if self.config.oidc else None

    def admits(self, user: User) -> bool:
        """Whether this application lets `user` in (the required internal role, if any)."""
        role = self.config.required_role
        return role is None or user.has_internal_role(role)

    def refuse_unless_admitted(self, user: User) -> None:
        """LoginRefused (Dutch) for an account this application does not let in."""
        if not self.admits(user):
            raise LoginRefused(f"Dit account heeft geen toegang tot {self.config.title}.")

    def migrate(self) -> None:
        """Bring the web_* tables to ggk.web's newest Alembic revision."""
        MIGRATIONS.migrate(self.engine)

    # -- rendering ---------------------------------------------------------------------------

    def render(self, request: Request, template: str, status_code: int = 200,
               **context: Any) -> HTMLResponse:
        session: WebSession | None = getattr(request.state, "session", None)
        user: User | None = getattr(request.state, "user", None)
        flash = None
        if session is not None and "flash" in session.data:
            flash = session.data.pop("flash")
            self.sessions.save_data(session)
        html = self.templates.get_template(template).render(
            request=request, user=user, csrf_token=session.csrf_token if session else "",
            flash=flash, path=request.url.path, **context)
        return HTMLResponse(html, status_code=status_code)

    def flash(self, request: Request, text: str, kind: str = "ok") -> None:
        session: WebSession = request.state.session
        session.data["flash"] = {"text": text, "kind": kind}
        self.sessions.save_data(session)

    # -- the application ---------------------------------------------------------------------

    def create_app(self, routers: Sequence[APIRouter]) -> FastAPI:
        from ggk.web.account_views import account_router

        app = FastAPI(title=self.config.title, docs_url=None, redoc_url=None, openapi_url=None,
                      dependencies=[Depends(csrf_protect)])
        app.state.web = self
        app.middleware("http")(self._session_middleware)
        app.include_router(login_router())
        app.include_router(account_router())
        for router in routers:
            app.include_router(router)
        app.mount("/static/web", StaticFiles(directory=HERE / "static"), name="web-static")
        if self.config.static_dir is not None:
            app.mount("/static/app", StaticFiles(directory=self.config.static_dir),
                      name="app-static")

        @app.get("/assets/{name}", include_in_schema=False)
        def asset(name: str) -> FileResponse:
            if name not in ASSETS:
                raise StarletteHTTPException(404)
            return FileResponse(self.assets_dir / ASSETS[name],
                                headers={"Cache-Control": "public, max-age=86400"})

        @app.exception_handler(LoginRequired)
        def _login(request: Request, _exc: LoginRequired) -> Response:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            if request.method not in SAFE_METHODS or request.headers.get("HX-Request"):
                return self.render(request, "web/error.html", 401, title="Niet ingelogd",
                                   message="Uw sessie is verlopen. Log opnieuw in.")
            return RedirectResponse(f"/inloggen?volgende={quote(target)}", 303)

        @app.exception_handler(CsrfRefused)
        def _csrf(request: Request, _exc: CsrfRefused) -> Response:
            return self.render(request, "web/error.html", 403, title="Verzoek geweigerd",
                               message="Dit verzoek kwam niet van een formulier van deze site "
                                       "of uw sessie is verlopen. Laad de pagina opnieuw en "
                                       "probeer het nog eens.")

        @app.exception_handler(NotVisible)
        def _hidden(request: Request, _exc: NotVisible) -> Response:
            return self.render(request, "web/error.html", 404, title="Pagina niet gevonden",
                               message="Deze pagina bestaat niet of is niet voor u.")

        @app.exception_handler(StarletteHTTPException)
        def _http(request: Request, exc: StarletteHTTPException) -> Response:
            if exc.status_code == 404:
                return _hidden(request, NotVisible())
            return self.render(request, "web/error.html", exc.status_code, title="Fout",
                               message=str(exc.detail))

        return app

    async def _session_middleware(self, request: Request, call_next: Any) -> Response:
        session = self.sessions.load(request.cookies.get(COOKIE_NAME))
        request.state.session = session
        request.state.user = None
        if session is not None and session.account_id is not None:
            user = self.accounts.get(session.account_id)
            if user is None or not user.active or not self.admits(user):
                self.sessions.end(session)
                request.state.session = None
            else:
                request.state.user = user
        response: Response = await call_next(request)
        current: WebSession | None = request.state.session
        if current is not None and current.new and not current.ended:
            response.set_cookie(COOKIE_NAME, current.cookie, secure=True, httponly=True,
                                samesite="lax", path="/")
        elif current is not None and current.ended or (
                current is None and COOKIE_NAME in request.cookies):
            response.delete_cookie(COOKIE_NAME, secure=True, httponly=True, samesite="lax",
                                   path="/")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response


# -- dependencies --------------------------------------------------------------------------------


def web_of(request: Request) -> WebFoundation:
    return request.app.state.web  # type: ignore[no-any-return]


def ensure_session(request: Request) -> WebSession:
    """The request's session, started (anonymous) when there is none yet."""
    session: WebSession | None = request.state.session
    if session is None or session.ended:
        session = web_of(request).sessions.start()
        request.state.session = session
    return session


def current_session(request: Request) -> WebSession:
    return ensure_session(request)


def current_user(request: Request) -> User:
    user: User | None = request.state.user
    if user is None:
        raise LoginRequired()
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request that does not carry this session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    session: WebSession | None = request.state.session
    sent = request.headers.get("X-CSRF-Token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if session is None or not sent or not secrets.compare_digest(sent, session.csrf_token):
        raise CsrfRefused()


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a local path may be the target after login (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


# -- login routes --------------------------------------------------------------------------------


def login_router() -> APIRouter:
    router = APIRouter()

    @router.get("/inloggen", response_class=HTMLResponse)
    def login_page(request: Request, volgende: str | None = None) -> Response:
        web = web_of(request)
        if request.state.user is not None:
            return RedirectResponse(safe_next(volgende, web.config.home), 303)
        session = ensure_session(request)
        if volgende:
            session.data["next"] = safe_next(volgende, web.config.home)
            web.sessions.save_data(session)
        return web.render(request, "web/login.html", title="Inloggen")

    @router.post("/inloggen")
    async def login(request: Request) -> Response:
        web = web_of(request)
        form = await request.form()
        email = str(form.get("email") or "").strip()
        password = str(form.get("wachtwoord") or "")
        address = client_address(request)
        try:
            web.limiter.check(email, address)
            user = web.accounts.verify_password(email, password)
            web.refuse_unless_admitted(user)
        except (LoginRefused, TooManyAttempts) as e:
            if isinstance(e, LoginRefused):
                web.limiter.failed(email, address)
            web.audit.record(None, "login.refused", type(e).__name__, email=email[:320],
                             address=address)
            return web.render(request, "web/login.html", 429 if isinstance(
                e, TooManyAttempts) else 400, title="Inloggen", error=str(e), email=email)
        session: WebSession = request.state.session
        if user.totp_enabled:
            request.state.session = web.sessions.rotate(session, account_id=None,
                                                        pending_account_id=user.id)
            return RedirectResponse("/inloggen/code", 303)
        return _logged_in(request, user, "wachtwoord")

    @router.get("/inloggen/code", response_class=HTMLResponse)
    def totp_page(request: Request) -> Response:
        session: WebSession | None = request.state.session
        if session is None or session.pending_account_id is None:
            return RedirectResponse("/inloggen", 303)
        return web_of(request).render(request, "web/totp.html", title="Inlogcode")

    @router.post("/inloggen/code")
    async def totp(request: Request) -> Response:
        web = web_of(request)
        session: WebSession = request.state.session
        if session.pending_account_id is None:
            return RedirectResponse("/inloggen", 303)
        user = web.accounts.get(session.pending_account_id)
        form = await request.form()
        address = client_address(request)
        assert user is not None
        try:
            web.limiter.check(user.email, address)
        except TooManyAttempts as e:
            return web.render(request, "web/totp.html", 429, title="Inlogcode", error=str(e))
        if not web.accounts.verify_totp(user.id, str(form.get("code") or "")):
            web.limiter.failed(user.email, address)
            web.audit.record(user, "login.totp-refused", "onjuiste code", address=address)
            return web.render(request, "web/totp.html", 400, title="Inlogcode",
                              error="Deze code klopt niet of is al gebruikt. Gebruik de "
                                    "nieuwste code uit uw app.")
        return _logged_in(request, user, "wachtwoord en code")

    @router.post("/uitloggen")
    def logout(request: Request, user: CurrentUser) -> Response:
        web = web_of(request)
        web.audit.record(user, "logout", "uitgelogd", address=client_address(request))
        web.sessions.end(request.state.session)
        request.state.session = web.sessions.start()
        web.flash(request, "U bent uitgelogd.")
        return RedirectResponse("/inloggen", 303)

    @router.get("/inloggen/oidc")
    def oidc_start(request: Request) -> Response:
        from ggk.web import oidc

        web = web_of(request)
        if web.config.oidc is None:
            raise StarletteHTTPException(404)
        session = ensure_session(request)
        url, kept = oidc.start(web.config.oidc)
        session.data["oidc"] = kept
        web.sessions.save_data(session)
        return RedirectResponse(url, 303)

    @router.get("/inloggen/oidc/terug")
    def oidc_callback(request: Request) -> Response:
        from ggk.web import oidc

        web = web_of(request)
        if web.config.oidc is None:
            raise StarletteHTTPException(404)
        session = ensure_session(request)
        kept = session.data.pop("oidc", {})
        web.sessions.save_data(session)
        try:
            identity = oidc.finish(web.config.oidc, kept, dict(request.query_params))
            user = web.accounts.by_oidc(identity.issuer, identity.subject)
            if user is None and identity.email and identity.email_verified:
                user = web.accounts.by_email(identity.email)
                if user is not None and user.active:
                    web.accounts.link_oidc(user.id, identity.issuer, identity.subject)
            if user is None or not user.active:
                raise LoginRefused("U bent bij de inlogdienst bekend, maar heeft geen account "
                                   "in dit portaal. Vraag de beheerder om toegang.")
            web.refuse_unless_admitted(user)
        except LoginRefused as e:
            web.audit.record(None, "login.oidc-refused", str(e), address=client_address(request))
            return web.render(request, "web/login.html", 403, title="Inloggen", error=str(e))
        return _logged_in(request, user, "inlogdienst")

    return router


def _logged_in(request: Request, user: User, how: str) -> Response:
    web = web_of(request)
    old: WebSession = request.state.session
    target = safe_next(old.data.get("next"), web.config.home)
    request.state.session = web.sessions.rotate(old, account_id=user.id)
    if request.state.session.data.pop("next", None) is not None:
        web.sessions.save_data(request.state.session)
    request.state.user = user
    web.limiter.succeeded(user.email)
    web.audit.record(user, "login", f"ingelogd ({how})", address=client_address(request))
    return RedirectResponse(target, 303)


def count_sessions(engine: sa.Engine) -> int:
    """Live session rows (for tests and the operator)."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(tables.sessions))
                   .scalar_one())


def create_internal_account(data_dir: Path, database_url: str | None, app_name: str,
                            email: str, name: str, password: str | None, role: str) -> User:
    """An account of the operator's own staff (organisation `intern`, `role`) in the web app
    `app_name` (its SQLite file `<data_dir>/<app_name>.db` unless `database_url`); AccountError
    when it cannot be made. Used by `ggk dashboard user add` and `ggk console user add`."""
    from ggk.web.interfaces import INTERNAL, Membership

    data_dir.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{(data_dir / f'{app_name}.db').resolve()}"
    web = WebFoundation(WebConfig(database_url=url, title=app_name))
    web.migrate()
    try:
        return web.accounts.create(email, name, password,
                                   memberships=[Membership(INTERNAL, role)])
    finally:
        web.engine.dispose()

"""CLI: `ggk portal serve|migrate|gemeente add|user add|totp|disable` (operators: English)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ggk.web.interfaces import User

portal_app = typer.Typer(help="The municipality portal (web) run by the hub operator.",
                         no_args_is_help=True)
gemeente_app = typer.Typer(help="Which certificate the portal uses for a gemeente.",
                           no_args_is_help=True)
user_app = typer.Typer(help="Portal accounts.", no_args_is_help=True)
portal_app.add_typer(gemeente_app, name="gemeente")
portal_app.add_typer(user_app, name="user")

DataDir = Annotated[Path, typer.Option("--data-dir", help="Portal data folder.")]
Hub = Annotated[str, typer.Option("--hub", envvar="GGK_HUB", help="Hub URL.")]
Ca = Annotated[Path, typer.Option("--ca", envvar="GGK_CA", help="CA PEM the hub's TLS uses.")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", envvar="GGK_PORTAL_DATABASE_URL",
    help="SQLAlchemy URL (default SQLite portal.db in --data-dir).")]


def _fail(message: str) -> typer.Exit:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]Error:[/] {message}")
    return typer.Exit(2)


def _portal(data_dir: Path, hub: str, ca: Path, database_url: str | None, **extra: Any) -> Any:
    from ggk.portal.app import Portal, PortalSettings

    portal = Portal(PortalSettings(data_dir=data_dir, hub=hub, ca=ca, database_url=database_url,
                                   **extra))
    portal.migrate()
    return portal


@contextmanager
def _account(email: str, data_dir: Path, hub: str, ca: Path, database_url: str | None
             ) -> Iterator[tuple[Any, User]]:
    """The portal (closed afterwards) and its account with this e-mail; exit 2 when unknown."""
    portal = _portal(data_dir, hub, ca, database_url)
    try:
        user = portal.web.accounts.by_email(email)
        if user is None:
            raise _fail(f"no account {email}")
        yield portal, user
    finally:
        portal.close()


@portal_app.command()
def migrate(data_dir: DataDir = Path("portal-data"), hub: Hub = "https://127.0.0.1:8443",
            ca: Ca = Path("ca.pem"), database_url: DatabaseUrl = None) -> None:
    """Create or update the portal's tables."""
    _portal(data_dir, hub, ca, database_url).close()
    typer.echo("portal schema is current")


@gemeente_app.command("add")
def gemeente_add(
    cert: Annotated[Path, typer.Option("--cert", help="The gemeente's party PEM (cert + key).")],
    code: Annotated[str | None, typer.Option("--gemeente", help="Expected gemeentecode.")] = None,
    data_dir: DataDir = Path("portal-data"), hub: Hub = "https://127.0.0.1:8443",
    ca: Ca = Path("ca.pem"), database_url: DatabaseUrl = None,
) -> None:
    """Let the portal act for a gemeente with that gemeente's certificate (checked at the hub)."""
    from ggk.portal.interfaces import PortalSetupError

    portal = _portal(data_dir, hub, ca, database_url)
    try:
        connection = portal.add_gemeente(cert, code)
    except PortalSetupError as e:
        raise _fail(str(e)) from e
    finally:
        portal.close()
    typer.echo(f"portal acts for {connection.name} ({connection.code}, OIN {connection.oin})")


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Option("--email")],
    name: Annotated[str, typer.Option("--name")],
    password: Annotated[str | None, typer.Option(
        "--password", envvar="GGK_PORTAL_PASSWORD",
        help="Local password (12+ characters); leave out for OIDC-only accounts.")] = None,
    medewerker: Annotated[list[str] | None, typer.Option(
        "--medewerker", help="Gemeentecode this person may act for (repeatable).")] = None,
    alleen_lezen: Annotated[list[str] | None, typer.Option(
        "--alleen-lezen", help="Gemeentecode this person may only read (repeatable).")] = None,
    beheerder: Annotated[bool, typer.Option("--beheerder", help="Operator administrator.")] = False,
    data_dir: DataDir = Path("portal-data"), hub: Hub = "https://127.0.0.1:8443",
    ca: Ca = Path("ca.pem"), database_url: DatabaseUrl = None,
) -> None:
    """Create a portal account with roles."""
    from ggk.web.accounts import add_account, memberships_for
    from ggk.web.interfaces import AccountError

    portal = _portal(data_dir, hub, ca, database_url)
    try:
        user = add_account(portal.web.accounts, portal.web.audit, None, email, name, password,
                           beheerder=beheerder,
                           memberships=memberships_for(medewerker or [], alleen_lezen or []))
    except AccountError as e:
        raise _fail(str(e)) from e
    finally:
        portal.close()
    typer.echo(f"account {user.email} created (id {user.id})")


@user_app.command("totp")
def user_totp(
    email: Annotated[str, typer.Option("--email")],
    data_dir: DataDir = Path("portal-data"), hub: Hub = "https://127.0.0.1:8443",
    ca: Ca = Path("ca.pem"), database_url: DatabaseUrl = None,
) -> None:
    """Turn on TOTP for an account with a new secret; prints the otpauth URI for the app."""
    from ggk.web.accounts import provisioning_uri, reset_totp

    with _account(email, data_dir, hub, ca, database_url) as (portal, user):
        secret = reset_totp(portal.web.accounts, portal.web.audit, None, user, new_secret=True)
    assert secret is not None
    typer.echo(provisioning_uri(secret, user.email))


@user_app.command("disable")
def user_disable(
    email: Annotated[str, typer.Option("--email")],
    data_dir: DataDir = Path("portal-data"), hub: Hub = "https://127.0.0.1:8443",
    ca: Ca = Path("ca.pem"), database_url: DatabaseUrl = None,
) -> None:
    """Switch an account off and end its sessions."""
    from ggk.web.accounts import disable_account

    with _account(email, data_dir, hub, ca, database_url) as (portal, user):
        disable_account(portal.web.accounts, portal.web.audit, portal.web.sessions.end_all_for,
                        None, user)
    typer.echo(f"account {user.email} disabled")


@portal_app.command()
def serve(
    data_dir: DataDir = Path("portal-data"), hub: Hub = "https://127.0.0.1:8443",
    ca: Ca = Path("ca.pem"), database_url: DatabaseUrl = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8600,
    cert: Annotated[Path | None, typer.Option(
        "--cert", help="Server PEM (certificate + key) for HTTPS.")] = None,
    behind_proxy: Annotated[bool, typer.Option(
        "--behind-proxy", help="Plain HTTP for a TLS-terminating proxy on 127.0.0.1.")] = False,
    public_url: Annotated[str | None, typer.Option(
        "--public-url", help="The portal's address in e-mails.")] = None,
    smtp: Annotated[str | None, typer.Option(
        "--smtp", envvar="GGK_PORTAL_SMTP", help="SMTP server host:port for e-mail.")] = None,
    mail_from: Annotated[str, typer.Option("--mail-from")] = "ggk-portaal@localhost",
    oidc_issuer: Annotated[str | None, typer.Option("--oidc-issuer", envvar="GGK_OIDC_ISSUER")
                           ] = None,
    oidc_client_id: Annotated[str | None, typer.Option(
        "--oidc-client-id", envvar="GGK_OIDC_CLIENT_ID")] = None,
    oidc_client_secret: Annotated[str | None, typer.Option(
        "--oidc-client-secret", envvar="GGK_OIDC_CLIENT_SECRET")] = None,
    now: Annotated[str | None, typer.Option(
        "--now", help="Simulated start time (ISO), for demos: the clock runs on from it.")] = None,
) -> None:
    """Serve the portal (HTTPS with --cert; plain HTTP only --behind-proxy)."""
    import threading

    import uvicorn

    from ggk.portal.service import SystemClock
    from ggk.web.mail import SmtpMailer
    from ggk.web.oidc import OidcSettings
    from ggk.web.server import uvicorn_config

    if cert is None and not behind_proxy:
        raise _fail("give --cert (HTTPS) or --behind-proxy (plain HTTP behind a TLS proxy)")
    scheme = "https"
    url = public_url or f"{scheme}://{host}:{port}"
    extra: dict[str, Any] = {"public_url": url}
    if smtp:
        smtp_host, _, smtp_port = smtp.partition(":")
        extra["mailer"] = SmtpMailer(smtp_host, int(smtp_port or 25), sender=mail_from)
    if oidc_issuer:
        if not oidc_client_id or not oidc_client_secret:
            raise _fail("--oidc-issuer needs --oidc-client-id and --oidc-client-secret")
        extra["oidc"] = OidcSettings(oidc_issuer, oidc_client_id, oidc_client_secret,
                                     f"{url}/inloggen/oidc/terug")
    if now:
        extra["clock"] = OffsetClock(dt.datetime.fromisoformat(now))
    else:
        extra["clock"] = SystemClock()
    portal = _portal(data_dir, hub, ca, database_url, **extra)
    stop = threading.Event()
    worker = threading.Thread(target=portal.run_background, args=(stop,), daemon=True,
                              name="portal-background")
    worker.start()
    typer.echo(f"portal on {url} ({len(portal.connections())} gemeenten connected"
               f"{'' if smtp else ', no e-mail: give --smtp'})")
    try:
        uvicorn.Server(uvicorn_config(portal.create_app(), host=host, port=port, cert=cert,
                                      log_level="info", behind_proxy=behind_proxy)).run()
    finally:
        stop.set()
        worker.join(timeout=10)
        portal.close()


class OffsetClock:
    """The real clock shifted so that it started at `start` (a demo plays a chosen day)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        self._offset = start - dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self._offset


def register(app: typer.Typer) -> None:
    app.add_typer(portal_app, name="portal")

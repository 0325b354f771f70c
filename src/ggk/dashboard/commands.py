"""CLI: `ggk dashboard serve|migrate|user add|contact add` (operators at CBS: English)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

dashboard_app = typer.Typer(help="The CBS period dashboard (web, CBS-internal).",
                            no_args_is_help=True)
user_app = typer.Typer(help="Dashboard accounts (role verzamelbeheer).", no_args_is_help=True)
contact_app = typer.Typer(help="E-mail addresses of municipalities.", no_args_is_help=True)
dashboard_app.add_typer(user_app, name="user")
dashboard_app.add_typer(contact_app, name="contact")

DataDir = Annotated[Path, typer.Option("--data-dir", help="Dashboard data folder.")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", envvar="GGK_DASHBOARD_DATABASE_URL",
    help="SQLAlchemy URL of the dashboard's own database (default SQLite in --data-dir).")]
StationDir = Annotated[Path | None, typer.Option(
    "--station-data-dir", help="Embedded station: its data folder.")]
StationUrl = Annotated[str | None, typer.Option(
    "--station-database-url", envvar="GGK_STATION_DATABASE_URL",
    help="Production station database (with --station-store-dir).")]
StationStore = Annotated[Path | None, typer.Option(
    "--station-store-dir", help="The station's file store (reports).")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _dashboard(data_dir: Path, database_url: str | None, station_dir: Path | None,
               station_url: str | None, station_store: Path | None, **extra: Any) -> Any:
    from ggk.dashboard.app import Dashboard, DashboardSettings
    from ggk.station.period_records import open_period_records
    from ggk.station.settings import StationSettings

    if station_dir is None and station_url is None:
        raise _fail("give --station-data-dir (embedded) or --station-database-url")
    from ggk.station.database import SchemaNotCurrent

    try:
        records = open_period_records(StationSettings(
            data_dir=station_dir, database_url=station_url, store_dir=station_store))
    except SchemaNotCurrent as e:
        raise _fail(str(e)) from e
    dashboard = Dashboard(DashboardSettings(data_dir=data_dir, records=records,
                                            database_url=database_url, **extra))
    dashboard.migrate()
    return dashboard


@dashboard_app.command()
def migrate(data_dir: DataDir = Path("dashboard-data"), database_url: DatabaseUrl = None,
            station_data_dir: StationDir = None, station_database_url: StationUrl = None,
            station_store_dir: StationStore = None) -> None:
    """Create or update the dashboard's own tables."""
    _dashboard(data_dir, database_url, station_data_dir, station_database_url,
               station_store_dir).close()
    typer.echo("dashboard schema is current")


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Option("--email")],
    name: Annotated[str, typer.Option("--name")],
    password: Annotated[str | None, typer.Option(
        "--password", envvar="GGK_DASHBOARD_PASSWORD",
        help="Local password (12+ characters); leave out for OIDC-only accounts.")] = None,
    data_dir: DataDir = Path("dashboard-data"), database_url: DatabaseUrl = None,
) -> None:
    """Create a collection manager's account (internal role verzamelbeheer)."""
    from ggk.web.app import create_internal_account
    from ggk.web.interfaces import AccountError

    try:
        user = create_internal_account(data_dir, database_url, "dashboard", email, name, password,
                                       "verzamelbeheer")
    except AccountError as e:
        raise _fail(str(e)) from e
    typer.echo(f"account {user.email} created (verzamelbeheer)")


@contact_app.command("add")
def contact_add(
    gemeente: Annotated[str, typer.Option("--gemeente", help="Gemeentecode, e.g. GM0363.")],
    email: Annotated[str, typer.Option("--email")],
    data_dir: DataDir = Path("dashboard-data"), database_url: DatabaseUrl = None,
    station_data_dir: StationDir = None, station_database_url: StationUrl = None,
    station_store_dir: StationStore = None,
) -> None:
    """E-mail this address about the municipality's delivery (extensions, reminders)."""
    dashboard = _dashboard(data_dir, database_url, station_data_dir, station_database_url,
                           station_store_dir)
    try:
        added = dashboard.add_contact(gemeente.upper(), email, "cli")
    except ValueError as e:
        raise _fail(str(e)) from e
    finally:
        dashboard.close()
    typer.echo(f"{added} is a contact of {gemeente.upper()}")


@dashboard_app.command()
def serve(
    data_dir: DataDir = Path("dashboard-data"), database_url: DatabaseUrl = None,
    station_data_dir: StationDir = None, station_database_url: StationUrl = None,
    station_store_dir: StationStore = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8700,
    cert: Annotated[Path | None, typer.Option(
        "--cert", help="Server PEM (certificate + key) for HTTPS.")] = None,
    behind_proxy: Annotated[bool, typer.Option(
        "--behind-proxy", help="Plain HTTP for a TLS-terminating proxy on 127.0.0.1.")] = False,
    smtp: Annotated[str | None, typer.Option(
        "--smtp", envvar="GGK_DASHBOARD_SMTP", help="SMTP server host:port for e-mail.")] = None,
    mail_from: Annotated[str, typer.Option("--mail-from")] = "ggk-cbs@localhost",
) -> None:
    """Serve the dashboard (HTTPS with --cert; plain HTTP only --behind-proxy)."""
    import uvicorn

    from ggk.web.mail import SmtpMailer
    from ggk.web.server import uvicorn_config

    if cert is None and not behind_proxy:
        raise _fail("give --cert (HTTPS) or --behind-proxy (plain HTTP behind a TLS proxy)")
    extra: dict[str, Any] = {"public_url": f"https://{host}:{port}"}
    if smtp:
        smtp_host, _, smtp_port = smtp.partition(":")
        extra["mailer"] = SmtpMailer(smtp_host, int(smtp_port or 25), sender=mail_from)
    dashboard = _dashboard(data_dir, database_url, station_data_dir, station_database_url,
                           station_store_dir, **extra)
    typer.echo(f"dashboard on https://{host}:{port}{'' if smtp else ' (no e-mail: give --smtp)'}")
    try:
        uvicorn.Server(uvicorn_config(dashboard.create_app(), host=host, port=port, cert=cert,
                                      log_level="info", behind_proxy=behind_proxy)).run()
    finally:
        dashboard.close()


def register(app: typer.Typer) -> None:
    app.add_typer(dashboard_app, name="dashboard")

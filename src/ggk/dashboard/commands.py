"""CLI: `ggk dashboard serve|migrate|user add|contact add` (operators at CBS: English)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ggk.web.commands import (
    BehindProxy,
    Cert,
    Host,
    MailFrom,
    add_user_command,
    data_dir_option,
    database_url_option,
    fail,
    mailer,
    require_tls_or_proxy,
    serve_foreground,
    smtp_option,
)

dashboard_app = typer.Typer(help="The CBS period dashboard (web, CBS-internal).",
                            no_args_is_help=True)
user_app = typer.Typer(help="Dashboard accounts (role verzamelbeheer).", no_args_is_help=True)
contact_app = typer.Typer(help="E-mail addresses of municipalities.", no_args_is_help=True)
dashboard_app.add_typer(user_app, name="user")
dashboard_app.add_typer(contact_app, name="contact")

DataDir = data_dir_option("Dashboard")
DatabaseUrl = database_url_option("dashboard")
Smtp = smtp_option("dashboard")
StationDir = Annotated[Path | None, typer.Option(
    "--station-data-dir", help="Embedded station: its data folder.")]
StationUrl = Annotated[str | None, typer.Option(
    "--station-database-url", envvar="GGK_STATION_DATABASE_URL",
    help="Production station database (with --station-store-dir).")]
StationStore = Annotated[Path | None, typer.Option(
    "--station-store-dir", help="The station's file store (reports).")]


def _dashboard(data_dir: Path, database_url: str | None, station_dir: Path | None,
               station_url: str | None, station_store: Path | None, **extra: Any) -> Any:
    from ggk.dashboard.app import Dashboard, DashboardSettings
    from ggk.station.period_records import open_period_records
    from ggk.station.settings import StationSettings

    if station_dir is None and station_url is None:
        raise fail("give --station-data-dir (embedded) or --station-database-url")
    from ggk.station.database import SchemaNotCurrent

    try:
        records = open_period_records(StationSettings(
            data_dir=station_dir, database_url=station_url, store_dir=station_store))
    except SchemaNotCurrent as e:
        raise fail(str(e)) from e
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


add_user_command(user_app, "dashboard", "verzamelbeheer",
                 "Create a collection manager's account")


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
        raise fail(str(e)) from e
    finally:
        dashboard.close()
    typer.echo(f"{added} is a contact of {gemeente.upper()}")


@dashboard_app.command()
def serve(
    data_dir: DataDir = Path("dashboard-data"), database_url: DatabaseUrl = None,
    station_data_dir: StationDir = None, station_database_url: StationUrl = None,
    station_store_dir: StationStore = None,
    host: Host = "127.0.0.1", port: Annotated[int, typer.Option("--port")] = 8700,
    cert: Cert = None, behind_proxy: BehindProxy = False,
    smtp: Smtp = None, mail_from: MailFrom = "ggk-cbs@localhost",
) -> None:
    """Serve the dashboard (HTTPS with --cert; plain HTTP only --behind-proxy)."""
    require_tls_or_proxy(cert, behind_proxy)
    extra: dict[str, Any] = {"public_url": f"https://{host}:{port}", **mailer(smtp, mail_from)}
    dashboard = _dashboard(data_dir, database_url, station_data_dir, station_database_url,
                           station_store_dir, **extra)
    typer.echo(f"dashboard on https://{host}:{port}{'' if smtp else ' (no e-mail: give --smtp)'}")
    try:
        serve_foreground(dashboard.create_app(), host=host, port=port, cert=cert,
                         behind_proxy=behind_proxy)
    finally:
        dashboard.close()


def register(app: typer.Typer) -> None:
    app.add_typer(dashboard_app, name="dashboard")

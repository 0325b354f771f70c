"""CLI: `ggk console serve|migrate|user add` (the hub operator: English)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ggk.web.commands import (
    BehindProxy,
    Cert,
    Host,
    add_user_command,
    data_dir_option,
    database_url_option,
    fail,
    require_tls_or_proxy,
    serve_foreground,
)

console_app = typer.Typer(help="The hub operator's console (web).", no_args_is_help=True)
user_app = typer.Typer(help="Console accounts (role hub-operator).", no_args_is_help=True)
console_app.add_typer(user_app, name="user")

DataDir = data_dir_option("Console")
DatabaseUrl = database_url_option("console")
HubDir = Annotated[Path | None, typer.Option("--hub-data-dir", help="Embedded hub: its folder.")]
HubUrl = Annotated[str | None, typer.Option(
    "--hub-database-url", envvar="GGK_HUB_DATABASE_URL", help="The hub's database.")]
StationDir = Annotated[Path | None, typer.Option(
    "--station-data-dir", help="Show this embedded station's failed messages too.")]
StationUrl = Annotated[str | None, typer.Option(
    "--station-database-url", envvar="GGK_STATION_DATABASE_URL",
    help="Show this station's failed messages too.")]


def open_console(data_dir: Path, database_url: str | None, hub_dir: Path | None,
                 hub_url: str | None, station_dir: Path | None = None,
                 station_url: str | None = None, **extra: Any) -> Any:
    """A migrated console on the hub's database (and a station's failures, when given)."""
    from ggk.console.app import Console, ConsoleSettings
    from ggk.hub.channel_watch import HubChannelWatch
    from ggk.hub.database import create_engine, require_current_schema
    from ggk.hub.interfaces import SchemaNotCurrent
    from ggk.hub.parties import PartyRegistry
    from ggk.hub.settings import HubSettings

    if hub_dir is None and hub_url is None:
        raise fail("give --hub-data-dir (embedded hub) or --hub-database-url")
    from ggk.station.database import SchemaNotCurrent as StationSchemaNotCurrent

    url = HubSettings(data_dir=hub_dir, database_url=hub_url).resolved_database_url()
    engine = create_engine(url)
    failures = None
    try:
        require_current_schema(engine, url)
        if station_dir is not None or station_url is not None:
            from ggk.station.period_records import open_period_records
            from ggk.station.settings import StationSettings

            failures = open_period_records(StationSettings(
                data_dir=station_dir, database_url=station_url)).channel_failures
    except (SchemaNotCurrent, StationSchemaNotCurrent) as e:
        engine.dispose()
        raise fail(str(e)) from e
    console = Console(ConsoleSettings(data_dir=data_dir, watch=HubChannelWatch(engine),
                                      parties=PartyRegistry(engine), database_url=database_url,
                                      station_failures=failures, **extra))
    console.migrate()
    return console


@console_app.command()
def migrate(data_dir: DataDir = Path("console-data"), database_url: DatabaseUrl = None,
            hub_data_dir: HubDir = None, hub_database_url: HubUrl = None) -> None:
    """Create or update the console's own tables."""
    open_console(data_dir, database_url, hub_data_dir, hub_database_url).close()
    typer.echo("console schema is current")


add_user_command(user_app, "console", "hub-operator", "Create a hub operator's account")


@console_app.command()
def serve(
    data_dir: DataDir = Path("console-data"), database_url: DatabaseUrl = None,
    hub_data_dir: HubDir = None, hub_database_url: HubUrl = None,
    station_data_dir: StationDir = None, station_database_url: StationUrl = None,
    host: Host = "127.0.0.1", port: Annotated[int, typer.Option("--port")] = 8800,
    cert: Cert = None, behind_proxy: BehindProxy = False,
) -> None:
    """Serve the console (HTTPS with --cert; plain HTTP only --behind-proxy)."""
    require_tls_or_proxy(cert, behind_proxy)
    console = open_console(data_dir, database_url, hub_data_dir, hub_database_url,
                           station_data_dir, station_database_url)
    typer.echo(f"console on https://{host}:{port}")
    try:
        serve_foreground(console.create_app(), host=host, port=port, cert=cert,
                         behind_proxy=behind_proxy)
    finally:
        console.close()


def register(app: typer.Typer) -> None:
    app.add_typer(console_app, name="console")

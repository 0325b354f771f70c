"""`ggk publicatie`: publish the opted-in figures of a period as a new release (operators). It
lives in the station package because it opens the station's data: the station depends on
ggk.publication (its publication step), never the other way round."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from ggk.definitions.options import DefinitionsOption, StatisticOption


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"ggk publicatie: {message}", err=True)
    return typer.Exit(code)


def _consented_source(data_dir: Path | None, database_url: str | None,
                      store_dir: Path | None) -> tuple[Any, Path]:
    """The station's accepted data, opt-in only, and its default publication folder."""
    from ggk.station.accepted import open_accepted_data
    from ggk.station.settings import StationSettings

    try:
        source = open_accepted_data(data_dir, database_url, store_dir, opt_in_only=True)
    except ValueError as e:
        raise _fail(str(e)) from None
    settings = StationSettings(data_dir=data_dir, database_url=database_url, store_dir=store_dir)
    return source, settings.resolved_publication_dir()


def register(app: typer.Typer) -> None:
    @app.command("publicatie")
    def publicatie(
        period: Annotated[str, typer.Option("--period", help="e.g. 2026-H1")],
        statistic: StatisticOption = None,
        definitions: DefinitionsOption = None,
        data_dir: Annotated[Path | None, typer.Option(
            "--data-dir", help="embedded station data (station.sqlite3, station-store/)")] = None,
        database_url: Annotated[str | None, typer.Option(
            "--database-url", envvar="GGK_STATION_DATABASE_URL",
            help="production station database, postgresql+psycopg://user@host/db")] = None,
        store_dir: Annotated[Path | None, typer.Option(
            "--store-dir", help="the station's file store (with --database-url)")] = None,
        out: Annotated[Path | None, typer.Option(
            "--out", help="publication folder (default: the station's, DATA_DIR/publicaties)")
        ] = None,
        now: Annotated[str | None, typer.Option(
            "--now", help="pretend it is this date (ISO), for simulations")] = None,
    ) -> None:
        """Publish the figures of the municipalities that opted in as the period's next release
        (SDMX-CSV + structure, CSV, Excel, manifest); never before the besluit deadline."""
        from ggk.definitions import DefinitionError, UnknownPeriod
        from ggk.definitions.options import chosen_definition
        from ggk.publication import NothingToPublish, PublicationError, publish

        try:
            definition = chosen_definition(statistic, definitions, period)
        except (UnknownPeriod, DefinitionError) as e:
            raise _fail(str(e)) from None
        statistic = definition.statistic
        try:
            moment = dt.datetime.fromisoformat(now) if now else dt.datetime.now(dt.UTC)
        except ValueError:
            raise _fail(f"--now {now!r} is not an ISO date or date-time") from None
        if moment.tzinfo is None:
            moment = moment.replace(hour=12, tzinfo=dt.UTC) if len(now or "") == 10 else \
                moment.replace(tzinfo=dt.UTC)
        deadline = definition.calendar(period).events["besluit_deadline"]
        if moment.date() <= deadline:
            raise _fail(f"the besluit deadline of {statistic} {period} is {deadline}: "
                        "municipalities may still opt in or withdraw; publish after it")
        source, default_out = _consented_source(data_dir, database_url, store_dir)
        try:
            release = publish(definition, period, source, out or default_out, now=moment)
        except NothingToPublish as e:
            raise _fail(str(e), 1) from None
        except PublicationError as e:
            raise _fail(str(e)) from None
        counts = release.manifest["aantallen"]
        typer.echo(
            f"release {release.name} of {statistic} {period}: {counts['gepubliceerd']} "
            f"municipalities published (opt-in); left out: {counts['ingetrokken']} withdrawn, "
            f"{counts['geen_besluit']} undecided; {counts['niet_geleverd']} without accepted "
            f"data; {counts['geheim']} of {counts['cellen']} cells suppressed")
        typer.echo(f"  {release.directory}/")
        for path in release.files:
            typer.echo(f"    {path.name}")

"""`ggk spiegelrapport`: make a mirror report on demand (operators), from a station's accepted
data or a folder of CSV files. It lives in the station package because the station depends on
ggk.mirror and never the other way round."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ggk.definitions.options import DefinitionsOption, StatisticOption

FORMATS = ("json", "html", "pdf")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"ggk spiegelrapport: {message}", err=True)
    return typer.Exit(2)


def _station_source(data_dir: Path | None, database_url: str | None, store_dir: Path | None) -> Any:
    """The accepted deliveries of a station: embedded (--data-dir) or production (--database-url
    with --store-dir), read through the station's own interface, never its tables."""
    from ggk.station.accepted import open_accepted_data

    try:
        return open_accepted_data(data_dir, database_url, store_dir)
    except ValueError as e:
        raise _fail(str(e)) from None


def register(app: typer.Typer) -> None:
    @app.command("spiegelrapport")
    def spiegelrapport(
        gemeente: Annotated[str, typer.Option("--gemeente", help="e.g. GM0363")],
        period: Annotated[str, typer.Option("--period", help="e.g. 2026-H1")],
        out: Annotated[Path, typer.Option("--out", help="folder for spiegelrapport.*")],
        data_dir: Annotated[
            Path | None,
            typer.Option("--data-dir", help="embedded station data (accepted deliveries)"),
        ] = None,
        csv_dir: Annotated[
            Path | None,
            typer.Option(
                "--csv-dir", help="folder of accepted files <GMxxxx>-<period>-<dataset>.csv"
            ),
        ] = None,
        database_url: Annotated[
            str | None,
            typer.Option(
                "--database-url",
                envvar="GGK_STATION_DATABASE_URL",
                help="production station database, postgresql+psycopg://user@host/db",
            ),
        ] = None,
        store_dir: Annotated[
            Path | None,
            typer.Option("--store-dir", help="the station's file store (with --database-url)"),
        ] = None,
        statistic: StatisticOption = None,
        definitions: DefinitionsOption = None,
        formats: Annotated[
            str, typer.Option("--format", help="comma list of json,html,pdf")
        ] = "html,json,pdf",
    ) -> None:
        """Make the spiegelrapport (mirror report) of one municipality and period."""
        from ggk.definitions import DefinitionError, UnknownPeriod
        from ggk.definitions.options import chosen_definition
        from ggk.mirror import CsvFolderSource, MirrorError, build_spiegelrapport
        from ggk.refdata import UnknownGemeente
        from ggk.refdata import register as gemeente_register

        wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
        bad = [f for f in wanted if f not in FORMATS]
        if bad or not wanted:
            raise _fail(
                f"unknown format(s) {', '.join(bad) or '(none)'}; choose from json,html,pdf"
            )
        station = data_dir is not None or database_url is not None
        if station == (csv_dir is not None):
            raise _fail(
                "give the station's data (--data-dir, or --database-url with --store-dir) "
                "or --csv-dir, not both"
            )
        try:
            code = gemeente_register().get(gemeente).code
            definition = chosen_definition(statistic, definitions, period)
        except (UnknownGemeente, UnknownPeriod, DefinitionError) as e:
            raise _fail(str(e)) from None
        try:
            source = (
                _station_source(data_dir, database_url, store_dir)
                if station
                else CsvFolderSource(csv_dir, {definition.statistic: definition})
            )  # type: ignore[arg-type]
            report = build_spiegelrapport(definition, period, code, source)
            paths = report.write(out, tuple(f for f in FORMATS if f in wanted))
        except MirrorError as e:
            raise _fail(str(e)) from None
        flags = report.data["flags"]
        typer.echo(f"spiegelrapport {code} {period}: {len(flags)} signal(s)")
        for path in paths:
            typer.echo(f"  {path}")

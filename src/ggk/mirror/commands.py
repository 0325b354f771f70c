"""`ggk spiegelrapport`: make a mirror report on demand (operators)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

FORMATS = ("json", "html", "pdf")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"ggk spiegelrapport: {message}", err=True)
    return typer.Exit(2)


def _station_source(data_dir: Path) -> Any:
    try:
        import sqlalchemy as sa

        from ggk.station import accepted_data_source
        from ggk.station.settings import StationSettings
        from ggk.station.storage import FileStore
    except ImportError as e:
        raise _fail(
            f"--data-dir needs the station package (ggk.station), unavailable: {e}. "
            "Use --csv-dir instead."
        ) from None
    if not (data_dir / "station.sqlite3").is_file():
        raise _fail(f"{data_dir}: no station database (station.sqlite3) in this folder")
    settings = StationSettings(data_dir=data_dir)
    engine = sa.create_engine(settings.resolved_database_url())
    return accepted_data_source(engine, FileStore(settings.resolved_store_dir()))


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
        statistic: Annotated[str, typer.Option("--statistic")] = "gmsd",
        formats: Annotated[
            str, typer.Option("--format", help="comma list of json,html,pdf")
        ] = "html,json,pdf",
    ) -> None:
        """Make the spiegelrapport (mirror report) of one municipality and period."""
        from ggk.definitions import UnknownPeriod, shipped
        from ggk.mirror import CsvFolderSource, MirrorError, build_spiegelrapport
        from ggk.refdata import UnknownGemeente
        from ggk.refdata import register as gemeente_register

        wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
        bad = [f for f in wanted if f not in FORMATS]
        if bad or not wanted:
            raise _fail(
                f"unknown format(s) {', '.join(bad) or '(none)'}; choose from json,html,pdf"
            )
        if (data_dir is None) == (csv_dir is None):
            raise _fail("give exactly one of --data-dir (station data) or --csv-dir")
        try:
            code = gemeente_register().get(gemeente).code
            definition = shipped().for_period(statistic, period)
        except (UnknownGemeente, UnknownPeriod) as e:
            raise _fail(str(e)) from None
        try:
            source = (
                _station_source(data_dir)
                if data_dir is not None
                else CsvFolderSource(csv_dir, {statistic: definition})
            )  # type: ignore[arg-type]
            report = build_spiegelrapport(definition, period, code, source)
            paths = report.write(out, tuple(f for f in FORMATS if f in wanted))
        except MirrorError as e:
            raise _fail(str(e)) from None
        flags = report.data["flags"]
        typer.echo(f"spiegelrapport {code} {period}: {len(flags)} signal(s)")
        for path in paths:
            typer.echo(f"  {path}")

"""`ggk evaluatie`: the pilot evaluation for VWS of one period (operators at CBS; English)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ggk.definitions.options import DefinitionsOption, StatisticOption
from ggk.station.commands import DatabaseUrl, DataDir, Now, StoreDir


def register(app: typer.Typer) -> None:
    @app.command("evaluatie")
    def evaluatie(
        period: Annotated[str, typer.Option("--period", help="e.g. 2026-H1")],
        statistic: StatisticOption = None,
        definitions: DefinitionsOption = None,
        data_dir: DataDir = None, database_url: DatabaseUrl = None, store_dir: StoreDir = None,
        out: Annotated[Path, typer.Option("--out", help="Folder for the JSON, HTML and PDF.")]
        = Path("evaluatie"),
        now: Now = None,
    ) -> None:
        """The pilot evaluation for VWS (Dutch; JSON, HTML, PDF) from the station's records."""
        from ggk.definitions import DefinitionError, UnknownPeriod
        from ggk.definitions.options import chosen_definition
        from ggk.evaluation import EvaluationError, build_evaluation
        from ggk.station.commands import station_clock, station_engine, station_settings
        from ggk.station.evaluation_records import StationEvaluationRecords
        from ggk.station.storage import FileStore

        settings = station_settings(data_dir, database_url, store_dir)
        try:
            definition = chosen_definition(statistic, definitions, period)
        except (UnknownPeriod, DefinitionError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None
        engine = station_engine(settings)
        try:
            records = StationEvaluationRecords(engine, FileStore.for_settings(settings))
            report = build_evaluation(records, definition, period,
                                      now=station_clock(now).now())
            paths = report.write(out)
        except (EvaluationError, OSError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None
        finally:
            engine.dispose()
        for path in paths:
            typer.echo(str(path))

"""The command-line options every command that works on a statistic shares: `--statistic` and
`--definitions` (environment GGK_DEFINITIONS), and how they resolve to a definition."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ggk.definitions.interfaces import Definition
from ggk.definitions.registry import ENV, registry

StatisticOption = Annotated[str | None, typer.Option(
    "--statistic",
    help="Statistic, by its id in the definitions (default: the only or first one).")]
DefinitionsOption = Annotated[list[Path] | None, typer.Option(
    "--definitions", envvar=ENV, file_okay=False,
    help=f"Extra folder of definitions (<statistic>/<edition>/datapackage.json); repeatable. "
         f"Default: ${ENV} (folders separated by ':').")]


def chosen_definition(statistic: str | None, definitions: list[Path] | None,
                      period: str) -> Definition:
    """The definition of `statistic` (default: the first) covering `period`; raises
    UnknownPeriod or DefinitionError with a message that names what is wrong."""
    found = registry(definitions or ())
    return found.for_period(statistic or found.default_statistic(), period)

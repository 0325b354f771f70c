"""`ggk testdata`: write a synthetic delivery file and its answer key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ggk.definitions.options import DefinitionsOption, StatisticOption

ERRORS_HELP = (
    "Defects to inject, e.g. elfproef=10,dubbel-record=5,verplicht:bsn=3,codelijst:eenheid=2."
)


def register(app: typer.Typer) -> None:
    app.command("testdata")(testdata)


def testdata(
    gemeente: Annotated[str, typer.Option("--gemeente", help="Gemeentecode, e.g. GM0363.")],
    period: Annotated[str, typer.Option(
        "--period", help="Period, e.g. 2026-H1 (half-year), 2026-Q1 (quarter), 2026 or 2026-05.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the CSV and its answer key.")],
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="Dataset of the statistic (default: its first).")] = None,
    rows: Annotated[
        int | None,
        typer.Option("--rows", min=0, help="Data lines (default: sized from the population)."),
    ] = None,
    errors: Annotated[str, typer.Option("--errors", help=ERRORS_HELP)] = "",
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same file.")] = 0,
    referenced: Annotated[
        Path | None,
        typer.Option(
            "--referenced-file",
            exists=True,
            dir_okay=False,
            help="For a dataset with a foreign key: the file of the dataset it refers to (for "
            "the defect that breaks the reference).",
        ),
    ] = None,
    vary_style: Annotated[
        bool,
        typer.Option(
            "--vary-style",
            help="Vary line ends, BOM, quoting, spaces, header case, column order (all valid).",
        ),
    ] = False,
    statistic: StatisticOption = None,
    definitions: DefinitionsOption = None,
) -> None:
    """Generate a realistic synthetic delivery file plus an answer key with the exact findings."""
    from rich.console import Console

    from ggk.definitions import DefinitionError, UnknownPeriod
    from ggk.definitions.options import chosen_definition
    from ggk.testdata.defects import parse_errors
    from ggk.testdata.generator import generate
    from ggk.testdata.interfaces import FileStyle, TestdataError

    err = Console(stderr=True, soft_wrap=True)
    try:
        definition = chosen_definition(statistic, definitions, period)
        parsed = parse_errors(errors)
        style = FileStyle.varied(seed) if vary_style else FileStyle()
        result = generate(definition, dataset or definition.dataset_names[0], gemeente, period,
                          rows, parsed, seed, referenced, out=out, style=style)
    except (TestdataError, UnknownPeriod, DefinitionError) as e:
        err.print(f"[red]error:[/red] {e}", highlight=False)
        raise typer.Exit(2) from None
    except OSError as e:
        err.print(f"[red]error:[/red] cannot write to {out}: {e.strerror}", highlight=False)
        raise typer.Exit(2) from None
    key = result.key
    console = Console(soft_wrap=True)
    size = result.path.stat().st_size
    console.print(f"wrote {result.path} ({key.rows:,} rows, {size:,} bytes)", highlight=False)
    console.print(
        f"wrote {result.key_path} (verdict {key.verdict}: "
        f"{key.errors} errors, {key.warnings} warnings)",
        highlight=False,
    )

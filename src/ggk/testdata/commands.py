"""`ggk testdata`: write a synthetic delivery file and its answer key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ERRORS_HELP = (
    "Defects to inject, e.g. elfproef=10,dubbel-record=5,verplicht:bsn=3,codelijst:eenheid=2."
)


def register(app: typer.Typer) -> None:
    app.command("testdata")(testdata)


def testdata(
    gemeente: Annotated[str, typer.Option("--gemeente", help="Gemeentecode, e.g. GM0363.")],
    period: Annotated[str, typer.Option("--period", help="Period, e.g. 2026-H1.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the CSV and its answer key.")],
    dataset: Annotated[str, typer.Option("--dataset", help="basis or facultatief.")] = "basis",
    rows: Annotated[
        int | None,
        typer.Option("--rows", min=0, help="Data lines (default: sized from the population)."),
    ] = None,
    errors: Annotated[str, typer.Option("--errors", help=ERRORS_HELP)] = "",
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same file.")] = 0,
    basis: Annotated[
        Path | None,
        typer.Option(
            "--basis",
            exists=True,
            dir_okay=False,
            help="facultatief: the basis file the amounts belong to (for geen-basisrecord).",
        ),
    ] = None,
    vary_style: Annotated[
        bool,
        typer.Option(
            "--vary-style",
            help="Vary line ends, BOM, quoting, spaces, header case, column order (all valid).",
        ),
    ] = False,
    statistic: Annotated[str, typer.Option("--statistic", help="Statistic.")] = "gmsd",
) -> None:
    """Generate a realistic synthetic delivery file plus an answer key with the exact findings."""
    from rich.console import Console

    from ggk.definitions import UnknownPeriod, shipped
    from ggk.testdata.defects import parse_errors
    from ggk.testdata.generator import generate
    from ggk.testdata.interfaces import FileStyle, TestdataError

    err = Console(stderr=True, soft_wrap=True)
    try:
        definition = shipped().for_period(statistic, period)
        parsed = parse_errors(errors)
        style = FileStyle.varied(seed) if vary_style else FileStyle()
        result = generate(definition, dataset, gemeente, period, rows, parsed, seed, basis,
                          out=out, style=style)  # fmt: skip
    except (TestdataError, UnknownPeriod) as e:
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

"""CLI: `ggk pilot` (the period played end to end in this process)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def pilot(
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Map voor alles van de pilot "
                                           "(wordt eerst leeggemaakt).")] = Path("pilot-data"),
    seed: Annotated[int, typer.Option("--seed", help="Zaadwaarde voor de testbestanden.")] = 2026,
    max_rows: Annotated[int, typer.Option(
        "--max-rows", help="Bovengrens aan regels per bestand (de grote gemeente).")] = 25_000,
) -> None:
    """Speel periode 2026-H1 na: hub en station in dit proces, 4 proefgemeenten."""
    from rich.console import Console

    from ggk.pilot.play import PilotError, run_pilot

    try:
        result = run_pilot(data_dir, seed=seed, max_rows=max_rows)
    except PilotError as e:
        Console(stderr=True).print(f"[bold red]Fout:[/] {e}")
        raise typer.Exit(2) from e
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("pilot")(pilot)

"""CLI: `ggk pilot` (the period played end to end in this process)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def pilot(
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Map voor alles van de pilot "
                                           "(wordt eerst leeggemaakt).")] = Path("pilot-data"),
    seed: Annotated[int, typer.Option("--seed", help="Zaadwaarde voor de testbestanden.")] = 2026,
    max_rows: Annotated[int, typer.Option(
        "--max-rows", help="Bovengrens aan regels per bestand (de grote gemeente).")] = 25_000,
    portal: Annotated[bool, typer.Option(
        "--portal", help="Start daarna het portaal, het CBS-dashboard en de beheerconsole "
                         "(tot Ctrl-C).")] = False,
    portal_port: Annotated[int, typer.Option("--portal-port", help="Poort van het portaal.")
                           ] = 8600,
) -> None:
    """Speel periode 2026-H1 na: hub en station in dit proces, 4 proefgemeenten."""
    from rich.console import Console

    from ggk.pilot.play import PilotError, run_pilot

    after = None
    if portal:
        def after(pilot: Any) -> None:
            from ggk.dashboard.demo import cbs_apps, print_apps
            from ggk.portal.demo import serve_after_pilot

            with cbs_apps(pilot) as apps:  # the CBS dashboard and the operator console
                print_apps(pilot.console, apps)
                serve_after_pilot(pilot, port=portal_port)
    try:
        result = run_pilot(data_dir, seed=seed, max_rows=max_rows, after=after)
    except PilotError as e:
        Console(stderr=True).print(f"[bold red]Fout:[/] {e}")
        raise typer.Exit(2) from e
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("pilot")(pilot)

"""Rich renderings shared by the CLI and the pilot (Dutch)."""

from __future__ import annotations

from rich.table import Table

from ggk.gemeente.ketentest import KetentestReport

COLOURS = {"geslaagd": "green", "mislukt": "red", "overgeslagen": "yellow"}


def ketentest_table(report: KetentestReport, title: str = "Ketentest") -> Table:
    table = Table(title=title)
    for column in ("stap", "uitkomst", "duur", "toelichting"):
        table.add_column(column)
    for step in report.steps:
        seconds = f"{step.seconds:.1f} s" if step.seconds is not None else "-"
        table.add_row(step.name, f"[{COLOURS[step.outcome]}]{step.outcome}[/]", seconds,
                      step.detail)
    return table

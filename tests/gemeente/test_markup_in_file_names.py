"""A file name is text, never Rich markup, and sends no control characters to the terminal
(issue 10, finding 14, for `ggk gemeente submit`): its progress bar and its error lines."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from typer.testing import CliRunner

from ggk.cli import app
from ggk.gemeente.commands import upload_description

HOSTILE = "intensiteit [uur] [/] [bold]x\x1b[31m.csv"


def test_the_upload_description_shows_the_file_name_as_text() -> None:
    shown = Text.from_markup(upload_description(HOSTILE)).plain  # `[/]` raised before
    assert shown == "uploaden intensiteit [uur] [/] [bold]x\\x1b[31m.csv"
    assert "\x1b" not in shown


def test_an_error_about_a_file_shows_its_name_as_text(tmp_path: Path) -> None:
    missing = tmp_path / HOSTILE
    # a wide terminal, so the line is not wrapped at a spot that depends on tmp_path's length
    result = CliRunner().invoke(app, ["gemeente", "submit", str(missing), "--period", "2026-H1"],
                                env={"COLUMNS": "1000"})
    assert result.exit_code == 2, result.output
    assert "bestand niet gevonden" in result.output
    assert "intensiteit [uur] [/] [bold]x\\x1b[31m.csv" in result.output
    assert "\x1b" not in result.output

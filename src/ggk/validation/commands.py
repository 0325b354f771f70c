"""`ggk validate`: check a file locally with exactly the checks CBS runs at intake."""

from __future__ import annotations

import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

EXIT_GOEDGEKEURD, EXIT_AFGEKEURD, EXIT_USAGE = 0, 1, 2
GEMEENTECODE = re.compile(r"^GM\d{4}$")


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    html = "html"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"ggk validate: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def check_gemeente(code: str) -> str:
    """The gemeentecode normalised; a usage error when malformed or not a known municipality."""
    from ggk.refdata import UnknownGemeente, register

    code = code.strip().upper()
    if not GEMEENTECODE.match(code):
        raise _fail(f"ongeldige gemeentecode {code!r}: verwacht GM gevolgd door 4 cijfers, "
                    "bijv. GM0363")
    try:
        register().get(code)
    except UnknownGemeente:
        raise _fail(f"onbekende gemeentecode {code}: niet in de gemeentelijke indeling") from None
    return code


def print_summary(report: dict[str, Any], *, top: int = 10) -> None:
    """A short Rich summary of a technisch controlerapport."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    ok = report["verdict"] == "goedgekeurd"
    s = report["summary"]
    def n(value: int) -> str:
        return f"{value:,}".replace(",", ".")

    console.print(
        f"[bold {'green' if ok else 'red'}]{report['verdict'].upper()}[/]  "
        f"{report['file']['name']}: {report['dataset']} {report['gemeente']} {report['period']}, "
        f"{n(s['rows'])} regels, {n(s['errors'])} fouten, {n(s['warnings'])} waarschuwingen"
    )
    if report["findings"]:
        table = Table(show_header=True, header_style="bold")
        for name in ("code", "kolom", "ernst", "aantal", "voorbeelden (regel)"):
            table.add_column(name)
        for f in report["findings"][:top]:
            lines = ", ".join(str(e["line"]) for e in f["examples"] if e["line"] is not None)
            if not lines and f["examples"] and f["column"] is None:  # file level, e.g. codering
                lines = f["examples"][0]["value"] or ""
            table.add_row(f["code"], f["column"] or "", "fout" if f["severity"] == "error" else
                          "waarschuwing", str(f["count"]), lines)
        console.print(table)
        if len(report["findings"]) > top:
            console.print(f"… en nog {len(report['findings']) - top} soorten bevindingen.")
    for note in report.get("notes", []):
        console.print(f"[italic]{note}[/]")


def validate(
    file: Annotated[Path, typer.Argument(help="Het aan te leveren CSV-bestand.")],
    gemeente: Annotated[str, typer.Option(
        help="Gemeentecode van de aanleverende gemeente, bijv. GM0363.")],
    period: Annotated[str, typer.Option(help="Periode, bijv. 2026-H1.")],
    dataset: Annotated[str, typer.Option(help="Dataset: basis of facultatief.")],
    basis: Annotated[Path | None, typer.Option(
        help="Laatst goedgekeurde basisbestand (voor de controle geen-basisrecord bij "
        "facultatief).")] = None,
    output_format: Annotated[OutputFormat, typer.Option(
        "--format", help="Uitvoer: text, json of html.")] = OutputFormat.text,
    output: Annotated[Path | None, typer.Option(
        help="Schrijf het rapport naar dit bestand.")] = None,
    findings_csv: Annotated[Path | None, typer.Option(
        help="Schrijf alle bevindingen (onbeperkt) als CSV naar dit bestand.")] = None,
    statistic: Annotated[str, typer.Option(help="Statistiek.")] = "gmsd",
) -> None:
    """Controleer een bestand met precies de controles die CBS bij ontvangst uitvoert.

    Exitcode 0 = goedgekeurd, 1 = afgekeurd, 2 = gebruiks- of leesfout.
    """
    from ggk.validation import ValidationInputError, validate_file

    code = check_gemeente(gemeente)
    if not file.exists():
        raise _fail(f"bestand niet gevonden: {file}")
    if basis is not None and not basis.exists():
        raise _fail(f"basisbestand niet gevonden: {basis}")
    try:
        result = validate_file(file, dataset=dataset, gemeente=code, period=period, basis=basis,
                               statistic=statistic)
    except ValidationInputError as e:
        raise _fail(str(e)) from None
    try:
        if findings_csv is not None:
            result.write_findings_csv(findings_csv)
        rendered: str | None = None
        if output_format is OutputFormat.json:
            rendered = json.dumps(result.report, ensure_ascii=False, indent=2) + "\n"
        elif output_format is OutputFormat.html:
            rendered = result.render_html()
        if rendered is not None:
            if output is not None:
                output.write_text(rendered, encoding="utf-8")
            else:
                sys.stdout.write(rendered)
        else:
            if output is not None:
                output.write_text(json.dumps(result.report, ensure_ascii=False, indent=2) + "\n",
                                  encoding="utf-8")
            print_summary(result.report)
    except OSError as e:
        raise _fail(f"kan niet schrijven: {e.filename}: {e.strerror}") from None
    raise typer.Exit(EXIT_GOEDGEKEURD if result.accepted else EXIT_AFGEKEURD)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)

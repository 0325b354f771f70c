"""`ggk validate`: check a file locally with exactly the checks CBS runs at intake."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from ggk.definitions.options import DefinitionsOption, StatisticOption

EXIT_GOEDGEKEURD, EXIT_AFGEKEURD, EXIT_USAGE = 0, 1, 2
GEMEENTECODE = re.compile(r"^GM\d{4}$")


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    html = "html"


def printable(text: str) -> str:
    """`text` from a file (a column or file name, a value) safe for a terminal: control and
    format characters (escape sequences, bidi overrides, line ends) shown as \\xNN / \\uNNNN."""
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        if unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} else c
        for c in text
    )


def _fail(message: str) -> typer.Exit:
    typer.echo(f"ggk validate: {printable(message)}", err=True)
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
    """A short Rich summary of a technisch controlerapport. Nothing from the file is read as Rich
    markup (every such text is a plain `Text`), and control characters are shown, not sent."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    ok = report["verdict"] == "goedgekeurd"
    s = report["summary"]
    def n(value: int) -> str:
        return f"{value:,}".replace(",", ".")

    def plain(value: Any) -> Text:
        return Text(printable(str(value)))

    console.print(Text.assemble(
        (report["verdict"].upper(), f"bold {'green' if ok else 'red'}"), "  ",
        plain(f"{report['file']['name']}: {report['dataset']} {report['gemeente']} "
              f"{report['period']}, {n(s['rows'])} regels, {n(s['errors'])} fouten, "
              f"{n(s['warnings'])} waarschuwingen"),
    ))
    if report["findings"]:
        table = Table(show_header=True, header_style="bold")
        for name in ("code", "kolom", "ernst", "aantal", "voorbeelden (regel)"):
            table.add_column(name)
        for f in report["findings"][:top]:
            lines = ", ".join(str(e["line"]) for e in f["examples"] if e["line"] is not None)
            if f["column"] is None and f["examples"] and f["examples"][0]["value"]:
                # file level (codering) or a described value (aanhalingsteken-open)
                lines = ": ".join(filter(None, [lines, f["examples"][0]["value"]]))
            table.add_row(plain(f["code"]), plain(f["column"] or ""),
                          "fout" if f["severity"] == "error" else "waarschuwing",
                          str(f["count"]), plain(lines))
        console.print(table)
        if len(report["findings"]) > top:
            console.print(f"… en nog {len(report['findings']) - top} soorten bevindingen.")
    for note in report.get("notes", []):
        console.print(Text(printable(note), style="italic"))


def validate(
    file: Annotated[Path, typer.Argument(help="Het aan te leveren CSV-bestand.")],
    gemeente: Annotated[str, typer.Option(
        help="Gemeentecode van de aanleverende gemeente, bijv. GM0363.")],
    period: Annotated[str, typer.Option(help="Periode, bijv. 2026-H1.")],
    dataset: Annotated[str, typer.Option(
        help="Dataset van de statistiek (zie de definitie, bijv. de verplichte dataset).")],
    referenced: Annotated[Path | None, typer.Option(
        "--verplicht-bestand",
        help="Laatst goedgekeurde bestand van de dataset waarnaar deze dataset verwijst (voor "
        "de controle of elke regel daarin voorkomt).")] = None,
    output_format: Annotated[OutputFormat, typer.Option(
        "--format", help="Uitvoer: text, json of html.")] = OutputFormat.text,
    output: Annotated[Path | None, typer.Option(
        help="Schrijf het rapport naar dit bestand.")] = None,
    findings_csv: Annotated[Path | None, typer.Option(
        help="Schrijf alle bevindingen (onbeperkt) als CSV naar dit bestand.")] = None,
    statistic: StatisticOption = None,
    definitions: DefinitionsOption = None,
) -> None:
    """Controleer een bestand met precies de controles die CBS bij ontvangst uitvoert.

    Exitcode 0 = goedgekeurd, 1 = afgekeurd, 2 = gebruiks- of leesfout, geen gewoon bestand of
    interne fout (het bestand is dan niet beoordeeld).
    """
    from ggk.definitions import DefinitionError, UnknownPeriod
    from ggk.definitions.options import chosen_definition
    from ggk.validation import ValidationInputError, validate_file

    code = check_gemeente(gemeente)
    if not file.exists():
        raise _fail(f"bestand niet gevonden: {file}")
    if referenced is not None and not referenced.exists():
        raise _fail(f"verplicht bestand niet gevonden: {referenced}")
    try:
        definition = chosen_definition(statistic, definitions, period)
    except UnknownPeriod as e:
        raise _fail(f"onbekende periode of statistiek: {e}") from None
    except DefinitionError as e:
        raise _fail(f"definitie niet te laden: {e}") from None
    try:
        result = validate_file(file, dataset=dataset, gemeente=code, period=period,
                               referenced=referenced,
                               definition=definition)
        _write_outputs(result, output_format, output, findings_csv)
    except ValidationInputError as e:
        raise _fail(str(e)) from None
    except OSError as e:
        raise _fail(f"kan niet schrijven: {e.filename}: {e.strerror}") from None
    except Exception as e:  # exit 1 means afgekeurd, so a failure of ours must not exit 1
        first = (str(e).splitlines() or [""])[0][:300]
        raise _fail(f"interne fout ({type(e).__name__}: {first}); het bestand is niet "
                    "beoordeeld, meld dit bij de beheerder van ggk") from None
    raise typer.Exit(EXIT_GOEDGEKEURD if result.accepted else EXIT_AFGEKEURD)


def _write_outputs(result: Any, output_format: OutputFormat, output: Path | None,
                   findings_csv: Path | None) -> None:
    if findings_csv is not None:
        result.write_findings_csv(findings_csv)
    if output_format is OutputFormat.html:
        rendered = result.render_html()
        if output is not None:
            output.write_text(rendered, encoding="utf-8")
        else:
            sys.stdout.write(rendered)
        return
    if output is not None:  # the JSON report, also next to the text summary
        with output.open("w", encoding="utf-8") as out:
            _write_json(result.report, out)
    elif output_format is OutputFormat.json:
        _write_json(result.report, sys.stdout)
    if output_format is OutputFormat.text:
        print_summary(result.report)


def _write_json(report: dict[str, Any], out: TextIO) -> None:
    json.dump(report, out, ensure_ascii=False, indent=2)  # written piece by piece, not one string
    out.write("\n")


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)

"""The files of one release: SDMX-CSV 2.0 + SDMX-ML 2.1 structure, plain CSV, Excel, release
notes (Dutch), change log and the JSON manifest with the sha256 of every file.

Every file is written from the disclosure-controlled `PublicationTable` only: no format can show
more than the table."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from ggk.definitions import Definition
from ggk.mirror import disclosure
from ggk.mirror.interfaces import Indicator
from ggk.publication.models import NATIONAL, SUPPRESSED, PublicationTable, Release, Shown

CONF_FREE, CONF_CONFIDENTIAL = "F", "C"  # SDMX cross-domain CL_CONF_STATUS
OBS_NORMAL, OBS_MISSING = "A", "M"  # SDMX cross-domain CL_OBS_STATUS
SDMX_COLUMNS = ("STRUCTURE", "STRUCTURE_ID", "ACTION", "REF_AREA", "INDICATOR", "TIME_PERIOD",
                "OBS_VALUE", "CONF_STATUS", "OBS_STATUS")


def label(indicator: Indicator) -> str:
    """The indicator's Dutch name with its unit, unless the name already says it."""
    if indicator.eenheid.lower() in indicator.naam.lower():
        return indicator.naam
    return f"{indicator.naam} ({indicator.eenheid})"


def base_name(table: PublicationTable) -> str:
    return f"{table.statistic}-{table.period}"


def sdmx_period(period: str) -> str:
    """2026-H1 -> 2026-S1 (SDMX reporting period: semester)."""
    year, half = period.split("-H")
    return f"{year}-S{half}"


def number_text(value: Shown, decimalen: int) -> str:
    """A shown number as SDMX/CSV text with a decimal point; '' when suppressed or absent."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return f"{value:.{decimalen}f}"


def write_sdmx_csv(path: Path, table: PublicationTable, settings: Any) -> None:
    structure_id = f"{settings.agency}:{settings.dataflow}({settings.version})"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(SDMX_COLUMNS)
        for code, _ in table.rows:
            for ind in table.indicators:
                value = table.value(code, ind.code)
                conf = CONF_CONFIDENTIAL if value == SUPPRESSED else CONF_FREE
                status = OBS_MISSING if value is None or value == SUPPRESSED else OBS_NORMAL
                writer.writerow(("dataflow", structure_id, "I", code, ind.code,
                                 sdmx_period(table.period), number_text(value, ind.decimalen), conf,
                                 status))


def _name(text: str) -> str:
    return f'<com:Name xml:lang="nl">{escape(text)}</com:Name>'


def _codelist(agency: str, cid: str, name: str, codes: list[tuple[str, str]]) -> str:
    items = "".join(f'<str:Code id="{escape(c)}">{_name(n)}</str:Code>' for c, n in codes)
    return (f'<str:Codelist id="{cid}" agencyID="{agency}" version="1.0">{_name(name)}{items}'
            "</str:Codelist>")


def _concept_ref(agency: str, scheme: str, item: str) -> str:
    return (f'<Ref id="{item}" maintainableParentID="{scheme}" maintainableParentVersion="1.0" '
            f'agencyID="{agency}" class="Concept" package="conceptscheme"/>')


def structure_xml(table: PublicationTable, settings: Any, all_areas: list[tuple[str, str]],
                  now: dt.datetime) -> str:
    """SDMX-ML 2.1 structure message: codelists, concept scheme, DSD and dataflow."""
    a = escape(settings.agency)
    # the concept scheme's SDMX id: CS_<STATISTIC>
    scheme = f"CS_{re.sub(r'[^A-Za-z0-9_]', '_', table.statistic).upper()}"
    concepts = [("REF_AREA", "Gebied"), ("INDICATOR", "Indicator"), ("TIME_PERIOD", "Periode"),
                ("OBS_VALUE", "Waarde"), ("CONF_STATUS", "Vertrouwelijkheid"),
                ("OBS_STATUS", "Status waarneming")]
    concept_xml = "".join(f'<str:Concept id="{c}">{_name(n)}</str:Concept>' for c, n in concepts)
    codelists = "".join([
        _codelist(a, "CL_GEBIED", "Gemeenten en Nederland", all_areas),
        _codelist(a, "CL_INDICATOR", "Indicatoren " + table.title,
                  [(i.code, label(i)) for i in table.indicators]),
        _codelist(a, "CL_CONF_STATUS", "Vertrouwelijkheid",
                  [(CONF_FREE, "Vrij"), (CONF_CONFIDENTIAL, "Geheim (niet gepubliceerd)")]),
        _codelist(a, "CL_OBS_STATUS", "Status waarneming",
                  [(OBS_NORMAL, "Normaal"), (OBS_MISSING, "Ontbreekt")]),
    ])

    def coded(codelist: str) -> str:
        return ("<str:LocalRepresentation><str:Enumeration>"
                f'<Ref id="{codelist}" version="1.0" agencyID="{a}" package="codelist" '
                'class="Codelist"/></str:Enumeration></str:LocalRepresentation>')

    def concept_identity(concept: str) -> str:
        return ("<str:ConceptIdentity>" + _concept_ref(a, scheme, concept)
                + "</str:ConceptIdentity>")

    dims = "".join(
        f'<str:Dimension id="{d}" position="{p}">{concept_identity(d)}{coded(cl)}'
        "</str:Dimension>"
        for p, (d, cl) in enumerate((("REF_AREA", "CL_GEBIED"), ("INDICATOR", "CL_INDICATOR")), 1))
    time_dim = ('<str:TimeDimension id="TIME_PERIOD" position="3">'
                f'{concept_identity("TIME_PERIOD")}'
                "<str:LocalRepresentation><str:TextFormat textType=\"ObservationalTimePeriod\"/>"
                "</str:LocalRepresentation></str:TimeDimension>")
    attrs = "".join(
        f'<str:Attribute id="{c}" assignmentStatus="Mandatory">{concept_identity(c)}'
        f"{coded(cl)}<str:AttributeRelationship><str:PrimaryMeasure>OBS_VALUE"
        "</str:PrimaryMeasure></str:AttributeRelationship></str:Attribute>"
        for c, cl in (("CONF_STATUS", "CL_CONF_STATUS"), ("OBS_STATUS", "CL_OBS_STATUS")))
    measure = (f'<str:PrimaryMeasure id="OBS_VALUE">{concept_identity("OBS_VALUE")}'
               "<str:LocalRepresentation><str:TextFormat textType=\"Double\"/>"
               "</str:LocalRepresentation></str:PrimaryMeasure>")
    dsd = (f'<str:DataStructure id="{settings.structure}" agencyID="{a}" '
           f'version="{settings.version}">{_name(settings.naam)}<str:DataStructureComponents>'
           f'<str:DimensionList id="DimensionDescriptor">{dims}{time_dim}</str:DimensionList>'
           f'<str:AttributeList id="AttributeDescriptor">{attrs}</str:AttributeList>'
           f'<str:MeasureList id="MeasureDescriptor">{measure}</str:MeasureList>'
           "</str:DataStructureComponents></str:DataStructure>")
    flow = (f'<str:Dataflow id="{settings.dataflow}" agencyID="{a}" version="{settings.version}">'
            f"{_name(settings.naam)}<str:Structure>"
            f'<Ref id="{settings.structure}" version="{settings.version}" agencyID="{a}" '
            'class="DataStructure" package="datastructure"/></str:Structure></str:Dataflow>')
    stamp = now.astimezone(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<mes:Structure xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" '
        'xmlns:str="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure" '
        'xmlns:com="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common" '
        'xmlns:xml="http://www.w3.org/XML/1998/namespace">'
        f"<mes:Header><mes:ID>{escape(base_name(table))}-structure</mes:ID><mes:Test>false"
        f"</mes:Test><mes:Prepared>{stamp}</mes:Prepared><mes:Sender id=\"{a}\"/></mes:Header>"
        f"<mes:Structures><str:Dataflows>{flow}</str:Dataflows><str:Codelists>{codelists}"
        f'</str:Codelists><str:Concepts><str:ConceptScheme id="{scheme}" agencyID="{a}" '
        f'version="1.0">{_name("Concepten " + table.title)}{concept_xml}</str:ConceptScheme>'
        f"</str:Concepts><str:DataStructures>{dsd}</str:DataStructures></mes:Structures>"
        "</mes:Structure>\n")


def dutch_number(value: Shown, decimalen: int) -> str:
    return disclosure.format_nl(value, decimalen).replace(".", "") if isinstance(
        value, int | float) else ("" if value is None else str(value))


def write_plain_csv(path: Path, table: PublicationTable) -> None:
    """One row per area (NL first), one column per indicator; `;` and decimal comma as in the
    Dutch public tables; '.' = geheim (suppressed), empty = not available."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\n")
        writer.writerow(["gebiedcode", "gebiednaam", "periode",
                         *(i.code for i in table.indicators)])
        for code, naam in table.rows:
            writer.writerow([code, naam, table.period, *(
                dutch_number(table.value(code, i.code), i.decimalen) for i in table.indicators)])


def write_xlsx(path: Path, table: PublicationTable, release: str, now: dt.datetime) -> None:
    """The table as CBS's public tables show it: title, a header row of indicator names
    with units, NL first, '.' for geheim; a second sheet explains indicators and signs."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Tabel"
    sheet.append([f"{table.title}: {table.period}"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([f"Release {release}, gemaakt {now:%Y-%m-%d}. Alleen gemeenten met opt-in; "
                  "'.' = geheim (onderdrukt), leeg = niet beschikbaar."])
    sheet.append([])
    sheet.append(["Regiocode", "Regio", *(label(i) for i in table.indicators)])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for code, naam in table.rows:
        sheet.append([code, naam, *(table.value(code, i.code) for i in table.indicators)])
        row = sheet.max_row
        for column, ind in enumerate(table.indicators, 3):
            cell = sheet.cell(row, column)
            if isinstance(cell.value, int | float):
                cell.number_format = "#,##0" if ind.decimalen == 0 else \
                    "#,##0." + "0" * ind.decimalen
            else:
                cell.alignment = Alignment(horizontal="right")
        if code == NATIONAL:
            for cell in sheet[row]:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "C5"
    sheet.column_dimensions["B"].width = 34
    for column in range(3, 3 + len(table.indicators)):
        sheet.column_dimensions[sheet.cell(4, column).column_letter].width = 18
    notes = book.create_sheet("Toelichting")
    notes.append(["Code", "Indicator", "Eenheid", "Toelichting"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for ind in table.indicators:
        notes.append([ind.code, ind.naam, ind.eenheid, ind.toelichting])
    notes.append([])
    for line in rules_text(table):
        notes.append([line])
    notes.column_dimensions["B"].width = 50
    notes.column_dimensions["D"].width = 90
    book.save(path)


def rules_text(table: PublicationTable) -> list[str]:
    d = table.decisions
    return [
        f"Gemeenten: {d.opt_in} met opt-in gepubliceerd; niet opgenomen: {d.ingetrokken} "
        f"ingetrokken, {d.geen_besluit} zonder besluit, {d.niet_geleverd} zonder goedgekeurde "
        "levering.",
        "Nederland = de gepubliceerde gemeenten samen (niet heel Nederland).",
        f"Aantallen zijn afgerond op veelvouden van {disclosure.ROUND_TO}; een cel die op minder "
        f"dan {disclosure.MIN_COUNT} personen of voorzieningen rust, is geheim ('.').",
        "Waar een geheime cel uit andere cellen terug te rekenen zou zijn (Nederland min de "
        "gemeenten, of een totaal min zijn delen), is ook een andere cel geheim gemaakt.",
    ]


def previous_cells(release: Release) -> dict[tuple[str, str], str]:
    """(area, indicator) -> the published text of the previous release (from its SDMX-CSV)."""
    path = release.directory / release.manifest["sdmx_csv"]
    with path.open(encoding="utf-8") as f:
        return {(r["REF_AREA"], r["INDICATOR"]): (SUPPRESSED if r["CONF_STATUS"] ==
                                                   CONF_CONFIDENTIAL else r["OBS_VALUE"])
                for r in csv.DictReader(f)}


def cell_texts(table: PublicationTable) -> dict[tuple[str, str], str]:
    """(area, indicator) -> the published text, as `previous_cells` reads it back."""
    return {(code, ind.code): SUPPRESSED if table.value(code, ind.code) == SUPPRESSED
            else number_text(table.value(code, ind.code), ind.decimalen)
            for code, _ in table.rows for ind in table.indicators}


def change_log(table: PublicationTable, previous: Release | None,
               states_withdrawn: tuple[str, ...]) -> dict[str, Any]:
    if previous is None:
        return {"vorige_release": None, "verwijderd": [], "toegevoegd": [], "gewijzigd": []}
    before = previous_cells(previous)
    old = set(previous.manifest["gemeenten"])
    new = {c for c, _ in table.gemeenten}
    names = dict(table.gemeenten) | previous.manifest.get("gemeentenamen", {})
    removed = [{"gemeente": c, "naam": names.get(c, c),
                "reden": "besluit ingetrokken" if c in states_withdrawn else "geen opt-in meer"}
               for c in sorted(old - new)]
    added = [{"gemeente": c, "naam": names.get(c, c)} for c in sorted(new - old)]
    changed = [{"gebied": area, "indicator": indicator, "vorige": before.get((area, indicator)),
                "nieuw": text}
               for (area, indicator), text in cell_texts(table).items()
               if (area == NATIONAL or area in old) and before.get((area, indicator)) != text]
    return {"vorige_release": previous.name, "verwijderd": removed, "toegevoegd": added,
            "gewijzigd": changed}


def release_notes(table: PublicationTable, name: str, changes: dict[str, Any],
                  publication_day: dt.date | None, now: dt.datetime) -> str:
    lines = [f"# {table.title}: {table.period}, release {name}", "",
             f"Gemaakt op {now:%Y-%m-%d}" + (f"; publicatiedatum volgens de kalender "
                                             f"{publication_day:%Y-%m-%d}." if publication_day
                                             else "."), ""]
    lines += [f"- {line}" for line in rules_text(table)]
    suppressed = sum(v == SUPPRESSED for v in table.cells.values())
    lines += [f"- {len(table.cells)} cellen, waarvan {suppressed} geheim.", ""]
    if changes["vorige_release"] is None:
        lines.append("Eerste release van deze periode.")
    else:
        lines.append(f"## Wijzigingen ten opzichte van release {changes['vorige_release']}")
        lines.append("")
        for r in changes["verwijderd"]:
            lines.append(f"- Verwijderd: {r['naam']} ({r['gemeente']}): {r['reden']} na de "
                         "vorige release; haar cijfers staan niet meer in deze release en tellen "
                         "niet meer mee in Nederland.")
        for r in changes["toegevoegd"]:
            lines.append(f"- Toegevoegd: {r['naam']} ({r['gemeente']}): opt-in gegeven.")
        lines.append(f"- {len(changes['gewijzigd'])} cel(len) gewijzigd (zie changes.json).")
    return "\n".join(lines) + "\n"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_release(directory: Path, table: PublicationTable, settings: Any, number: int,
                  previous: Release | None, source_print: str, definition: Definition,
                  now: dt.datetime) -> None:
    from ggk.refdata import register

    name = f"r{number}"
    base = base_name(table)
    files = {
        "sdmx_csv": f"{base}.sdmx.csv",
        "sdmx_structure": f"{table.statistic}-structure.xml",
        "csv": f"{base}.csv",
        "xlsx": f"{base}.xlsx",
        "notes": "release-notes.md",
        "changes": "changes.json",
    }
    write_sdmx_csv(directory / files["sdmx_csv"], table, settings)
    areas = [(NATIONAL, "Nederland")] + [(g.code, g.naam) for g in register().all()]
    (directory / files["sdmx_structure"]).write_text(
        structure_xml(table, settings, areas, now), "utf-8")
    write_plain_csv(directory / files["csv"], table)
    write_xlsx(directory / files["xlsx"], table, name, now)
    changes = change_log(table, previous, table.withdrawn)
    (directory / files["changes"]).write_text(
        json.dumps(changes, indent=2, ensure_ascii=False) + "\n", "utf-8")
    publication_day = definition.calendar(table.period).events.get("publicatie")
    (directory / files["notes"]).write_text(
        release_notes(table, name, changes, publication_day, now), "utf-8")
    d = table.decisions
    manifest = {
        "statistic": table.statistic, "edition": table.edition, "titel": table.title,
        "periode": table.period, "release": number, "naam": f"{base}-{name}",
        "vorige_release": previous.name if previous else None,
        "gemaakt": now.astimezone(dt.UTC).replace(microsecond=0).isoformat(),
        "publicatiedatum": publication_day.isoformat() if publication_day else None,
        "aantallen": {**d.as_json(), "gepubliceerd": len(table.gemeenten),
                      "indicatoren": len(table.indicators), "cellen": len(table.cells),
                      "geheim": sum(v == SUPPRESSED for v in table.cells.values())},
        "gemeenten": [c for c, _ in table.gemeenten],
        "gemeentenamen": dict(table.gemeenten),
        "openbaarmaking": {"afronding": disclosure.ROUND_TO,
                           "minimum_telling": disclosure.MIN_COUNT, "geheim": SUPPRESSED,
                           "secundaire_geheimhouding": True},
        "sdmx_csv": files["sdmx_csv"], "sdmx_structuur": files["sdmx_structure"],
        "bron": source_print,
        "bestanden": {f: {"sha256": sha256(directory / f), "bytes": (directory / f).stat().st_size}
                      for f in sorted(files.values())},
    }
    (directory / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")

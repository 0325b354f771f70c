"""The dashboard's rows as CSV (semicolon-separated, as Dutch spreadsheets open it) and as Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from ggk.localtime import shown
from ggk.station.interfaces import DatasetState

COLUMNS = ("gemeentecode", "gemeente", "statistiek", "periode", "dataset", "verplicht",
           "toestand", "versies", "goedgekeurde_versie", "laatste_aanlevering", "deadline",
           "te_laat", "afgekeurd", "uitstel_tot", "signalen", "toelichtingen", "besluit")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """Text of a cell; a value a spreadsheet would run as a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_rows(states: Sequence[DatasetState]) -> list[list[object]]:
    return [[s.gemeente, s.naam, s.statistic, s.period, s.dataset,
             "ja" if s.required else "nee", s.state, s.versions, s.accepted_version,
             shown(s.last_delivery_at, empty=""), s.deadline.isoformat() if s.deadline else "",
             "ja" if s.overdue else "nee", "ja" if s.rejected else "nee",
             s.extension_until.isoformat() if s.extension_until else "", s.flags, s.comments,
             s.besluit or ""] for s in states]


def to_csv(states: Sequence[DatasetState]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in export_rows(states):
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(states: Sequence[DatasetState]) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    sheet = book.add_worksheet("aanleveringen")
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, COLUMNS, bold)
    for index, row in enumerate(export_rows(states), start=1):
        sheet.write_row(index, 0, ["" if v is None else v for v in row])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(states), len(COLUMNS) - 1)
    book.close()
    return buffer.getvalue()

"""Checks of a release's files, shared by the tests: the SDMX structure and data read by an
independent SDMX implementation (sdmx1), the Excel and CSV tables equal to the SDMX data."""

from __future__ import annotations

import csv

import sdmx
from openpyxl import load_workbook

from ggk.publication import Release


def check_release_files(release: Release) -> dict[tuple[str, str], str]:
    """Every format says the same; returns (area, indicator) -> SDMX OBS_VALUE ('' = hidden)."""
    m = release.manifest
    structure = sdmx.read_sdmx(release.directory / m["sdmx_structuur"])
    flow = structure.dataflow["DF_GMSD_WMO"]
    dsd = flow.structure
    assert [d.id for d in dsd.dimensions] == ["REF_AREA", "INDICATOR", "TIME_PERIOD"]
    assert {a.id for a in dsd.attributes} == {"CONF_STATUS", "OBS_STATUS"}
    assert len(structure.codelist["CL_GEBIED"]) == 343  # NL and the 342 municipalities
    message = sdmx.read_sdmx(release.directory / m["sdmx_csv"], structure=flow)
    (dataset,) = message.data
    assert len(dataset.obs) == m["aantallen"]["cellen"]
    sdmx_cells = {}
    for obs in dataset.obs:
        key = obs.key.get_values()
        assert key[2] == m["periode"].replace("-H", "-S")
        assert key[0] in structure.codelist["CL_GEBIED"]
        assert key[1] in structure.codelist["CL_INDICATOR"]
        conf = obs.attached_attribute["CONF_STATUS"].value
        assert (conf == "C") == (obs.value in ("", None))
        sdmx_cells[(key[0], key[1])] = "" if obs.value is None else str(obs.value)
    assert sum(v == "" for v in sdmx_cells.values()) == m["aantallen"]["geheim"]

    with (release.directory / f"{m['statistic']}-{m['periode']}.csv").open(
            encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header = rows[0][3:]
    book = load_workbook(release.directory / f"{m['statistic']}-{m['periode']}.xlsx")
    sheet = book["Tabel"]
    excel_rows = [r for r in sheet.iter_rows(min_row=5, values_only=True)]
    assert [r[0] for r in excel_rows] == [r[0] for r in rows[1:]] == ["NL", *m["gemeenten"]]
    for row, excel in zip(rows[1:], excel_rows, strict=True):
        for code, text, cell in zip(header, row[3:], excel[2:], strict=True):
            published = sdmx_cells[(row[0], code)]
            if published == "":
                assert text == "." and cell == "."
            else:
                assert float(text.replace(",", ".")) == float(published) == float(cell)
    return sdmx_cells

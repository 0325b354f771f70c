"""Disclosure control: unit rules, and all text of many generated reports (JSON, HTML, PDF)."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ggk.definitions import Definition
from ggk.definitions.periods import period_bounds
from ggk.mirror import build_spiegelrapport, load_indicators
from ggk.mirror import disclosure as dc
from ggk.mirror.indicators import compute
from ggk.mirror.population import gemeente_table
from ggk.refdata import register
from tests.mirror.conftest import PERIOD, class_members, synthetic_source


def test_counts_rounded_and_small_ones_suppressed() -> None:
    assert [dc.rounded_count(v) for v in (0, 3, 9, 9.9)] == [".", ".", ".", "."]
    assert [dc.rounded_count(v) for v in (10, 12, 13, 17, 18, 1234)] == [10, 10, 15, 15, 20, 1235]


def test_ratio_with_small_numerator_suppressed() -> None:
    assert dc.own_value(33.3, 9, telling=False, decimalen=1) == "."
    assert dc.own_value(33.33, 10, telling=False, decimalen=1) == 33.3
    assert dc.own_value(13.0, 13, telling=True, decimalen=0) == 15
    assert dc.own_value(None, 0, telling=False, decimalen=1) is None


def test_group_statistics_need_five_municipalities() -> None:
    assert dc.group_statistics([1.0, 2.0, 3.0, 4.0], telling=False, decimalen=1) is None
    stats = dc.group_statistics([11.0, 12.0, 13.0, 14.0, 16.0], telling=True, decimalen=0)
    assert stats == {"mediaan": 15, "p10": 10, "p90": 15, "aantal_gemeenten": 5}


def test_change_only_between_shown_values() -> None:
    assert dc.change(".", 20, 7, 20) is None
    assert dc.change(30, 20, 31, 20) == 55


def test_dutch_format() -> None:
    assert dc.format_nl(1234.5, 1) == "1.234,5"
    assert dc.format_nl(".", 1) == "." and dc.format_nl(None, 1) == "-"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.cells: list[tuple[str, list[str]]] = []  # (first cell, numeric cells) per row
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row:
            self.cells.append((self._row[0], self._row[2:]))
            self._row = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _count_token_ok(token: str) -> bool:
    """A shown count: '.', '-', or a multiple of 5 of at least 10 (Dutch thousands dots)."""
    if token in {".", "-", "–"}:
        return True
    value = int(token.replace(".", ""))
    return value >= 10 and value % 5 == 0


NUMBER = re.compile(r"(?<![\w,+\-])\d{1,3}(?:\.\d{3})*(?![\w,%])")


def _walk(obj: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(obj, dict):
        return [x for k, v in obj.items() for x in _walk(v, f"{path}.{k}")]
    if isinstance(obj, list):
        return [x for i, v in enumerate(obj) for x in _walk(v, f"{path}[{i}]")]
    return [(path, obj)]


@pytest.fixture(scope="module")
def many_reports(
    definition: Definition, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Reports for several municipalities of size classes 1-3, many with small counts."""
    codes = class_members(1) + class_members(2) + class_members(3)[:14]
    # small and odd-sized deliveries so that many counts are below 10 or not multiples of 5
    clients = {c: 7 + 13 * i for i, c in enumerate(codes)}
    source = synthetic_source(codes, seed=11, clients=clients)
    start, end = period_bounds(PERIOD)
    data = {
        ds: pl.concat(list(source.accepted("gmsd", PERIOD, ds).values()))
        for ds in ("basis", "facultatief")
    }
    raw = compute(load_indicators(definition), data, gemeente_table(codes), start, end)
    out = tmp_path_factory.mktemp("reports")
    made = {}
    for i, code in enumerate(codes[::3]):
        report = build_spiegelrapport(definition, PERIOD, code, source)
        formats = ("json", "html", "pdf") if i < 4 else ("json", "html")
        paths = report.write(out / code, formats)
        made[code] = {p.suffix: p for p in paths}
    return {"codes": codes, "raw": raw, "reports": made}


def _texts(files: dict[str, Path]) -> dict[str, str]:
    texts = {".json": files[".json"].read_text("utf-8")}
    parser = _Text()
    parser.feed(files[".html"].read_text("utf-8"))
    texts[".html"] = " ".join(parser.parts)
    if ".pdf" in files:
        texts[".pdf"] = subprocess.run(
            ["pdftotext", "-layout", str(files[".pdf"]), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return texts


def test_no_other_municipality_in_any_format(many_reports: dict[str, Any]) -> None:
    reg = register()
    for code, files in many_reports["reports"].items():
        for fmt, text in _texts(files).items():
            for other in many_reports["codes"]:
                if other == code:
                    continue
                assert other not in text, f"{code}{fmt} names {other}"
                assert not re.search(rf"\b{re.escape(reg.get(other).naam)}\b", text), (
                    f"{code}{fmt} names {reg.get(other).naam}"
                )


def test_json_counts_rounded_suppressed_and_no_per_municipality_values(
    definition: Definition, many_reports: dict[str, Any]
) -> None:
    indicators = load_indicators(definition)
    raw = many_reports["raw"]
    suppressed_seen = 0
    for code, files in many_reports["reports"].items():
        data = json.loads(files[".json"].read_text("utf-8"))
        for _path, value in _walk(data):
            assert not (
                isinstance(value, str) and re.fullmatch(r"GM\d{4}", value) and value != code
            )
        for entry in data["indicators"]:
            ind = indicators.get(entry["code"])
            row = raw.filter(
                (pl.col("gemeentecode") == code) & (pl.col("indicator") == ind.code)
            ).row(0, named=True)
            if row["teller"] < dc.MIN_COUNT:
                assert entry["eigen"] == ".", (code, ind.code)
                suppressed_seen += 1
            if ind.telling:
                shown = [entry["eigen"], entry["vorige_periode"], entry["landelijk"]]
                shown += (
                    [entry["peers"][k] for k in ("mediaan", "p10", "p90")] if entry["peers"] else []
                )
                for v in shown:
                    assert v == "." or (isinstance(v, int) and v >= 10 and v % 5 == 0), (code, v)
            if entry["peers"]:
                assert entry["peers"]["aantal_gemeenten"] >= dc.MIN_GROUP
                assert set(entry["peers"]) == {"mediaan", "p10", "p90", "aantal_gemeenten"}
    assert suppressed_seen > 5  # the data really had small counts


def test_html_and_pdf_tables_show_only_rounded_counts(
    definition: Definition, many_reports: dict[str, Any]
) -> None:
    count_names = [i.naam for i in load_indicators(definition).indicators if i.telling]
    raw = many_reports["raw"]
    checked = 0
    for code, files in many_reports["reports"].items():
        parser = _Text()
        parser.feed(files[".html"].read_text("utf-8"))
        for first, cells in parser.cells:
            if first in count_names:
                for cell in cells:
                    if cell.endswith("%"):
                        continue  # the change in percent, not a count
                    for token in re.split(r"\s*–\s*", cell):
                        assert _count_token_ok(token), (code, first, cell)
                        checked += 1
        texts = _texts(files)
        if ".pdf" in texts:
            for line in texts[".pdf"].splitlines():
                stripped = line.strip()
                if any(stripped.startswith(n) for n in count_names):
                    for token in NUMBER.findall(stripped):
                        assert _count_token_ok(token), (code, line)
                        checked += 1
        # no unrounded count of any municipality appears anywhere as a number
        counts = raw.filter(
            pl.col("indicator").is_in(["gestart", "beeindigd"])
            & (pl.col("teller") % 5 != 0)
            & (pl.col("teller") > 10)
        )["teller"]
        for fmt, text in texts.items():
            numbers = {
                int(t.replace(".", ""))
                for t in NUMBER.findall(re.sub(r"<svg.*?</svg>", "", text, flags=re.S))
            }
            if fmt == ".pdf":
                continue  # chart axes (ticks) are numbers too; tables are checked above
            leaked = numbers & {c for c in counts.to_list() if c >= 100}
            assert not leaked, (code, fmt, leaked)
    assert checked > 50

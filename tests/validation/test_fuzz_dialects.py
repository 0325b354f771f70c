"""Fuzz: random dialects and values, read by the validator and by an independent reader.

Hypothesis draws a dialect (delimiter, quote character, line end, quoting style, BOM), a header
in random order and case, and rows of random values, including delimiters, quotes, line ends and
non-ASCII inside values. Python's stdlib `csv` module writes the file and reads it back; the
validator (through `validate_file` and `read_rows`, as the station uses them) must find the same
records, with the same values and the physical line on which each record starts, and must
accept the file (the dataset has only optional string fields). Values never start or end with
a space or tab, because the spec trims those outside quotes and the csv module does not.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ggk.definitions import FieldSpec, shipped
from ggk.definitions.interfaces import Dialect
from ggk.validation import read_rows, validate_file

BASE = shipped().for_period("gmsd", "2026-H1")
NAMES = ("alfa", "bravo", "charlie", "delta", "echo")
DELIMITERS = (";", ",", "|", "\t", ":")
QUOTES = ('"', "'", "`")
CHARACTERS = list(';,|\t:"\'` \nabcXYZ019éß€-=+@') + ["\u00a0", "\U0001f600"]
VALUE = st.text(alphabet=st.sampled_from(CHARACTERS), max_size=12).filter(
    lambda v: v == v.strip(" \t") and "\u00a0" not in (v[:1], v[-1:]))


@st.composite
def delivery(draw: st.DrawFn) -> tuple[Dialect, list[str], list[list[str]], dict]:
    delimiter = draw(st.sampled_from(DELIMITERS))
    quote = draw(st.sampled_from(QUOTES))
    names = list(draw(st.one_of(  # mostly every column, in any order; sometimes some missing
        st.permutations(NAMES), st.permutations(NAMES), st.permutations(NAMES),
        st.lists(st.sampled_from(NAMES), min_size=2, max_size=4, unique=True))))
    rows = draw(st.lists(st.lists(VALUE, min_size=len(names), max_size=len(names)),
                         max_size=15))
    style = {
        "lineterminator": draw(st.sampled_from(["\n", "\r\n"])),
        "quoting": draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        "bom": draw(st.booleans()),
        "upper": draw(st.booleans()),
        "blank_after": draw(st.lists(st.integers(0, 15), max_size=2)),
    }
    return Dialect(delimiter=delimiter, quote_char=quote), names, rows, style


def _write(dialect: Dialect, names: list[str], rows: list[list[str]], style: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=dialect.delimiter, quotechar=dialect.quote_char,
                        lineterminator=style["lineterminator"], quoting=style["quoting"],
                        doublequote=True)
    writer.writerow([n.upper() if style["upper"] else n for n in names])
    for i, row in enumerate(rows):
        writer.writerow(row)
        if i in style["blank_after"]:
            out.write(style["lineterminator"])  # a blank line: ignored, but it has a number
    return ("\ufeff" if style["bom"] else "") + out.getvalue()


def _independent(text: str, dialect: Dialect) -> list[tuple[int, dict[str, str | None]]]:
    """Records by the stdlib reader: (first physical line, {column: value or None})."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""),
                        delimiter=dialect.delimiter, quotechar=dialect.quote_char,
                        doublequote=True)
    records, header, previous = [], None, 0
    for row in reader:
        start, previous = previous + 1, reader.line_num
        if not row:
            continue
        if header is None:
            header = [name.strip().lower() for name in row]
            continue
        records.append((start, {n: (v if v != "" else None) for n, v in zip(header, row,
                                                                                strict=True)}))
    return records


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(delivery())
def test_random_dialects_read_as_the_stdlib_reads_them(
        case: tuple[Dialect, list[str], list[list[str]], dict]) -> None:
    dialect, names, rows, style = case
    spec = dataclasses.replace(
        BASE.dataset("basis"), name="proef", dialect=dialect, primary_key=(), foreign_keys=(),
        fields=tuple(FieldSpec(n, "string", n, "") for n in NAMES))
    definition = dataclasses.replace(BASE, datasets=(spec,), rules=())
    text = _write(dialect, names, rows, style)
    expected = _independent(text, dialect)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "proef.csv"
        path.write_bytes(text.encode("utf-8"))
        result = validate_file(path, dataset="proef", gemeente="GM0363", period="2026-H1",
                               definition=definition)
        missing = [n for n in NAMES if n not in names]
        assert [(f["code"], f["column"]) for f in result.report["findings"]] == [
            ("kolom-ontbreekt", n) for n in missing], (text, result.report["findings"])
        if missing:
            return  # every field must be in the header; the records are compared below
        assert result.accepted
        assert result.report["summary"]["rows"] == len(expected)
        frame = read_rows(path, definition=definition, dataset="proef")
    got = [(row.pop("line"), row) for row in frame.iter_rows(named=True)]
    assert got == expected, text

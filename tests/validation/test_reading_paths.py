"""The clean-file fast path of read_delivery gives exactly what the general path gives.

read_delivery first tries one native `read_csv` (reading._read_plain) and falls back to the
general line-by-line path whenever it cannot prove the result is the same. Every input here is
read both ways and the outcomes (records frame, line numbers, columns, file findings) must be
identical; the hand-made cases also pin down which path a file takes, so that both are exercised.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from ggk.definitions import shipped
from ggk.testdata import FileStyle, generate
from ggk.validation import reading
from ggk.validation.reading import BOM, ParsedFile, read_delivery
from tests.testdata.strategies import defect_mix

DEFINITION = shipped().for_period("gmsd", "2026-H1")
BASIS = DEFINITION.dataset("basis")
HEADER = ("gemeentecode;bsn;productcategorie;leveringsvorm;begindatum;einddatum;intensiteit;"
          "eenheid;reden_beeindiging")
ROWS = [
    "GM0363;111222333;01;ZIN;2026-01-01;;;;",
    "GM0363;123456782;02;PGB;2025-06-01;2026-03-31;4,5;uur;01",
    "GM0363;100000009;07;ZIN;2026-02-01;;2;dagdeel;",
    "GM0014;111222333;03;ZIN;2026-01-15;2026-12-31;3,5 uur;;",
]


def _lines(*rows: str, header: str = HEADER) -> list[str]:
    return [header, *rows]


def _file(lines: list[str], end: str = "\n", final: bool = True) -> bytes:
    return (end.join(lines) + (end if final else "")).encode("utf-8")


def _same(raw: bytes) -> tuple[ParsedFile, bool]:
    """Read both ways, demand identical results; return them and whether the fast path applied."""
    general = read_delivery(raw, BASIS, fast=False)
    fast = read_delivery(raw, BASIS)
    for name in ("physical_lines", "header_line", "columns", "file_findings", "data_lines"):
        assert getattr(fast, name) == getattr(general, name), name
    assert (fast.records is None) == (general.records is None)
    if general.records is not None:
        assert_frame_equal(fast.records, general.records)
    body = raw.removeprefix(BOM)
    physical = body.count(b"\n") + (0 if body.endswith(b"\n") or not body else 1)
    took = reading._read_plain(body, BASIS, physical) is not None
    return general, took


FAST = {
    "lf": _file(_lines(*ROWS)),
    "crlf": _file(_lines(*ROWS), "\r\n"),
    "no final newline": _file(_lines(*ROWS), final=False),
    "crlf, no final newline": _file(_lines(*ROWS), "\r\n", final=False),
    "bom": BOM + _file(_lines(*ROWS)),
    "padded values": _file(_lines(*(" ; ".join(r.split(";")) for r in ROWS))),
    "tabs and spaces at line ends": _file(_lines(*(f" \t{r}\t " for r in ROWS)), "\r\n"),
    "whitespace-only values": _file(_lines(*(r.replace(";;", "; \t ;") for r in ROWS))),
    "header in other order and case": _file([
        "BSN ; GemeenteCode;productcategorie;leveringsvorm;begindatum;einddatum;intensiteit;"
        "eenheid;reden_beeindiging",
        *(";".join([r.split(";")[1], r.split(";")[0], *r.split(";")[2:]]) for r in ROWS),
    ]),
    "every field empty": _file(_lines(";" * 8, *ROWS)),
    "non-ascii and nul": _file(_lines(*ROWS, "GM0363;111222333;01;ZÏN\x00;2026-01-01;;;;")),
    "one data line": _file(_lines(ROWS[0])),
}
GENERAL = {
    "quoted field": _file(_lines(*ROWS, 'GM0363;"111222333";01;ZIN;2026-01-01;;;;')),
    "stray quote": _file(_lines(*ROWS, 'GM0363;111222333;01;Z"IN;2026-01-01;;;;')),
    "blank line": _file(_lines(ROWS[0], "", *ROWS[1:])),
    "whitespace-only line": _file(_lines(ROWS[0], " \t ", *ROWS[1:])),
    "blank line at the end": _file(_lines(*ROWS, "")),
    "blank line before the header": _file(["", *_lines(*ROWS)]),
    "crlf blank line": _file(_lines(ROWS[0], "", *ROWS[1:]), "\r\n"),
    "lone cr": _file(_lines(*ROWS, "GM0363;111222333;01;Z\rIN;2026-01-01;;;;")),
    "field too many": _file(_lines(*ROWS, ROWS[0] + ";")),
    "field too few": _file(_lines(*ROWS, ROWS[0][:-1])),
    "too many and too few": _file(_lines(ROWS[0] + ";", *ROWS[1:], ROWS[0][:-1])),
    "too few, then too many at the end without newline": _file(
        _lines(ROWS[0][:-1], *ROWS[1:], ROWS[0] + ";"), final=False
    ),
    "header only": _file([HEADER]),
    "header only, no newline": _file([HEADER], final=False),
    "empty": b"",
    "duplicate column": _file(_lines(*ROWS, header=HEADER + ";bsn")),
    "unknown column": _file(_lines(*(r + ";x" for r in ROWS), header=HEADER + ";opmerking")),
    "missing column": _file(_lines(*(r.rsplit(";", 1)[0] for r in ROWS),
                                   header=HEADER.rsplit(";", 1)[0])),
    "comma separated": _file(_lines(*(r.replace(";", ",") for r in ROWS),
                                    header=HEADER.replace(";", ","))),
}


@pytest.mark.parametrize("raw", FAST.values(), ids=FAST.keys())
def test_clean_files_take_the_fast_path_with_the_same_result(raw: bytes) -> None:
    _, took = _same(raw)
    assert took


@pytest.mark.parametrize("raw", GENERAL.values(), ids=GENERAL.keys())
def test_other_files_fall_back_to_the_general_path(raw: bytes) -> None:
    _, took = _same(raw)
    assert not took


def test_padded_lines_beyond_the_limit_trim_every_value() -> None:
    raw = FAST["padded values"]
    with mock.patch.object(reading, "PADDED_LINES_LIMIT", 3):
        assert reading._trimmed(raw, ";") is None
        _same(raw)


CELL = st.text(alphabet=st.sampled_from(list("0123456789GMZINuré, -\t")), max_size=6)
ROW = st.sampled_from([9, 9, 9, 9, 9, 8, 10]).flatmap(
    lambda n: st.lists(CELL, min_size=n, max_size=n)
)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(ROW, min_size=1, max_size=12),
    end=st.sampled_from(["\n", "\r\n"]),
    final=st.booleans(),
    blank_at=st.lists(st.integers(0, 12), max_size=2),
    limit=st.sampled_from([1, 10_000]),
)
def test_random_files_read_the_same_both_ways(
    rows: list[list[str]], end: str, final: bool, blank_at: list[int], limit: int
) -> None:
    lines = [";".join(r) for r in rows]
    for i in blank_at:
        lines.insert(min(i, len(lines)), "")
    with mock.patch.object(reading, "PADDED_LINES_LIMIT", limit):
        _, took = _same(_file(_lines(*lines), end, final))
    event("fast path" if took else "general path")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(errors=defect_mix("basis"), rows=st.integers(5, 200), seed=st.integers(0, 10_000),
       varied=st.booleans())
def test_generated_files_read_the_same_both_ways(
    errors: dict[str, int], rows: int, seed: int, varied: bool
) -> None:
    style = FileStyle.varied(seed) if varied else FileStyle()
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate(DEFINITION, "basis", "GM0363", "2026-H1",
                             rows=rows + sum(errors.values()), errors=errors, seed=seed,
                             out=Path(tmp), style=style)
        _, took = _same(generated.path.read_bytes())
    event("fast path" if took else "general path")

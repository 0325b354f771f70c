"""Quotes open a quoted field only at the start of a field (spec section 3, as csv and Polars do).

A stray quote inside an unquoted value must not swallow the following lines; a quoted field that
spans lines gives the record the physical line number of its first line, and the lines after it
keep their own numbers.
"""

from __future__ import annotations

from pathlib import Path

from ggk.validation import validate_file

HEADER = ("gemeentecode;bsn;productcategorie;leveringsvorm;begindatum;einddatum;intensiteit;"
          "eenheid;reden_beeindiging")


def _findings(tmp_path: Path, rows: list[str]) -> tuple[set[tuple[int, str | None, str]], dict]:
    path = tmp_path / "basis.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = validate_file(path, dataset="basis", gemeente="GM0363", period="2026-H1")
    got = {(r["line"], r["column"], r["code"]) for r in result.findings.iter_rows(named=True)}
    return got, result.report["summary"]


def test_stray_quote_inside_a_value_is_a_plain_character(tmp_path: Path) -> None:
    got, summary = _findings(tmp_path, [
        'GM0363;111222333;01;Z"IN;2026-01-01;;;;',  # 2: codelijst, nothing else
        "GM0363;123456782;02;ZIN;2026-01-01;;;;",  # 3: fine
        'GM0363;100000009;03;PGB;2026-01-01;;1"5;uur;',  # 4: type
        "GM0363;100000009;03;PGB;2026-01-01;;;;",  # 5: dubbel-record of line 4
    ])
    assert got == {(2, "leveringsvorm", "codelijst"), (4, "intensiteit", "type"),
                   (5, None, "dubbel-record")}
    assert summary["rows"] == 4


def test_multiline_quoted_fields_keep_line_numbers(tmp_path: Path) -> None:
    got, summary = _findings(tmp_path, [
        'GM0363;"1234\n56782";01;ZIN;2026-01-01;;;;',  # 2-3: patroon (newline inside)
        "GM0363;111222333;99;ZIN;2026-01-01;;;;",  # 4: codelijst
        'GM0363;"111222333";"0""2";"ZIN";2026-01-01;;;;',  # 5: codelijst (escaped quote)
        '"GM0363";123456782;"02\n\n";ZIN;2026-01-01;;;;',  # 6-8: codelijst, blank line inside
        "GM0363;123456782;03;ZIN;2026-01-01;2025-12-31;;;",  # 9: einddatum-voor-begindatum
    ])
    assert got == {(2, "bsn", "patroon"), (4, "productcategorie", "codelijst"),
                   (5, "productcategorie", "codelijst"), (6, "productcategorie", "codelijst"),
                   (9, "einddatum", "einddatum-voor-begindatum"), (9, None, "buiten-periode")}
    assert summary["rows"] == 5


def test_spaces_before_a_quoted_field_and_a_delimiter_inside_it(tmp_path: Path) -> None:
    got, summary = _findings(tmp_path, [
        'GM0363; "111222333" ;01; "Z;IN";2026-01-01;;;;',  # 2: codelijst with value Z;IN
        'GM0363;123456782;02;ZIN;2026-01-01;;" 4,5";uur;',  # 3: quoted keeps space: type
    ])
    assert got == {(2, "leveringsvorm", "codelijst"), (3, "intensiteit", "type")}
    assert summary["rows"] == 2

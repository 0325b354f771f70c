"""A BSN never shows in full, also where it is not in the bsn column.

Two realistic export mistakes put a BSN elsewhere: a file without header line (its first data line
is read as the header, so BSNs become unknown column names) and swapped columns (a BSN in the
gemeentecode column fails that column's pattern). Every output is searched for the full number.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ggk.validation import validate_file

HEADER = ("gemeentecode;bsn;productcategorie;leveringsvorm;begindatum;einddatum;intensiteit;"
          "eenheid;reden_beeindiging")
BSN, OTHER_BSN = "111222333", "123456782"

CASES = {
    "no header line": f"GM0363;{BSN};01;ZIN;2026-01-01;;;;\n"
                      f"GM0363;{OTHER_BSN};02;ZIN;2026-01-01;;;;\n",
    "swapped columns": f"{HEADER}\n{BSN};GM0363;01;ZIN;2026-01-01;;;;\n"
                       f"GM0363;{OTHER_BSN};{OTHER_BSN};ZIN;2026-01-01;;{BSN};uur;\n",
    "bsn in a date and in a code": f"{HEADER}\nGM0363;{OTHER_BSN};01;ZIN;{BSN};;;;\n"
                                   f"GM0363;{OTHER_BSN};02;ZIN;2026-01-01;;;;{BSN}x\n",
}


@pytest.mark.parametrize("content", CASES.values(), ids=CASES.keys())
def test_bsn_outside_its_column_is_masked_everywhere(tmp_path: Path, content: str) -> None:
    path = tmp_path / "basis.csv"
    path.write_text(content, encoding="utf-8")
    result = validate_file(path, dataset="basis", gemeente="GM0363", period="2026-H1")
    assert not result.accepted
    csv_path = tmp_path / "findings.csv"
    result.write_findings_csv(csv_path)
    outputs = {
        "json": json.dumps(result.report, ensure_ascii=False),
        "html": result.render_html(),
        "csv": csv_path.read_text(encoding="utf-8"),
        "frame": result.findings.write_csv(),
    }
    for name, text in outputs.items():
        assert BSN not in text, name
        assert OTHER_BSN not in text, name
    assert "11122****" in outputs["json"]  # masked, not dropped: the officer can still find it


def test_ordinary_values_stay_readable(tmp_path: Path) -> None:
    path = tmp_path / "basis.csv"
    path.write_text(f"{HEADER}\nGM0363;{OTHER_BSN};99;ZIN;2026-01-01;;12.5;uur;\n",
                    encoding="utf-8")
    result = validate_file(path, dataset="basis", gemeente="GM0363", period="2026-H1")
    values = {(r["column"], r["value"]) for r in result.findings.iter_rows(named=True)}
    assert values == {("productcategorie", "99"), ("intensiteit", "12.5")}

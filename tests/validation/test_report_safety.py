"""What a hostile or careless file can put into the reports (issue 10, findings 11, 12, 14, 16).

Every report is read the way its reader reads it: findings.csv with the stdlib csv module (as a
spreadsheet would see the cells), the text summary through the real `ggk validate` executable,
JSON and HTML as text.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ggk.validation import validate_file

GGK = Path(sys.executable).parent / "ggk"
HEADER = ("gemeentecode;bsn;productcategorie;leveringsvorm;begindatum;einddatum;intensiteit;"
          "eenheid;reden_beeindiging")
ARGS = ["--gemeente", "GM0363", "--period", "2026-H1", "--dataset", "basis"]


def _validate(path: Path):  # noqa: ANN202 - CheckedFile
    return validate_file(path, dataset="basis", gemeente="GM0363", period="2026-H1")


def _all_reports(tmp_path: Path, path: Path, *, text: bool = True) -> dict[str, str]:
    """Every report of `path`: JSON, HTML, findings.csv and (a process each, so only where it
    shows what is tested) the CLI's text summary."""
    result = _validate(path)
    csv_path = tmp_path / "findings.csv"
    result.write_findings_csv(csv_path)
    reports = {"json": json.dumps(result.report, ensure_ascii=False),
               "html": result.render_html(), "csv": csv_path.read_text(encoding="utf-8-sig")}
    if text:
        out = subprocess.run([str(GGK), "validate", str(path), *ARGS], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 1, out.stderr
        reports["text"] = out.stdout
    return reports


# -- finding 11: CSV injection --------------------------------------------------------------------

def test_findings_csv_neutralises_formulas_and_has_a_bom(tmp_path: Path) -> None:
    header = HEADER + ';=HYPERLINK("http://x.test");+cmd;@SUM(A1)'
    rows = [
        'GM0363;123456782;=1+1;ZIN;2026-01-10;;;;;;;',
        'GM0363;123456782;01;"\t=2+2";2026-01-10;;-5;uur;;;;',
        'GM0363;123456782;01;"\r=3+3";2026-01-10;;;;;;;',
        'GM0363;123456782;01;" =4+4";2026-01-10;;;;;;;',
        'GM0363;123456782;01;@SUM(1);2026-01-10;;;;;;;',
    ]
    path = tmp_path / "basis.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    # the header alone is refused (unknown columns); the rows are checked with a valid header
    body = tmp_path / "rows.csv"
    body.write_text(HEADER + "\n" + "\n".join(r.rsplit(";", 3)[0] for r in rows) + "\n",
                    encoding="utf-8")
    cells: list[str] = []
    for source in (path, body):
        out = tmp_path / f"{source.stem}-findings.csv"
        _validate(source).write_findings_csv(out)
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
        with out.open(encoding="utf-8-sig", newline="") as f:
            cells += [cell for row in csv.reader(f, delimiter=";") for cell in row]
    dangerous = [c for c in cells if re.match(r"[=+\-@\t\r\n]|\s*[=+\-@]", c)]
    assert not dangerous
    # neutralised, not dropped: the apostrophe shows the value as text
    for expected in ("'=1+1", "'\t=2+2", "'\r=3+3", "' =4+4", "'@SUM(1)", "'-5",
                     "'=hyperlink(\"http://x.test\")", "'+cmd", "'@sum(a1)"):
        assert expected in cells, expected


# -- finding 12: everything that could be a BSN is masked in every report ----------------------

BSN = "999043195"  # passes the elfproef
ZERO_BSN = "012345672"  # passes the elfproef; a spreadsheet shows it as 12345672
WRITTEN = {"spaced": "999 043 195", "dashed": "999-04-3195", "dotted": "9990.43.195",
           "leading zero dropped": "12345672"}


@pytest.mark.parametrize("written", WRITTEN.values(), ids=WRITTEN.keys())
def test_every_way_of_writing_a_bsn_is_masked(tmp_path: Path, written: str) -> None:
    cases = {
        "headerless": f"GM0363;{written};01;ZIN;2026-01-01;;;;\n",
        "swapped columns": f"{HEADER}\n{written};GM0363;01;ZIN;2026-01-01;;;;\n",
        "in a date and a code": f"{HEADER}\nGM0363;{BSN};01;ZIN;{written};;;;x{written}\n",
        "in the bsn column": f"{HEADER}\nGM0363;{written};01;ZIN;2026-01-01;;;;\n",
    }
    digits = re.sub(r"\D", "", written)
    for name, content in cases.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(content, encoding="utf-8")
        for report, text in _all_reports(tmp_path, path, text=name == "headerless").items():
            assert written not in text and digits not in text, (name, report)
            assert written[-5:] not in text, (name, report)  # no tail of it either


def test_a_bsn_in_the_file_name_is_masked(tmp_path: Path) -> None:
    path = tmp_path / f"export-{BSN}.csv"
    path.write_text(f"{HEADER}\nGM0363;{BSN};99;ZIN;2026-01-01;;;;\n", encoding="utf-8")
    for report, text in _all_reports(tmp_path, path).items():
        assert BSN not in text, report


def test_dates_and_ordinary_numbers_stay_readable(tmp_path: Path) -> None:
    path = tmp_path / "GM0363-2026-H1-basis.csv"
    path.write_text(f"{HEADER}\nGM0363;{BSN};01;ZIN;2026-02-30;;12.5;uur;\n"
                    f"GM0363;{BSN};02;ZIN;01-02-2026;;;;\n", encoding="utf-8")
    report = _validate(path).report
    assert report["file"]["name"] == "GM0363-2026-H1-basis.csv"
    values = {e["value"] for f in report["findings"] for e in f["examples"]}
    assert values == {"2026-02-30", "01-02-2026", "12.5"}


# -- finding 14: names from the file are text, not Rich markup or terminal control ------------

def test_text_output_shows_names_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "[bold]rapport.csv"
    path.write_text(HEADER + ";[/];intensiteit [uur];\x1b[31mrood\x1b]0;titel\x07\n",
                    encoding="utf-8")
    out = subprocess.run([str(GGK), "validate", str(path), *ARGS], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1, out.stderr  # afgekeurd, not a crash
    assert "Traceback" not in out.stderr
    for shown in ("[/]", "intensiteit [uur]", "[bold]rapport.csv", "\\x1b[31mrood"):
        assert shown in out.stdout, shown
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout


# -- finding 16: long values are cut off in every report ---------------------------------------

def test_long_values_and_names_are_truncated_everywhere(tmp_path: Path) -> None:
    long_value, long_name = "Z" * 5000, "k" * 5000
    path = tmp_path / "lang.csv"
    path.write_text(f"{HEADER};{long_name}\nGM0363;{BSN};01;ZIN;2026-01-01;;;;;x\n",
                    encoding="utf-8")
    rows = tmp_path / "lang-waarde.csv"
    rows.write_text(f"{HEADER}\nGM0363;{BSN};01;{long_value};2026-01-01;;;;\n", encoding="utf-8")
    for source in (path, rows):
        reports = _all_reports(tmp_path, source)
        for report, text in reports.items():
            assert "Z" * 201 not in text and "k" * 201 not in text, (source.name, report)
        assert "Z" * 199 + "…" in reports["json"] or "k" * 199 + "…" in reports["json"]


def test_safe_texts_masks_free_text_without_a_definition() -> None:
    from ggk.validation import safe_texts

    assert safe_texts(["bsn 999 043 195.csv", "GM0363-2026-H1-basis.csv", "x" * 300]) == [
        "bsn 9" + "*" * 14, "GM0363-2026-H1-basis.csv", "x" * 199 + "…"]


@pytest.mark.parametrize(("value", "shown"), [
    ("123456783", "12345****"), ("12345672", "1234****"), ("12345", "1****"), ("1234", "****"),
    ("12", "**"), ("1", "*"),
])
def test_a_short_personal_value_is_never_shown(tmp_path: Path, value: str, shown: str) -> None:
    path = tmp_path / "kort.csv"
    path.write_text(f"{HEADER}\nGM0363;{value};01;ZIN;2026-01-01;;;;\n", encoding="utf-8")
    [finding] = _validate(path).report["findings"]
    assert finding["column"] == "bsn" and finding["examples"][0]["value"] == shown

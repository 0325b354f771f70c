"""No byte sequence crashes the validator: every input gives a report or a clear file-level finding.

Hypothesis feeds random bytes, random text made of the characters that matter to the CSV dialect,
and valid files with random mutations (bytes flipped, inserted, deleted, lines duplicated). For
each input the report must be internally consistent (section 7): counts add up, the verdict follows
the errors, line numbers lie within the file, and no BSN of the input shows in full.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ggk.definitions import shipped
from ggk.validation import validate_file

HEADER = ("gemeentecode;bsn;productcategorie;leveringsvorm;begindatum;einddatum;intensiteit;"
          "eenheid;reden_beeindiging")
VALID_ROWS = [
    "GM0363;111222333;01;ZIN;2026-01-01;;;;",
    "GM0363;123456782;02;PGB;2025-06-01;2026-03-31;4,5;uur;01",
    'GM0363;"100000009";"07";ZIN;2026-02-01;;"2";dagdeel;',
    "GM0363;111222333;03;ZIN;2026-01-15;2026-12-31;;;",
]
VALID_FILE = ("\ufeff" + HEADER + "\r\n" + "\r\n".join(VALID_ROWS) + "\r\n").encode("utf-8")
BSNS = ("111222333", "123456782", "100000009")
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

DIALECT_TEXT = st.text(
    alphabet=st.sampled_from(list(';,\t"\r\n 0123456789-GMZINPGBuraé') + ["\ufeff", "\x00"]),
    max_size=300,
)


def _mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    buf = bytearray(data)
    for kind, position, value in edits:
        if not buf:
            buf.append(value)
            continue
        i = position % len(buf)
        if kind == 0:
            buf[i] = value
        elif kind == 1:
            buf.insert(i, value)
        elif kind == 2:
            del buf[i]
        else:  # duplicate the line that contains position i
            start = buf.rfind(b"\n", 0, i) + 1
            end = buf.find(b"\n", i)
            end = len(buf) if end < 0 else end + 1
            buf[start:start] = buf[start:end]
    return bytes(buf)


MUTATIONS = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 10_000), st.integers(0, 255)),
    min_size=1, max_size=8,
)


def _check_consistent(path: Path, data: bytes, dataset: str = "basis") -> None:
    result = validate_file(path, dataset=dataset, gemeente="GM0363", period="2026-H1")
    report = result.report
    assert report["report"] == "technisch-controlerapport"
    errors = sum(f["count"] for f in report["findings"] if f["severity"] == "error")
    warnings = sum(f["count"] for f in report["findings"] if f["severity"] == "warning")
    assert report["summary"]["errors"] == errors
    assert report["summary"]["warnings"] == warnings
    assert report["verdict"] == ("afgekeurd" if errors else "goedgekeurd")
    assert result.accepted == (errors == 0)
    assert result.findings.height == errors + warnings
    assert report["file"]["bytes"] == len(data)
    lines = report["file"]["lines"]
    for finding in report["findings"]:
        assert len(finding["examples"]) <= finding["count"]
        for example in finding["examples"]:
            assert example["line"] is None or 1 <= example["line"] <= max(lines, 1)
    assert report["summary"]["rows_with_errors"] <= report["summary"]["rows"]
    json.dumps(report)  # serialisable
    text = json.dumps(report, ensure_ascii=False) + result.render_html()
    csv_path = path.with_suffix(".findings.csv")
    result.write_findings_csv(csv_path)
    text += csv_path.read_text(encoding="utf-8")
    for bsn in BSNS:
        if bsn in data.decode("utf-8", errors="replace"):
            assert bsn not in text


@SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(data)
    _check_consistent(path, data)


@SETTINGS
@given(text=DIALECT_TEXT)
def test_random_dialect_text_after_a_valid_header_never_crashes(tmp_path: Path, text: str) -> None:
    data = (HEADER + "\n" + text).encode("utf-8")
    path = tmp_path / "text.csv"
    path.write_bytes(data)
    _check_consistent(path, data)


@SETTINGS
@given(edits=MUTATIONS)
def test_mutated_valid_file_never_crashes(tmp_path: Path,
                                          edits: list[tuple[int, int, int]]) -> None:
    data = _mutate(VALID_FILE, edits)
    path = tmp_path / "mutated.csv"
    path.write_bytes(data)
    _check_consistent(path, data)


@SETTINGS
@given(edits=MUTATIONS)
def test_mutated_facultatief_file_never_crashes(tmp_path: Path,
                                               edits: list[tuple[int, int, int]]) -> None:
    valid = (b"gemeentecode;bsn;productcategorie;begindatum;betaald_bedrag\n"
             b"GM0363;111222333;01;2026-01-01;12,50\nGM0363;123456782;02;2025-06-01;0\n")
    data = _mutate(valid, edits)
    path = tmp_path / "mutated.csv"
    path.write_bytes(data)
    _check_consistent(path, data, dataset="facultatief")


def test_the_unmutated_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "valid.csv"
    path.write_bytes(VALID_FILE)
    result = validate_file(path, dataset="basis", gemeente="GM0363", period="2026-H1")
    assert result.accepted, result.report["findings"]
    assert result.report["summary"]["rows"] == len(VALID_ROWS)
    assert result.report["file"]["lines"] == len(VALID_ROWS) + 1


@pytest.mark.parametrize("period", shipped().for_period("gmsd", "2026-H1").periods)
def test_every_period_accepts_an_empty_table(tmp_path: Path, period: str) -> None:
    path = tmp_path / "header-only.csv"
    path.write_text(HEADER + "\n", encoding="utf-8")
    result = validate_file(path, dataset="basis", gemeente="GM0363", period=period)
    assert result.accepted and result.report["summary"]["rows"] == 0

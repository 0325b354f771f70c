"""One small hand-written file per check code of spec section 4, with the exact findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from ggk.validation import validate_file

HEADER = ("gemeentecode;bsn;productcategorie;leveringsvorm;begindatum;einddatum;intensiteit;"
          "eenheid;reden_beeindiging")
GOOD = "GM0363;123456782;01;ZIN;2026-01-10;;2,5;uur;"
FAC_HEADER = "gemeentecode;bsn;productcategorie;begindatum;betaald_bedrag"


def run(tmp_path: Path, text: str | bytes, dataset: str = "basis", **kw) -> dict:
    path = tmp_path / f"{dataset}.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return validate_file(path, dataset=dataset, gemeente="GM0363", period="2026-H1", **kw).report


def found(report: dict) -> dict[tuple[str, str | None], list[int | None]]:
    return {(f["code"], f["column"]): [e["line"] for e in f["examples"]]
            for f in report["findings"]}


def counts(report: dict) -> dict[tuple[str, str | None], int]:
    return {(f["code"], f["column"]): f["count"] for f in report["findings"]}


def test_clean_file_is_goedgekeurd(tmp_path: Path) -> None:
    r = run(tmp_path, f"{HEADER}\n{GOOD}\n")
    assert r["verdict"] == "goedgekeurd"
    assert r["summary"] == {"rows": 1, "errors": 0, "warnings": 0, "rows_with_errors": 0}
    assert r["findings"] == []
    assert r["file"]["lines"] == 2


@pytest.mark.parametrize(
    ("content", "code", "column"),
    [
        (b"", "bestand-leeg", None),
        (b"\n\r\n  \n", "bestand-leeg", None),
        (f"{HEADER}\n{GOOD}\nGM0363;caf\xe9\n".encode("latin-1"), "codering", None),
        (HEADER.replace(";", ",").encode(), "scheidingsteken", None),
        (HEADER.replace(";", "\t").encode(), "scheidingsteken", None),
        (HEADER.replace(";eenheid", "").encode(), "kolom-ontbreekt", "eenheid"),
        (f"{HEADER};opmerking".encode(), "kolom-onbekend", "opmerking"),
        (f"{HEADER};BSN ".encode(), "kolom-dubbel", "bsn"),
    ],
)
def test_file_level(tmp_path: Path, content: bytes, code: str, column: str | None) -> None:
    r = run(tmp_path, content + b"\n" + GOOD.encode() + b"\n" if content.strip() else content)
    assert r["verdict"] == "afgekeurd"
    assert list(counts(r)) == [(code, column)]
    assert r["summary"]["errors"] == 1


def test_codering_has_no_line_but_says_where(tmp_path: Path) -> None:
    """Spec section 4: file-level findings have no line; the example value locates the byte."""
    r = run(tmp_path, f"{HEADER}\n{GOOD}\n\nGM0363;caf\xe9\n".encode("latin-1"))
    assert found(r) == {("codering", None): [None]}
    (entry,) = r["findings"]
    assert entry["examples"] == [{"line": None, "value": "regel 4, positie 11: byte 0xE9"}]
    html = validate_file(tmp_path / "basis.csv", dataset="basis", gemeente="GM0363",
                         period="2026-H1").render_html()
    assert "regel 4, positie 11: byte 0xE9" in html


def test_all_missing_columns_each_a_finding(tmp_path: Path) -> None:
    r = run(tmp_path, "gemeentecode;bsn;productcategorie;leveringsvorm;begindatum\n" + GOOD)
    assert counts(r) == {("kolom-ontbreekt", c): 1 for c in
                         ("einddatum", "intensiteit", "eenheid", "reden_beeindiging")}


def test_header_any_order_and_case_with_bom_and_crlf(tmp_path: Path) -> None:
    cols = HEADER.split(";")
    values = GOOD.split(";")
    header = ";".join(f" {c.upper()} " for c in reversed(cols))
    row = ";".join(reversed(values))
    r = run(tmp_path, ("\ufeff" + header + "\r\n" + row + "\r\n").encode())
    assert r["verdict"] == "goedgekeurd", r["findings"]


@pytest.mark.parametrize(
    ("row", "code", "column"),
    [
        ("GM0363;;02;ZIN;2026-01-10;;;;", "verplicht", "bsn"),
        ("GM0363;123456782;02;ZIN;2026-02-30;;;;", "type", "begindatum"),
        ("GM0363;123456782;02;ZIN;2026-1-5;;;;", "type", "begindatum"),
        ("GM0363;123456782;02;ZIN;2026-01-10;;12.5;uur;", "type", "intensiteit"),
        ("GM0363;123456782;02;ZIN;2026-01-10;;abc;uur;", "type", "intensiteit"),
        ("GM0363;12345678;02;ZIN;2026-01-10;;;;", "patroon", "bsn"),
        ("GM363;123456782;02;ZIN;2026-01-10;;;;", "patroon", "gemeentecode"),
        ("GM0363;123456782;2;ZIN;2026-01-10;;;;", "codelijst", "productcategorie"),
        ("GM0363;123456782;19;ZIN;2026-01-10;;;;", "codelijst", "productcategorie"),
        ("GM0363;123456782;02;zin;2026-01-10;;;;", "codelijst", "leveringsvorm"),
        ("GM0363;123456782;02;ZIN;2026-01-10;;3;jaar;", "codelijst", "eenheid"),
        ("GM0363;123456782;02;ZIN;2026-01-10;2026-02-01;;;09", "codelijst", "reden_beeindiging"),
        ("GM0363;123456782;02;ZIN;2026-01-10;;-1;uur;", "minimum", "intensiteit"),
        ("GM0363;123456783;02;ZIN;2026-01-10;;;;", "elfproef", "bsn"),
        ("GM0363;000000000;02;ZIN;2026-01-10;;;;", "elfproef", "bsn"),
        ("GM0014;123456782;02;ZIN;2026-01-10;;;;", "gemeentecode-afzender", "gemeentecode"),
        ("GM0363;123456782;02;ZIN;2026-03-10;2026-02-01;;;01", "einddatum-voor-begindatum",
         "einddatum"),
        ("GM0363;123456782;02;ZIN;2026-07-01;;;;", "buiten-periode", None),
        ("GM0363;123456782;02;ZIN;2025-01-01;2025-12-31;;;01", "buiten-periode", None),
        ("GM0363;123456782;02;ZIN;2026-01-10;;4;;", "eenheid-ontbreekt", "eenheid"),
        ("GM0363;123456782;02;ZIN;2026-01-10;;;", "aantal-velden", None),
        ("GM0363;123456782;02;ZIN;2026-01-10;;;;;", "aantal-velden", None),
    ],
)
def test_one_finding(tmp_path: Path, row: str, code: str, column: str | None) -> None:
    r = run(tmp_path, f"{HEADER}\n{GOOD}\n\n{row}\n")
    assert found(r) == {(code, column): [4]}
    assert r["verdict"] == "afgekeurd"
    assert r["summary"]["rows"] == 2 and r["summary"]["rows_with_errors"] == 1


def test_reden_ontbreekt_is_a_warning(tmp_path: Path) -> None:
    r = run(tmp_path, f"{HEADER}\nGM0363;123456782;02;ZIN;2026-01-10;2026-03-01;;;\n")
    assert found(r) == {("reden-ontbreekt", "reden_beeindiging"): [2]}
    assert r["verdict"] == "goedgekeurd"
    assert r["summary"]["warnings"] == 1 and r["summary"]["errors"] == 0


def test_dubbel_record_first_occurrence_is_not_a_finding(tmp_path: Path) -> None:
    other = "GM0363;123456782;03;ZIN;2026-01-10;;;;"
    r = run(tmp_path, f"{HEADER}\n{GOOD}\n{other}\n{GOOD}\n{GOOD}\n")
    assert found(r) == {("dubbel-record", None): [4, 5]}


def test_at_most_one_field_finding_and_rules_skip_bad_fields(tmp_path: Path) -> None:
    # bsn empty (verplicht only, no patroon/elfproef); einddatum unparsable: type only, and
    # einddatum-voor-begindatum / buiten-periode are not checked on that line.
    r = run(tmp_path, f"{HEADER}\nGM0363;;02;ZIN;2026-03-01;2026-13-01;;;01\n")
    assert counts(r) == {("verplicht", "bsn"): 1, ("type", "einddatum"): 1}


def test_quoted_fields_keep_inner_spaces_and_may_hold_delimiters_and_newlines(
        tmp_path: Path) -> None:
    rows = [
        '"GM0363";"123456782";"02";"ZIN";"2026-01-10";"";"2,5";"uur";""',
        'GM0363;123456782;"0;3";ZIN;2026-01-10;;;;',
        'GM0363;"12345\n6782";04;ZIN;2026-01-10;;;;',
        'GM0363;123456782;05;" ZIN";2026-01-10;;;;',
        '   GM0363 ;  123456782;06;ZIN;2026-01-10;;;;',
    ]
    r = run(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n")
    assert found(r) == {
        ("codelijst", "productcategorie"): [3],
        ("patroon", "bsn"): [4],
        ("codelijst", "leveringsvorm"): [6],
    }
    assert r["summary"]["rows"] == 5
    assert r["file"]["lines"] == 7


def test_geen_basisrecord_against_basis_file(tmp_path: Path) -> None:
    basis = tmp_path / "b.csv"
    basis.write_text(f"{HEADER}\n{GOOD}\n")
    text = (f"{FAC_HEADER}\nGM0363;123456782;01;2026-01-10;100,50\n"
            "GM0363;123456782;03;2026-01-10;10\n")
    r = run(tmp_path, text, dataset="facultatief", referenced=basis)
    assert found(r) == {("geen-basisrecord", None): [3]}
    assert r["verdict"] == "goedgekeurd"


def test_facultatief_without_basis_skips_the_check_and_says_so(tmp_path: Path) -> None:
    r = run(tmp_path, f"{FAC_HEADER}\nGM0363;123456782;03;2026-01-10;10\n", dataset="facultatief")
    assert r["findings"] == [] and "geen-basisrecord" in r["notes"][0]


def test_masking_in_every_output(tmp_path: Path) -> None:
    bsns = ["123456783", "1234567890", "99999999"]  # elfproef, patroon, patroon
    text = HEADER + "\n" + "\n".join(f"GM0363;{b};02;ZIN;2026-01-10;;;;" for b in bsns) + "\n"
    path = tmp_path / "m.csv"
    path.write_text(text)
    result = validate_file(path, dataset="basis", gemeente="GM0363", period="2026-H1")
    csv = tmp_path / "findings.csv"
    result.write_findings_csv(csv)
    outputs = [str(result.report), result.render_html(), csv.read_text(),
               str(result.findings.to_dicts())]
    for out in outputs:
        for b in bsns:
            assert b not in out
    assert "12345****" in outputs[0]


def test_findings_csv_is_complete_and_uncapped(tmp_path: Path) -> None:
    rows = "\n".join("GM0363;;02;ZIN;2026-01-10;;;;" for _ in range(12))
    path = tmp_path / "c.csv"
    path.write_text(f"{HEADER}\n{rows}\n")
    result = validate_file(path, dataset="basis", gemeente="GM0363", period="2026-H1")
    assert len(result.report["findings"][0]["examples"]) == 5
    out = tmp_path / "f.csv"
    result.write_findings_csv(out)
    lines = out.read_text(encoding="utf-8-sig").splitlines()  # with a BOM, for Excel
    assert lines[0] == "regel;kolom;code;ernst;waarde;melding"
    assert len(lines) == 13 and lines[1].startswith("2;bsn;verplicht;error;")


def test_report_shape_of_section_7(tmp_path: Path) -> None:
    r = run(tmp_path, f"{HEADER}\nGM0363;123456783;02;ZIN;2026-01-10;;;;\n")
    assert set(r) == {"report", "statistic", "edition", "dataset", "period", "gemeente", "file",
                      "verdict", "summary", "findings"}
    assert r["report"] == "technisch-controlerapport" and r["statistic"] == "gmsd"
    assert set(r["file"]) == {"name", "sha256", "bytes", "lines"}
    assert set(r["findings"][0]) == {"code", "severity", "column", "count", "message", "examples"}
    assert r["findings"][0]["examples"] == [{"line": 2, "value": "12345****"}]


def test_unknown_columns_are_reported_in_header_order(tmp_path: Path) -> None:
    header = ("gemeentecode;bsn;zeta;productcategorie;leveringsvorm;begindatum;alpha;einddatum;"
              "intensiteit;eenheid;reden_beeindiging;mid")
    for _ in range(5):  # the order used to depend on a hash table's iteration order
        report = run(tmp_path, header + "\n")
        assert [f["column"] for f in report["findings"]] == ["zeta", "alpha", "mid"]

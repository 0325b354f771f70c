"""Genericity: a second statistic that exists only as data (tests/definitions/data/jeugd/2026).

It differs from GMSD on purpose: another delimiter (|) and quote character ('), day-first dates,
an integer field, a number with a '.' decimal character, its own personal field that is not a BSN,
its own SQL rules (one warning) and its own calendar. No code knows about it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ggk.definitions import FolderRegistry, load_definition
from ggk.definitions.interfaces import Definition

DATA = Path(__file__).parent / "data"

JEUGD_FILE = "\n".join([
    "gemeente|client_nummer|hulpvorm|leeftijd|kosten|start|eind",  # 1
    "GM0363|AB123456|AMB|12|100.50|01-08-2026|",  # 2 fine
    "GM0363|AB123456|AMB|12|100.50|01-08-2026|",  # 3 dubbel-record
    "GM0599|AB123457|VERBLIJF|30||01-07-2026|31-12-2026",  # 4 afzender, te-oud (warning)
    "GM0363|ab123458|XYZ|-1|1,5|31-02-2026|",  # 5 five field findings, rules skipped
    "",  # 6 blank: ignored but counted
    "GM0363|CD000001|CRISIS|25|0|15-09-2026|01-09-2026",  # 7 eind-voor-start
    "GM0363|CD000002|AMB|abc|5|01-01-2027|",  # 8 type leeftijd, start-na-periode
    "'GM0363'|'CD000003'|AMB|5||'01-09-2026'|",  # 9 quoted with ': fine
    "GM0363|CD000004|AMB|5",  # 10 aantal-velden
]) + "\n"

EXPECTED = {
    (3, None, "dubbel-record"),
    (4, "gemeente", "gemeentecode-afzender"),
    (4, "leeftijd", "te-oud"),
    (5, "client_nummer", "patroon"),
    (5, "hulpvorm", "codelijst"),
    (5, "leeftijd", "minimum"),
    (5, "kosten", "type"),
    (5, "start", "type"),
    (7, "eind", "eind-voor-start"),
    (8, "leeftijd", "type"),
    (8, None, "start-na-periode"),
    (10, None, "aantal-velden"),
}


@pytest.fixture(scope="module")
def jeugd() -> Definition:
    return load_definition(DATA / "jeugd" / "2026")


def test_registry_finds_the_data_only_statistic() -> None:
    registry = FolderRegistry(DATA)
    assert registry.statistics() == ["jeugd"]
    d = registry.for_period("jeugd", "2026-H2")
    assert d.dataset("trajecten").dialect.delimiter == "|"
    assert d.calendar("2026-H2").events["aanlevering_open"].isoformat() == "2027-01-05"
    codes = [r.code for r in d.rules_for("trajecten")]
    assert codes == ["eind-voor-start", "te-oud", "start-na-periode"]


def test_second_statistic_validates_with_no_new_code(jeugd: Definition, tmp_path: Path) -> None:
    from ggk.validation import validate_file

    path = tmp_path / "jeugd.csv"
    path.write_text(JEUGD_FILE, encoding="utf-8")
    result = validate_file(path, dataset="trajecten", gemeente="GM0363", period="2026-H2",
                           definition=jeugd, statistic="jeugd")
    got = {(r["line"], r["column"], r["code"]) for r in result.findings.iter_rows(named=True)}
    assert got == EXPECTED
    assert result.findings.height == len(EXPECTED)

    report = result.report
    assert report["statistic"] == "jeugd" and report["edition"] == "2026"
    assert report["dataset"] == "trajecten"
    assert report["verdict"] == "afgekeurd" and not result.accepted
    assert report["summary"] == {"rows": 8, "errors": 11, "warnings": 1, "rows_with_errors": 6}
    assert report["file"]["lines"] == 10
    by_key = {(f["code"], f["column"]): f for f in report["findings"]}
    assert by_key[("te-oud", "leeftijd")]["severity"] == "warning"
    te_oud = by_key[("te-oud", "leeftijd")]
    assert te_oud["message"] == "Jeugdhulp na het 23e jaar is ongebruikelijk."
    assert by_key[("start-na-periode", None)]["examples"][0]["line"] == 8
    assert by_key[("type", "start")]["examples"] == [{"line": 5, "value": "31-02-2026"}]


def test_personal_field_of_second_statistic_is_masked(jeugd: Definition, tmp_path: Path) -> None:
    from ggk.validation import validate_file

    path = tmp_path / "jeugd.csv"
    path.write_text(JEUGD_FILE, encoding="utf-8")
    result = validate_file(path, dataset="trajecten", gemeente="GM0363", period="2026-H2",
                           definition=jeugd, statistic="jeugd")
    csv_path = tmp_path / "findings.csv"
    result.write_findings_csv(csv_path)
    outputs = [json.dumps(result.report, ensure_ascii=False), result.render_html(),
               csv_path.read_text(encoding="utf-8"),
               result.findings.write_csv()]
    for text in outputs:
        for client in ("AB123456", "AB123457", "ab123458", "CD000001", "CD000002", "CD000004"):
            assert client not in text
    patroon = next(f for f in result.report["findings"] if f["code"] == "patroon")
    assert patroon["examples"][0]["value"] == "ab12****"  # never more than 5 shown, 4 hidden
    assert "*" in patroon["examples"][0]["value"]


def test_clean_file_of_second_statistic_is_accepted(jeugd: Definition, tmp_path: Path) -> None:
    from ggk.validation import read_rows, validate_file

    path = tmp_path / "ok.csv"
    path.write_text("hulpvorm|gemeente|client_nummer|leeftijd|kosten|start|eind\r\n"
                    "AMB|GM0014|AB000001|3|12.25|02-07-2026|03-07-2026\r\n", encoding="utf-8")
    result = validate_file(path, dataset="trajecten", gemeente="GM0014", period="2026-H2",
                           definition=jeugd, statistic="jeugd")
    assert result.verdict == "goedgekeurd", result.report["findings"]
    rows = read_rows(path, definition=jeugd, dataset="trajecten")
    if hasattr(rows, "collect"):
        rows = rows.collect()
    row = rows.row(0, named=True)
    assert row["line"] == 2
    assert row["leeftijd"] == 3 and row["kosten"] == 12.25
    assert row["start"].isoformat() == "2026-07-02" and row["eind"].isoformat() == "2026-07-03"

"""Genericity: a statistic with its own dialect (| and quote char), date format and rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ggk.definitions import FolderRegistry
from ggk.validation import validate_file

DATAPACKAGE = {
    "name": "jeugd", "title": "Monitor Jeugdhulp (test)", "ggk:statistic": "jeugd",
    "ggk:edition": "2027",
    "resources": [{
        "name": "trajecten", "ggk:required": True,
        "dialect": {"delimiter": "|", "quoteChar": "'"},
        "schema": {
            "fields": [
                {"name": "gemeente", "type": "string", "ggk:role": "afzender",
                 "constraints": {"required": True, "pattern": "GM[0-9]{4}"}},
                {"name": "client", "type": "string", "ggk:personal": True,
                 "constraints": {"required": True, "pattern": "[A-Z][0-9]{6}"}},
                {"name": "vorm", "type": "string", "constraints": {"required": True,
                                                                   "enum": ["A", "B", "C"]}},
                {"name": "start", "type": "date", "format": "%d-%m-%Y",
                 "constraints": {"required": True}},
                {"name": "uren", "type": "integer", "constraints": {"minimum": 1}},
            ],
            "primaryKey": ["client", "vorm"],
        },
    }],
}
RULES = '''
[[rule]]
code = "te-veel-uren"
dataset = "trajecten"
severity = "warning"
column = "uren"
requires = ["uren", "vorm"]
violation = "vorm = 'A' AND uren > 40"
title = "Veel uren"
message = "Meer dan 40 uren bij vorm A."
fix = "Controleer de uren."
'''
CALENDAR = '''
periods = ["2027-H1"]
[half.H1]
start = "Y-01-01"
end = "Y-06-30"
[[event]]
name = "aanlevering_open"
H1 = "Y-07-01"
'''


@pytest.fixture
def jeugd_registry(tmp_path: Path) -> FolderRegistry:
    root = tmp_path / "defs" / "jeugd" / "2027"
    root.mkdir(parents=True)
    (root / "datapackage.json").write_text(json.dumps(DATAPACKAGE))
    (root / "rules.toml").write_text(RULES)
    (root / "calendar.toml").write_text(CALENDAR)
    return FolderRegistry(tmp_path / "defs")


def test_second_statistic_validates_without_new_code(jeugd_registry: FolderRegistry, tmp_path: Path
                                                     ) -> None:
    definition = jeugd_registry.for_period("jeugd", "2027-H1")
    path = tmp_path / "jeugd.csv"
    path.write_text(
        "CLIENT|Gemeente|vorm|start|uren\n"
        "A123456|GM0363|A|01-02-2027|10\n"     # clean
        "A123456|GM0363|A|01-03-2027|12\n"     # dubbel-record on (client, vorm)
        "b12|GM0363|D|2027-02-01|0\n"          # patroon, codelijst, type, minimum
        "A999999|GM0014|A|01-02-2027|50\n"     # afzender + rule warning
        "'A777777'|'GM0363'|'B'|'05-05-2027'|\n"  # quoted with the dialect's quote char: clean
    )
    report = validate_file(path, dataset="trajecten", gemeente="GM0363", period="2027-H1",
                           definition=definition).report
    got = {(f["code"], f["column"]): [e["line"] for e in f["examples"]] for f in report["findings"]}
    assert got == {
        ("patroon", "client"): [4],
        ("codelijst", "vorm"): [4],
        ("type", "start"): [4],
        ("minimum", "uren"): [4],
        ("gemeentecode-afzender", "gemeente"): [5],
        ("dubbel-record", None): [3],
        ("te-veel-uren", "uren"): [5],
    }
    assert report["statistic"] == "jeugd" and report["verdict"] == "afgekeurd"
    client_examples = next(f for f in report["findings"] if f["column"] == "client")["examples"]
    assert client_examples == [{"line": 4, "value": "***"}]  # 4 or fewer characters: all hidden

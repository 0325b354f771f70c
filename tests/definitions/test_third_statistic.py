"""An operator adds a THIRD statistic from a folder of data, without a code change: a monthly one
with its own dialect, date format, identifiers, rules and a dataset that refers to another. The
command line generates files for it and validates them, and the reports match the answer keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ggk.testdata import AnswerKey
from tests.testdata.reports import mismatches

KEY_FIELDS = [  # both datasets: sender, client number (personal, not a BSN) and vorm
    {"name": "gemeente", "type": "string", "ggk:role": "afzender",
     "constraints": {"required": True, "pattern": "GM[0-9]{4}"}},
    {"name": "client", "type": "string", "ggk:personal": True,
     "constraints": {"required": True, "pattern": "K[0-9]{7}"}},
    {"name": "vorm", "type": "string", "constraints": {"required": True, "enum": ["A", "B", "C"]}},
]
DATAPACKAGE = {
    "name": "proef", "title": "Proefstatistiek schuldhulp (alleen voor tests)",
    "ggk:statistic": "proef", "ggk:edition": "2027",
    "resources": [
        {"name": "trajecten", "ggk:required": True, "dialect": {"delimiter": "|"},
         "schema": {"fields": [
             *KEY_FIELDS,
             {"name": "start", "type": "date", "format": "%d-%m-%Y",
              "constraints": {"required": True}},
             {"name": "uren", "type": "integer", "constraints": {"minimum": 0}},
         ], "primaryKey": ["client", "vorm"]}},
        {"name": "betalingen", "dialect": {"delimiter": "|"},
         "schema": {"fields": [
             *KEY_FIELDS,
             {"name": "bedrag", "type": "number", "decimalChar": ".",
              "constraints": {"required": True, "minimum": 0}},
         ], "foreignKeys": [{"fields": ["client", "vorm"],
                             "reference": {"resource": "trajecten",
                                           "fields": ["client", "vorm"]}}]}},
    ],
}
RULES = """
[[rule]]
code = "start-na-periode"
dataset = "trajecten"
severity = "error"
column = "start"
requires = ["start"]
violation = "start > :period_end"
title = "Start na de periode"
message = "Het traject begon pas na de maand."
fix = "Lever alleen trajecten die in de maand liepen."

[[rule]]
code = "veel-uren"
dataset = "trajecten"
severity = "warning"
column = "uren"
requires = ["uren", "vorm"]
violation = "uren > 100 AND vorm <> 'C'"
title = "Veel uren"
message = "Meer dan 100 uur is ongebruikelijk, behalve bij vorm C."
fix = "Controleer het aantal uren."
"""
CALENDAR = """
kind = "month"
periods = ["2027-01", "2027-02", "2027-03"]

[[event]]
name = "aanlevering_open"
after_end = 1

[[event]]
name = "aanlevering_sluit"
after_end = 20

[[event]]
name = "correctie_sluit"
after_end = 30

[[event]]
name = "besluit_deadline"
after_end = 40
"""
RECIPE = """
[dataset.trajecten]
units_per_1000_inhabitants = 3
rows_per_unit = { values = [1, 2], weights = [0.7, 0.3] }

[dataset.trajecten.fields.gemeente]
draw = "sender"

[dataset.trajecten.fields.client]
draw = "identifier"
prefix = "K"
digits = 7

[dataset.trajecten.fields.vorm]
draw = "choice"
distinct_per_unit = true
weights = { A = 0.6, B = 0.3, C = 0.1 }

[dataset.trajecten.fields.start]
draw = "date"
parts = [{ share = 0.6, before_start = { mean_days = 200, max_days = 900 } },
         { share = 0.4, within_period = true }]

[dataset.trajecten.fields.uren]
draw = "number"
by = "vorm"
ranges = { A = [1, 20], B = [10, 60], C = [40, 160] }
empty_share = 0.1

[dataset.betalingen]
refers_to = "trajecten"
share = 0.5

[dataset.betalingen.fields.gemeente]
draw = "sender"

[dataset.betalingen.fields.bedrag]
draw = "number"
range = [5, 900]
step = 0.01
decimals = 2
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "definities"
    edition = root / "proef" / "2027"
    edition.mkdir(parents=True)
    (edition / "datapackage.json").write_text(json.dumps(DATAPACKAGE), encoding="utf-8")
    for name, text in [("rules.toml", RULES), ("calendar.toml", CALENDAR),
                       ("testdata.toml", RECIPE)]:
        (edition / name).write_text(text, encoding="utf-8")
    return root


def _ggk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    ggk = Path(sys.executable).with_name("ggk")
    return subprocess.run([str(ggk), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_third_statistic_from_a_folder_generates_and_validates(folder: Path,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = _ggk("testdata", "--definitions", str(folder), "--statistic", "proef",
             "--gemeente", "GM0363", "--period", "2027-03", "--seed", "5", "--vary-style",
             "--errors", "start-na-periode=3,veel-uren=2,patroon:client=2,type=2,dubbel-record=1,"
             "minimum=1,gemeentecode-afzender=1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    data = out / "GM0363-2027-03-trajecten.csv"
    key = AnswerKey.read(out / "GM0363-2027-03-trajecten-antwoorden.json")
    assert key.statistic == "proef" and key.edition == "2027"
    assert 2000 < key.rows < 4000  # ~3 per 1,000 inhabitants, 1.3 rows each
    assert data.read_text("utf-8-sig").splitlines()[0].count("|") == 4
    # GGK_DEFINITIONS instead of --definitions; the statistic is named, the rest is data
    report_path = tmp_path / "report.json"
    r = _ggk("validate", str(data), "--statistic", "proef", "--gemeente", "GM0363",
             "--period", "2027-03", "--dataset", "trajecten", "--format", "json",
             "--output", str(report_path), env={"GGK_DEFINITIONS": str(folder)})
    assert r.returncode == 1, r.stderr  # afgekeurd
    report = json.loads(report_path.read_text("utf-8"))
    assert not mismatches(report, key), mismatches(report, key)
    assert report["summary"]["warnings"] == 2

    # the dataset that refers to the first: keys from the written file, one orphan row
    r = _ggk("testdata", "--definitions", str(folder), "--statistic", "proef",
             "--gemeente", "GM0363", "--period", "2027-03", "--dataset", "betalingen",
             "--referenced-file", str(data), "--errors", "minimum=2,type:bedrag=1",
             "--out", str(out))
    assert r.returncode == 0, r.stderr
    key = AnswerKey.read(out / "GM0363-2027-03-betalingen-antwoorden.json")
    r = _ggk("validate", str(out / "GM0363-2027-03-betalingen.csv"), "--definitions",
             str(folder), "--statistic", "proef", "--gemeente", "GM0363", "--period", "2027-03",
             "--dataset", "betalingen", "--verplicht-bestand", str(data), "--format", "json")
    assert r.returncode == 1, r.stderr
    assert not mismatches(json.loads(r.stdout), key)


def test_clean_file_of_the_third_statistic_is_accepted(folder: Path, tmp_path: Path) -> None:
    r = _ggk("testdata", "--definitions", str(folder), "--statistic", "proef", "--gemeente",
             "GM0014", "--period", "2027-01", "--rows", "300", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    r = _ggk("validate", str(tmp_path / "GM0014-2027-01-trajecten.csv"), "--definitions",
             str(folder), "--statistic", "proef", "--gemeente", "GM0014", "--period", "2027-01",
             "--dataset", "trajecten")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.replace('draw = "identifier"', 'draw = "pattern"'), "draw 'pattern'"),
    (lambda t: t.replace("C = [40, 160]", "C = [40, 99]").replace(
        "B = [10, 60]", "B = [101, 160]"), "break rule veel-uren"),
    (lambda t: t.replace('[dataset.trajecten.fields.uren]', '[dataset.trajecten.fields.urne]'),
     "no recipe for field(s) uren"),
    (lambda t: t.replace("weights = { A = 0.6, B = 0.3, C = 0.1 }",
                         "weights = { A = 0.6, D = 0.4 }"), "not in the code list"),
])
def test_broken_recipe_is_refused_naming_file_and_field(folder: Path, tmp_path: Path,
                                                        change, message: str) -> None:
    recipe = folder / "proef" / "2027" / "testdata.toml"
    recipe.write_text(change(recipe.read_text("utf-8")), encoding="utf-8")
    r = _ggk("testdata", "--definitions", str(folder), "--statistic", "proef", "--gemeente",
             "GM0014", "--period", "2027-01", "--out", str(tmp_path))
    assert r.returncode == 2
    assert message in r.stderr and "testdata.toml" in r.stderr


def test_unknown_statistic_and_folder_are_refused(folder: Path, tmp_path: Path) -> None:
    r = _ggk("testdata", "--statistic", "proef", "--gemeente", "GM0014", "--period", "2027-01",
             "--out", str(tmp_path))
    assert r.returncode == 2 and "unknown statistic 'proef'" in r.stderr
    r = _ggk("testdata", "--definitions", str(tmp_path / "nergens"), "--gemeente", "GM0014",
             "--period", "2026-H1", "--out", str(tmp_path))
    assert r.returncode == 2 and "does not exist" in r.stderr + r.stdout

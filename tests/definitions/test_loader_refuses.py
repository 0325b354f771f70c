"""The loader refuses a broken definition with a message that names the file and the problem."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ggk.definitions import DefinitionError, UnknownPeriod, load_definition, shipped
from ggk.definitions.registry import SHIPPED

GMSD = SHIPPED / "gmsd" / "2026"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "gmsd" / "2026"
    shutil.copytree(GMSD, target)
    return target


def _edit_package(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / "datapackage.json"
    pkg = json.loads(path.read_text(encoding="utf-8"))
    change(pkg)
    path.write_text(json.dumps(pkg), encoding="utf-8")


def _field(pkg: dict[str, Any], resource: str, name: str) -> dict[str, Any]:
    res = next(r for r in pkg["resources"] if r["name"] == resource)
    return next(f for f in res["schema"]["fields"] if f["name"] == name)


def _refused(folder: Path, *fragments: str) -> str:
    with pytest.raises(DefinitionError) as info:
        load_definition(folder)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_shipped_definition_loads() -> None:
    d = shipped().for_period("gmsd", "2026-H1")
    assert d.dataset("basis").primary_key == ("bsn", "productcategorie", "begindatum")
    assert d.dataset("basis").field("bsn").personal and d.dataset("basis").field("bsn").elfproef
    assert d.dataset("basis").field("gemeentecode").is_sender
    assert d.dataset("facultatief").foreign_keys[0].resource == "basis"
    assert d.calendar("2026-H2").events["aanlevering_sluit"].isoformat() == "2027-03-31"
    with pytest.raises(UnknownPeriod, match="2031-H1"):
        shipped().for_period("gmsd", "2031-H1")


PACKAGE_BREAKAGES: list[tuple[str, Callable[[dict[str, Any]], None], tuple[str, ...]]] = [
    ("bad regex",
     lambda p: _field(p, "basis", "bsn")["constraints"].update(pattern="[0-9{9"),
     ("datapackage.json", "'bsn'", "not a valid regular expression")),
    ("regex the validator cannot run",
     lambda p: _field(p, "basis", "gemeentecode")["constraints"].update(pattern="(?=GM)GM[0-9]{4}"),
     ("'gemeentecode'", "not supported by the validator's regex engine")),
    ("unknown type",
     lambda p: _field(p, "basis", "intensiteit").update(type="decimal"),
     ("'intensiteit'", "type 'decimal'")),
    ("enum not strings",
     lambda p: _field(p, "basis", "eenheid")["constraints"].update(enum=[1, 2]),
     ("'eenheid'", "enum must be a list of strings")),
    ("minimum on a string",
     lambda p: _field(p, "basis", "eenheid")["constraints"].update(minimum=0),
     ("'eenheid'", "minimum")),
    ("date format without %",
     lambda p: _field(p, "basis", "begindatum").update(format="YYYY-MM-DD"),
     ("'begindatum'", "strftime")),
    ("primary key on unknown field",
     lambda p: p["resources"][0]["schema"].update(primaryKey=["bsn", "datum"]),
     ("primaryKey", "'datum'")),
    ("foreign key to unknown resource",
     lambda p: p["resources"][1]["schema"]["foreignKeys"][0]["reference"].update(resource="kern"),
     ("'kern'",)),
    ("foreign key to unknown field",
     lambda p: p["resources"][1]["schema"]["foreignKeys"][0]["reference"].update(
         fields=["bsn", "productcategorie", "startdatum"]),
     ("'startdatum'",)),
    ("foreign key without fields",
     lambda p: p["resources"][1]["schema"]["foreignKeys"][0].pop("fields"),
     ("foreignKey", "'fields'")),
    ("duplicate field",
     lambda p: p["resources"][0]["schema"]["fields"].append(_field(p, "basis", "bsn")),
     ("occur twice", "bsn")),
    ("two resources with one name",
     lambda p: p["resources"][1].update(name="basis"),
     ("same name",)),
    ("no statistic name",
     lambda p: p.pop("ggk:statistic"),
     ("'ggk:statistic'",)),
    ("resources not a list",
     lambda p: p.update(resources={"basis": {}}),
     ("'resources'", "list")),
    ("field not an object",
     lambda p: p["resources"][0]["schema"]["fields"].append("bsn"),
     ("field", "object")),
    ("empty schema",
     lambda p: p["resources"][0]["schema"].update(fields=[]),
     ("no fields",)),
    ("delimiter of two characters",
     lambda p: p["resources"][0].update(dialect={"delimiter": ";;"}),
     ("delimiter",)),
    ("rules file named but missing",
     lambda p: p.update({"ggk:rules": "regels.toml"}),
     ("regels.toml", "missing")),
]


@pytest.mark.parametrize(("change", "fragments"), [b[1:] for b in PACKAGE_BREAKAGES],
                         ids=[b[0] for b in PACKAGE_BREAKAGES])
def test_broken_datapackage_is_refused(folder: Path, change: Callable[[dict[str, Any]], None],
                                       fragments: tuple[str, ...]) -> None:
    _edit_package(folder, change)
    _refused(folder, *fragments)


def test_missing_or_invalid_datapackage(folder: Path) -> None:
    (folder / "datapackage.json").write_text("{\"resources\": [", encoding="utf-8")
    _refused(folder, "datapackage.json", "invalid JSON at line 1")
    (folder / "datapackage.json").unlink()
    _refused(folder, "datapackage.json", "file is missing")


def _edit_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


RULE_BREAKAGES: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("unknown rule column", 'column = "einddatum"', 'column = "eind_datum"',
     ("'einddatum-voor-begindatum'", "unknown field 'eind_datum'")),
    ("unknown required field", 'requires = ["begindatum", "einddatum"]\nviolation = "einddatum <',
     'requires = ["begin", "einddatum"]\nviolation = "einddatum <', ("unknown field 'begin'",)),
    ("bad SQL", 'violation = "einddatum < begindatum"', 'violation = "einddatum < "',
     ("'einddatum-voor-begindatum'", "not a valid SQL expression")),
    ("SQL that is a statement", 'violation = "einddatum < begindatum"',
     'violation = "einddatum < begindatum; DROP TABLE basis"', ("not a valid SQL expression",)),
    ("unknown SQL function", 'violation = "einddatum < begindatum"',
     'violation = "nietbestaand(einddatum) < begindatum"', ("not a valid SQL expression",)),
    ("SQL reads a field not in requires", 'violation = "einddatum < begindatum"',
     'violation = "einddatum < begindatum AND bsn IS NULL"', ("bsn", "not listed in requires")),
    ("SQL with wrong types", 'violation = "einddatum < begindatum"',
     'violation = "einddatum + 1 < begindatum * 2"',
     ("'einddatum-voor-begindatum'", "does not fit the field types")),
    ("SQL that is not a condition", 'violation = "einddatum < begindatum"',
     'violation = "einddatum"',
     ("must be a boolean expression",)),
    ("unknown placeholder", 'violation = "begindatum > :period_end',
     'violation = "begindatum > :periode_eind', ("unknown placeholder :periode_eind",)),
    ("bad severity", 'severity = "warning"', 'severity = "waarschuwing"', ("'waarschuwing'",)),
    ("unknown dataset", 'dataset = "basis"', 'dataset = "kern"', ("'kern'",)),
    ("missing message", 'message = "Er is een intensiteit', 'bericht = "Er is een intensiteit',
     ("'eenheid-ontbreekt'", "'message'")),
    ("duplicate rule code", 'code = "buiten-periode"', 'code = "einddatum-voor-begindatum"',
     ("occurs twice",)),
    ("invalid TOML", "[[rule]]", "[[rule]", ("rules.toml", "invalid TOML")),
]


@pytest.mark.parametrize(("old", "new", "fragments"), [b[1:] for b in RULE_BREAKAGES],
                         ids=[b[0] for b in RULE_BREAKAGES])
def test_broken_rules_are_refused(folder: Path, old: str, new: str,
                                  fragments: tuple[str, ...]) -> None:
    _edit_text(folder / "rules.toml", old, new)
    message = _refused(folder, "rules.toml", *fragments)
    assert re.search(r"rules\.toml", message)


def test_rules_not_an_array_of_tables(folder: Path) -> None:
    (folder / "rules.toml").write_text('rule = "einddatum < begindatum"\n', encoding="utf-8")
    _refused(folder, "rules.toml", "[[rule]]")


CALENDAR_BREAKAGES: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("period of another kind", 'periods = ["2026-H1", "2026-H2"]', 'periods = ["2026-Q1"]',
     ("'2026-Q1'", "half-year", "2026-H1")),
    ("mixed kinds", 'periods = ["2026-H1", "2026-H2"]', 'periods = ["2026-H1", "2026-Q2"]',
     ("'2026-Q2'", "not a half-year period")),
    ("unknown kind", 'kind = "half-year"', 'kind = "week"', ("'week'", "quarter")),
    ("malformed period", 'periods = ["2026-H1", "2026-H2"]', 'periods = ["2026-H3"]',
     ("'2026-H3'", "2026-Q1")),
    ("impossible date", 'H1 = "Y-09-30"', 'H1 = "Y-09-31"', ("'Y-09-31'",)),
    ("malformed date", 'H1 = "Y-08-15"', 'H1 = "15 augustus"', ("'15 augustus'", "Y-08-15")),
    ("events out of order", 'H1 = "Y-12-01"', 'H1 = "Y-09-01"', ("chronological order",)),
    ("legacy half section that disagrees", 'periods = ["2026-H1", "2026-H2"]',
     'periods = ["2026-H1", "2026-H2"]\n[half.H1]\nstart = "Y-01-01"\nend = "Y-06-29"\n[half.H2]\n'
     'start = "Y-07-01"\nend = "Y-12-31"', ("[half.H1]", "do not match")),
    ("event missing a half", 'H2 = "Y+1-06-01"', 'H3 = "Y+1-06-01"', ("'publicatie'", "'H2'")),
    ("no periods", 'periods = ["2026-H1", "2026-H2"]', "", ("'periods'",)),
]


@pytest.mark.parametrize(("old", "new", "fragments"), [b[1:] for b in CALENDAR_BREAKAGES],
                         ids=[b[0] for b in CALENDAR_BREAKAGES])
def test_broken_calendar_is_refused(folder: Path, old: str, new: str,
                                    fragments: tuple[str, ...]) -> None:
    _edit_text(folder / "calendar.toml", old, new)
    _refused(folder, "calendar.toml", *fragments)


def test_missing_calendar(folder: Path) -> None:
    (folder / "calendar.toml").unlink()
    _refused(folder, "calendar.toml", "file is missing")


def test_registry_refuses_a_broken_folder_among_good_ones(folder: Path) -> None:
    from ggk.definitions import FolderRegistry

    _edit_text(folder / "rules.toml", 'column = "einddatum"', 'column = "eind_datum"')
    with pytest.raises(DefinitionError, match="eind_datum"):
        FolderRegistry(SHIPPED, folder.parent.parent)

"""The loader refuses broken definitions with a message naming file and problem."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ggk.definitions import DefinitionError, UnknownPeriod, load_definition, shipped
from ggk.definitions.registry import SHIPPED

GMSD = SHIPPED / "gmsd" / "2026"


def test_shipped_gmsd_matches_the_spec() -> None:
    d = shipped().for_period("gmsd", "2026-H1")
    assert d.dataset_names == ("basis", "facultatief")
    basis = d.dataset("basis")
    assert basis.dialect.delimiter == ";"
    assert basis.field("intensiteit").decimal_char == ","
    assert basis.field("productcategorie").enum == tuple(f"{i:02d}" for i in range(1, 19))
    assert basis.primary_key == ("bsn", "productcategorie", "begindatum")
    cal = d.calendar("2026-H2")
    assert (str(cal.start), str(cal.end)) == ("2026-07-01", "2026-12-31")
    assert str(cal.events["aanlevering_open"]) == "2027-02-15"
    assert str(cal.events["publicatie"]) == "2027-06-01"
    with pytest.raises(UnknownPeriod):
        shipped().for_period("gmsd", "2025-H2")


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "gmsd" / "2026"
    shutil.copytree(GMSD, target)
    return target


def _edit_json(root: Path, change: Callable[[dict], None]) -> None:
    path = root / "datapackage.json"
    pkg = json.loads(path.read_text())
    change(pkg)
    path.write_text(json.dumps(pkg))


def _field(pkg: dict, name: str) -> dict:
    return next(f for f in pkg["resources"][0]["schema"]["fields"] if f["name"] == name)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda r: (r / "datapackage.json").write_text("{"), "invalid JSON"),
        (lambda r: (r / "rules.toml").unlink(), "file is missing"),
        (lambda r: _edit_json(r, lambda p: _field(p, "bsn")["constraints"].update(pattern="[0-9")),
         "not a valid regular expression"),
        (lambda r: _edit_json(r, lambda p: _field(p, "bsn").update(type="bsn-nummer")),
         "type 'bsn-nummer'"),
        (lambda r: _edit_json(r, lambda p: p["resources"][0]["schema"].update(primaryKey=["x"])),
         "primaryKey names unknown field 'x'"),
        (lambda r: (r / "rules.toml").write_text((r / "rules.toml").read_text().replace(
            'column = "eenheid"', 'column = "eenhied"')), "unknown field 'eenhied'"),
        (lambda r: (r / "rules.toml").write_text((r / "rules.toml").read_text().replace(
            "einddatum < begindatum", "einddatum <<< begindatum")), "not a valid SQL expression"),
        (lambda r: (r / "rules.toml").write_text((r / "rules.toml").read_text().replace(
            "intensiteit IS NOT NULL AND",
            "intensiteit IS NOT NULL AND leveringsvorm = 'PGB' AND")),
         "not listed in requires"),
        (lambda r: (r / "rules.toml").write_text((r / "rules.toml").read_text().replace(
            'severity = "warning"', 'severity = "info"')), "severity 'info'"),
        (lambda r: (r / "calendar.toml").write_text((r / "calendar.toml").read_text().replace(
            'H1 = "Y-09-30"', 'H1 = "Y-02-30"')), "day is out of range"),
        (lambda r: (r / "calendar.toml").write_text((r / "calendar.toml").read_text().replace(
            'H1 = "Y-10-15"', 'H1 = "Y-07-15"')), "not in chronological order"),
    ],
)
def test_broken_definition_is_refused(tmp_path: Path, breakage: Callable[[Path], None],
                                      message: str) -> None:
    root = _copy(tmp_path)
    breakage(root)
    with pytest.raises(DefinitionError, match=message) as info:
        load_definition(root)
    assert str(root) in str(info.value)

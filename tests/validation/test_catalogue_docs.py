"""docs/validation.md lists every catalogued check with its severity (kept in step by this test)."""

from __future__ import annotations

import re
from pathlib import Path

from ggk.definitions import shipped
from ggk.validation import checks_for

DOC = Path(__file__).resolve().parents[2] / "docs" / "validation.md"


def test_every_check_of_gmsd_is_in_the_documented_catalogue() -> None:
    rows = {
        m["code"]: m["severity"]
        for m in re.finditer(r"^\| `(?P<code>[a-z-]+)` \| (?P<severity>error|warning) \|",
                             DOC.read_text(encoding="utf-8"), re.MULTILINE)
    }
    definition = shipped().for_period("gmsd", "2026-H1")
    catalogued = {}
    for dataset in definition.dataset_names:
        catalogued |= {c.code: c.severity for c in checks_for(definition, dataset).values()}
    assert rows == catalogued


def test_every_check_has_dutch_texts() -> None:
    definition = shipped().for_period("gmsd", "2026-H1")
    for dataset in definition.dataset_names:
        for check in checks_for(definition, dataset).values():
            for text in (check.title, check.message, check.fix):
                assert text.strip(), (check.code, text)
            assert check.message_for("bsn") and "{" not in check.message_for("bsn")

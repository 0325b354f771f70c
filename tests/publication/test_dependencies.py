"""ggk.publication reads the station only through its interface (ConsentedDataSource): it imports
nothing of the station, the hub, the client or the municipality side. The station uses it (its
publication step, `ggk publicatie` in ggk.station.publicatie_command), never the other way."""

from __future__ import annotations

import ast
from pathlib import Path

import ggk.publication

PACKAGE = Path(ggk.publication.__file__).parent
ABOVE = ("ggk.station", "ggk.gemeente", "ggk.hub", "ggk.client")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_publication_never_imports_the_station_or_the_parts_above_it() -> None:
    offending = {p.name: sorted(m for m in _imports(p) if m.startswith(ABOVE))
                 for p in PACKAGE.glob("*.py")}
    assert {k: v for k, v in offending.items() if v} == {}

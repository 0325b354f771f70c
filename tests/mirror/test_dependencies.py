"""The mirror package depends on nothing above it (station -> mirror, never back), and its own
modules import each other without a cycle (issue 11 item 7)."""

from __future__ import annotations

import ast
from pathlib import Path

import ggk.mirror

PACKAGE = Path(ggk.mirror.__file__).parent
ABOVE = ("ggk.station", "ggk.gemeente", "ggk.hub", "ggk.client")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {f"ggk.mirror.{p.stem}": p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return {name: {m for m in _imports(path) if m in modules and m != name}
            for name, path in modules.items()}


def test_mirror_never_imports_the_station_or_the_parts_above_it() -> None:
    offending = {p.name: sorted(m for m in _imports(p) if m.startswith(ABOVE))
                 for p in PACKAGE.glob("*.py")}
    assert {k: v for k, v in offending.items() if v} == {}


def test_mirror_modules_import_each_other_without_a_cycle() -> None:
    graph = _graph()
    assert "ggk.mirror.population" in graph["ggk.mirror.synthetic"]  # the check sees imports
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name in done:
            return
        for target in graph[name]:
            visit(target, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())

"""Find definitions: the ones shipped in ggk/definitions/data plus any extra folders given."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ggk.definitions.interfaces import Definition, UnknownPeriod
from ggk.definitions.loader import load_definition

SHIPPED = Path(__file__).parent / "data"


class FolderRegistry:
    """DefinitionRegistry over folders laid out as <root>/<statistic>/<edition>/datapackage.json."""

    def __init__(self, *roots: Path) -> None:
        self._definitions: list[Definition] = []
        for root in roots:
            for pkg in sorted(Path(root).glob("*/*/datapackage.json")):
                self._definitions.append(load_definition(pkg.parent))

    def statistics(self) -> list[str]:
        return sorted({d.statistic for d in self._definitions})

    def all(self) -> list[Definition]:
        return list(self._definitions)

    def for_period(self, statistic: str, period: str) -> Definition:
        for d in self._definitions:
            if d.statistic == statistic and period in d.periods:
                return d
        known = [p for d in self._definitions if d.statistic == statistic for p in d.periods]
        if not known:
            statistics = ", ".join(self.statistics())
            raise UnknownPeriod(f"unknown statistic {statistic!r} (known: {statistics})")
        periods = ", ".join(known)
        raise UnknownPeriod(f"unknown period {period!r} for {statistic} (known: {periods})")


@cache
def shipped() -> FolderRegistry:
    """The definitions that ship with ggk (loaded and checked once per process)."""
    return FolderRegistry(SHIPPED)

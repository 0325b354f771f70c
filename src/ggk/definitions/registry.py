"""Find definitions: the ones shipped in ggk/definitions/data plus any extra folders given."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from ggk.definitions.interfaces import Definition, DefinitionError, UnknownPeriod
from ggk.definitions.loader import load_definition

SHIPPED = Path(__file__).parent / "data"
ENV = "GGK_DEFINITIONS"  # extra definition folders, separated by os.pathsep (':' on POSIX)


class FolderRegistry:
    """DefinitionRegistry over folders laid out as <root>/<statistic>/<edition>/datapackage.json."""

    def __init__(self, *roots: Path) -> None:
        self._definitions: list[Definition] = []
        seen: dict[tuple[str, str], Path] = {}
        for root in roots:
            if not Path(root).is_dir():
                raise DefinitionError(f"{root}: definitions folder does not exist")
            for pkg in sorted(Path(root).glob("*/*/datapackage.json")):
                d = load_definition(pkg.parent)
                if (d.statistic, d.edition) in seen:
                    raise DefinitionError(
                        f"{pkg.parent}: {d.statistic} edition {d.edition} is already defined in "
                        f"{seen[(d.statistic, d.edition)]}; give the new one another edition")
                seen[(d.statistic, d.edition)] = pkg.parent
                self._definitions.append(d)

    def statistics(self) -> list[str]:
        return sorted({d.statistic for d in self._definitions})

    def all(self) -> list[Definition]:
        return list(self._definitions)

    def default_statistic(self) -> str:
        """The statistic a command uses when none is given: the only one, or the first loaded
        (the shipped ones come first, in name order)."""
        if not self._definitions:
            raise UnknownPeriod("no statistic is defined")
        return self._definitions[0].statistic

    def latest(self, statistic: str) -> Definition:
        """The last loaded edition of a statistic; raises UnknownPeriod for an unknown one."""
        found = [d for d in self._definitions if d.statistic == statistic]
        if not found:
            raise UnknownPeriod(f"unknown statistic {statistic!r} "
                                f"(known: {', '.join(self.statistics())})")
        return found[-1]

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


def env_folders() -> tuple[Path, ...]:
    """The extra definition folders named by the environment variable GGK_DEFINITIONS."""
    return tuple(Path(p) for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip())


@cache
def _registry(folders: tuple[Path, ...]) -> FolderRegistry:
    return FolderRegistry(SHIPPED, *folders)


def registry(folders: Sequence[Path] = ()) -> FolderRegistry:
    """The shipped definitions plus extra folders (each laid out as <statistic>/<edition>/):
    `folders`, or else those in GGK_DEFINITIONS. An operator adds a statistic this way, without a
    new release of ggk. Loaded once per process and folder list."""
    extra = tuple(Path(f).resolve() for f in (folders or env_folders()))
    return shipped() if not extra else _registry(extra)

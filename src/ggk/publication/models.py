"""What a publication is made of: the disclosure-controlled table and a release on disk."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ggk.mirror.interfaces import Indicator

NATIONAL = "NL"
SUPPRESSED = "."  # the public sign for a suppressed cell (CBS: "geheim")
Shown = float | int | str | None  # a number, SUPPRESSED, or None (indicator not available)


@dataclass(frozen=True, slots=True)
class DecisionCounts:
    """How the municipalities stand at publication time (for the release notes)."""

    opt_in: int  # published
    ingetrokken: int  # withdrawn: left out
    geen_besluit: int  # accepted data but no besluit: left out
    niet_geleverd: int  # no accepted data this period

    def as_json(self) -> dict[str, int]:
        return {"opt_in": self.opt_in, "ingetrokken": self.ingetrokken,
                "geen_besluit": self.geen_besluit, "niet_geleverd": self.niet_geleverd}


@dataclass(frozen=True)
class PublicationTable:
    """Rows: NL and every published gemeente; columns: indicators. `cells[(code, indicator)]`
    is what may be shown; `suppressed[(code, indicator)]` says primary or secondary (never
    published: both appear as SUPPRESSED)."""

    statistic: str
    edition: str
    title: str
    period: str
    indicators: tuple[Indicator, ...]
    gemeenten: tuple[tuple[str, str], ...]  # (code, naam), sorted by code, NL not included
    cells: dict[tuple[str, str], Shown]
    suppressed: dict[tuple[str, str], str]
    decisions: DecisionCounts
    withdrawn: tuple[str, ...] = ()  # codes with besluit ingetrokken

    @property
    def rows(self) -> tuple[tuple[str, str], ...]:
        return ((NATIONAL, "Nederland (gepubliceerde gemeenten)"), *self.gemeenten)

    def value(self, code: str, indicator: str) -> Shown:
        return self.cells.get((code, indicator))


@dataclass(frozen=True)
class Release:
    """One published release: a directory that is never rewritten."""

    directory: Path
    number: int
    manifest: dict[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        return self.directory.name

    @property
    def files(self) -> list[Path]:
        return [self.directory / name for name in self.manifest["bestanden"]]

    @staticmethod
    def read(directory: Path) -> Release:
        """The release in `directory`, from its manifest.json."""
        manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
        return Release(directory, int(manifest["release"]), manifest)

"""Contract of the reference-data package: Dutch municipalities and their size classes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class UnknownGemeente(LookupError):
    """A gemeentecode that is not in the reference data."""

    def __init__(self, code: str) -> None:
        super().__init__(f"onbekende gemeentecode: {code!r}")
        self.code = code


@dataclass(frozen=True, slots=True)
class SizeClass:
    klasse: int
    label: str
    min: int
    max: int | None


@dataclass(frozen=True, slots=True)
class Gemeente:
    code: str
    naam: str
    provincie: str
    inwoners: int
    grootteklasse: int
    stedelijkheid: int | None = None  # not available in the 2025 source


class GemeenteRegister(Protocol):
    def all(self) -> list[Gemeente]:
        """Every municipality of the reference year, ordered by code."""

    def get(self, code: str) -> Gemeente:
        """The municipality with this code; raises UnknownGemeente."""

    def size_classes(self) -> list[SizeClass]:
        """The CBS size classes with their bounds, as shipped in the data."""

"""The shipped municipality register (342 municipalities of 2025) with derived size classes."""

from __future__ import annotations

import csv
import tomllib
from functools import cache
from importlib import resources

from ggk.refdata.interfaces import Gemeente, SizeClass, UnknownGemeente

REFERENCE_YEAR = 2025


def _data(name: str) -> str:
    return resources.files("ggk.refdata").joinpath("data", name).read_text(encoding="utf-8")


@cache
def size_classes() -> tuple[SizeClass, ...]:
    raw = tomllib.loads(_data("grootteklassen.toml"))["klasse"]
    return tuple(SizeClass(k["klasse"], k["label"], k["min"], k.get("max")) for k in raw)


def size_class_for(inwoners: int) -> int:
    for sc in size_classes():
        if inwoners >= sc.min and (sc.max is None or inwoners < sc.max):
            return sc.klasse
    raise ValueError(f"no size class for {inwoners} inhabitants")


class ShippedRegister:
    """GemeenteRegister over the CSV shipped in ggk/refdata/data."""

    def __init__(self) -> None:
        rows = csv.DictReader(_data(f"gemeenten-{REFERENCE_YEAR}.csv").splitlines(), delimiter=";")
        self._by_code = {
            r["gemeentecode"]: Gemeente(
                code=r["gemeentecode"],
                naam=r["naam"],
                provincie=r["provincie"],
                inwoners=int(r["inwoners"]),
                grootteklasse=size_class_for(int(r["inwoners"])),
            )
            for r in rows
        }

    def all(self) -> list[Gemeente]:
        return [self._by_code[c] for c in sorted(self._by_code)]

    def get(self, code: str) -> Gemeente:
        try:
            return self._by_code[code.strip().upper()]
        except KeyError:
            raise UnknownGemeente(code) from None

    def size_classes(self) -> list[SizeClass]:
        return list(size_classes())


@cache
def register() -> ShippedRegister:
    """The process-wide register (read once)."""
    return ShippedRegister()

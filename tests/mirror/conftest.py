"""Fixtures for the mirror tests: the GMSD definition and synthetic accepted data."""

from __future__ import annotations

import pytest

from ggk.definitions import Definition, shipped
from ggk.mirror import InMemorySource
from ggk.mirror.synthetic import basis_frame, facultatief_frame
from ggk.refdata import register

PERIOD = "2026-H1"


@pytest.fixture(scope="session")
def definition() -> Definition:
    return shipped().for_period("gmsd", PERIOD)


def synthetic_source(
    codes: list[str], seed: int = 5, clients: dict[str, int] | None = None, facultatief: bool = True
) -> InMemorySource:
    source = InMemorySource()
    reg = register()
    for code in codes:
        basis = basis_frame(reg.get(code), PERIOD, seed, (clients or {}).get(code))
        source.put("gmsd", PERIOD, "basis", code, basis)
        if facultatief:
            source.put("gmsd", PERIOD, "facultatief", code, facultatief_frame(basis, PERIOD, seed))
    return source


def class_members(klasse: int) -> list[str]:
    return [g.code for g in register().all() if g.grootteklasse == klasse]

"""Fixtures for the mirror tests: the GMSD definition and synthetic accepted data (drawn from its
test-file recipe by ggk.mirror.synthetic)."""

from __future__ import annotations

import polars as pl
import pytest

from ggk.definitions import Definition, shipped
from ggk.mirror import InMemorySource, synthetic
from ggk.refdata import register

PERIOD = "2026-H1"


@pytest.fixture(scope="session")
def definition() -> Definition:
    return shipped().for_period("gmsd", PERIOD)


def synthetic_source(
    codes: list[str], seed: int = 5, clients: dict[str, int] | None = None, facultatief: bool = True
) -> InMemorySource:
    reg = register()
    return synthetic.source(shipped().for_period("gmsd", PERIOD), [reg.get(c) for c in codes],
                            PERIOD, seed, clients, None if facultatief else {"basis"})


def basis_frame(code: str, period: str, seed: int) -> pl.DataFrame:
    """The accepted basis of one municipality for `period`."""
    definition = shipped().for_period("gmsd", PERIOD)
    return synthetic.accepted(definition, register().get(code), period, seed)["basis"]


def class_members(klasse: int) -> list[str]:
    return [g.code for g in register().all() if g.grootteklasse == klasse]

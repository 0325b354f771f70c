"""Hypothesis strategies for defect mixes, shared by the generator and validator properties."""

from __future__ import annotations

from hypothesis import strategies as st

from ggk.definitions import Definition, shipped
from ggk.testdata.defects import FIELD_CODES, Catalogue

DEFINITION = shipped().for_period("gmsd", "2026-H1")


@st.composite
def defect_mix(draw: st.DrawFn, dataset: str, with_basis: bool = False,
               definition: Definition = DEFINITION) -> dict[str, int]:
    """A random `errors` dict over every row-level defect of the dataset (most absent)."""
    errors: dict[str, int] = {}
    for code, columns in Catalogue.of(definition, dataset).columns.items():
        if code == "geen-basisrecord" and not with_basis:
            continue
        n = draw(st.sampled_from([0, 0, 0, 1, 2, 3]))
        if not n:
            continue
        named = [c for c in columns if c]
        multi = code in FIELD_CODES and len(named) > 1
        column = draw(st.sampled_from([None, *named])) if multi else None
        name = f"{code}:{column}" if column else code
        errors[name] = errors.get(name, 0) + n
    return errors

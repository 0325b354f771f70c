"""Secondary suppression (ggk.mirror.disclosure.protect_table) on generated tables, checked by
the independent attack of tests/publication/test_disclosure_proof.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ggk.mirror.disclosure import MIN_COUNT, PRIMARY, SECONDARY, Relation, protect_table
from tests.publication.test_disclosure_proof import attack

PARTS = ("a", "b", "c")


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict, list[Relation]]:
    """Municipalities x (total, parts a, b, c) with NL as their sum; parts cover the total."""
    codes = [f"GM{i:04d}" for i in range(draw(st.integers(1, 6)))]
    tellers: dict = {}
    for code in codes:
        parts = [draw(st.integers(0, 40)) for _ in PARTS]
        tellers.update({(code, p): v for p, v in zip(PARTS, parts, strict=True)})
        tellers[(code, "totaal")] = draw(st.integers(max(parts), max(max(parts), sum(parts))))
    relations = []
    for column in ("totaal", *PARTS):
        tellers[("NL", column)] = sum(tellers[(c, column)] for c in codes)
        relations.append(Relation(("NL", column), tuple((c, column) for c in codes), "som"))
    for area in ("NL", *codes):
        relations.append(Relation((area, "totaal"), tuple((area, p) for p in PARTS), "dekkend"))
    return tellers, relations


@settings(max_examples=60, deadline=None)
@given(tables())
def test_no_suppressed_cell_can_be_derived(table: tuple[dict, list[Relation]]) -> None:
    tellers, relations = table
    suppressed = protect_table(tellers, relations)
    assert {k for k, v in tellers.items() if v < MIN_COUNT} == {
        k for k, v in suppressed.items() if v == PRIMARY}
    as_tuples = [(r.kind, r.total, list(r.parts)) for r in relations]
    for cell, status in suppressed.items():
        low, high = attack(tellers, set(suppressed), as_tuples, cell)
        if not protected(low, high, status):
            # only allowed when every cell related to it is hidden, and the reader, who cannot
            # tell primary from secondary cells in the files, still learns nothing
            related = {k for r in relations if cell in (r.total, *r.parts)
                       for k in (r.total, *r.parts)}
            assert related <= set(suppressed), (cell, low, high)
            low, high = attack(tellers, set(suppressed), as_tuples, cell, False)
            assert protected(low, high, status), (cell, low, high)


def protected(low: float, high: float, status: str) -> bool:
    if status == PRIMARY:
        return low <= 1e-6 and high >= MIN_COUNT - 1 - 1e-6
    return high - low >= MIN_COUNT - 1 - 1e-6


def test_national_minus_the_shown_municipalities_is_blocked() -> None:
    tellers = {("NL", "x"): 120, ("GM1", "x"): 3, ("GM2", "x"): 50, ("GM3", "x"): 67}
    relation = Relation(("NL", "x"), (("GM1", "x"), ("GM2", "x"), ("GM3", "x")))
    # the smallest other municipality goes with it, the national figure stays
    assert protect_table(tellers, [relation]) == {("GM1", "x"): PRIMARY,
                                                  ("GM2", "x"): SECONDARY}


def test_everything_hidden_around_a_cell_is_audited_as_the_reader_sees_it() -> None:
    # NL shows 10 = 1 + 9: knowing that the hidden NL cell would be at least 10, a reader would
    # learn that GM0 is at least 1; but hidden cells look alike, so the hidden NL cell and its
    # row total tell nothing
    tellers = {("GM0", "c"): 1, ("GM1", "c"): 9, ("NL", "c"): 10,
               ("GM0", "t"): 1, ("GM1", "t"): 9, ("NL", "t"): 10}
    relations = [Relation(("NL", "c"), (("GM0", "c"), ("GM1", "c"))),
                 Relation(("NL", "t"), (("GM0", "t"), ("GM1", "t"))),
                 *(Relation((a, "t"), ((a, "c"),), "dekkend") for a in ("NL", "GM0", "GM1"))]
    assert set(protect_table(tellers, relations)) == set(tellers)


def test_a_relation_that_does_not_hold_is_refused() -> None:
    with pytest.raises(ValueError, match="does not hold"):
        protect_table({("NL", "x"): 10, ("GM1", "x"): 4},
                      [Relation(("NL", "x"), (("GM1", "x"),))])

"""Periods of every kind: one parser, exact bounds, arithmetic across year ends."""

from __future__ import annotations

import datetime as dt

import pytest

from ggk.definitions import InvalidPeriod, Period, period_bounds, previous_period


@pytest.mark.parametrize(("text", "kind", "start", "end", "previous", "part"), [
    ("2026", "year", "2026-01-01", "2026-12-31", "2025", "Y"),
    ("2026-H1", "half-year", "2026-01-01", "2026-06-30", "2025-H2", "H1"),
    ("2026-H2", "half-year", "2026-07-01", "2026-12-31", "2026-H1", "H2"),
    ("2026-Q1", "quarter", "2026-01-01", "2026-03-31", "2025-Q4", "Q1"),
    ("2026-Q3", "quarter", "2026-07-01", "2026-09-30", "2026-Q2", "Q3"),
    ("2026-01", "month", "2026-01-01", "2026-01-31", "2025-12", "M01"),
    ("2028-02", "month", "2028-02-01", "2028-02-29", "2028-01", "M02"),
    ("2026-12", "month", "2026-12-01", "2026-12-31", "2026-11", "M12"),
])
def test_every_kind(text: str, kind: str, start: str, end: str, previous: str, part: str) -> None:
    p = Period.parse(text)
    assert (p.kind, str(p), p.part) == (kind, text, part)
    assert period_bounds(text) == (dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    assert previous_period(text) == previous
    assert p.previous().shifted(1) == p


def test_year_fraction() -> None:
    assert Period.parse("2026-Q2").year_fraction(cumulative=True) == pytest.approx(181 / 365)
    assert Period.parse("2026-Q4").year_fraction() == pytest.approx(92 / 365)
    assert Period.parse("2026").year_fraction() == 1.0


@pytest.mark.parametrize("text", ["2026-H3", "2026-Q5", "2026-13", "2026-00", "26-H1", "2026H1",
                                  "2026-W01", ""])
def test_malformed_period_is_refused_with_the_forms(text: str) -> None:
    with pytest.raises(InvalidPeriod, match="2026-Q1"):
        Period.parse(text)

"""Faster check expressions give exactly what the plain formulation of the spec gives.

The validator's expressions are tuned for speed (lookup tables, shared parses); each is compared
here with a straightforward reference on random and edge-case values, so a tuning can never
change a finding.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

from ggk.validation.checks import ELFPROEF_WEIGHTS, _elfproef_ok, repeated_keys

EDGE_BSNS = [
    "111222333", "123456782", "100000009", "123456783", "000000000", "999999999", "-12345678",
    "+12345678", "-00000000", " 12345678", "12345678 ", "12345678a", "1234567890", "99999999",
    "１２３４５６７８９", "", None,
]


def _reference_elfproef(col: pl.Expr) -> pl.Expr:
    """Spec section 6 digit by digit: 9 characters, weights 9..2 and -1, sum divisible by 11."""
    number = col.str.to_integer(strict=False)
    total = sum(
        (((number // 10 ** (8 - i)) % 10) * w for i, w in enumerate(ELFPROEF_WEIGHTS)), pl.lit(0)
    )
    return (col.str.len_chars() == 9) & (total % 11 == 0) & (number != 0)


def _same_elfproef(values: list[str | None]) -> None:
    frame = pl.DataFrame({"bsn": values}, schema={"bsn": pl.String})
    got = frame.select(_elfproef_ok(pl.col("bsn"))).to_series()
    want = frame.select(_reference_elfproef(pl.col("bsn"))).to_series()
    assert_series_equal(got, want)


def test_elfproef_edge_cases() -> None:
    _same_elfproef(EDGE_BSNS)


@settings(max_examples=100, deadline=None)
@given(
    numbers=st.lists(st.integers(-99_999_999, 999_999_999), max_size=200),
    texts=st.lists(st.text(alphabet="0123456789+- a", max_size=10), max_size=50),
)
def test_elfproef_matches_the_digit_by_digit_reference(
    numbers: list[int], texts: list[str]
) -> None:
    _same_elfproef([f"{n:09d}" if n >= 0 else str(n) for n in numbers] + texts)


KEY_VALUES = {
    "s": st.sampled_from(["a", "b", "", None]),
    "f": st.sampled_from([0.0, -0.0, 1.5, float("nan"), None]),
    "d": st.sampled_from([dt.date(2026, 1, 1), dt.date(2025, 12, 31), None]),
}
KEY_TYPES = {"s": pl.String, "f": pl.Float64, "d": pl.Date}


def _reference_repeats(rows: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    return rows.filter(~pl.struct(key).is_first_distinct())


@settings(max_examples=150, deadline=None)
@given(data=st.data(), key=st.sampled_from([["s"], ["f"], ["s", "d"], ["s", "f", "d"]]),
       n=st.integers(0, 40), collide=st.booleans())
def test_repeated_keys_match_is_first_distinct(
    data: st.DataObject, key: list[str], n: int, collide: bool
) -> None:
    columns = {c: data.draw(st.lists(KEY_VALUES[c], min_size=n, max_size=n)) for c in key}
    rows = pl.DataFrame(
        {"line": list(range(2, n + 2)), **columns},
        schema={"line": pl.Int64, **{c: KEY_TYPES[c] for c in key}},
    )
    want = _reference_repeats(rows, key)
    if collide:  # every key hashes alike: the exact step alone must decide
        with mock.patch.object(pl.DataFrame, "hash_rows",
                               lambda self: pl.Series([7] * self.height, dtype=pl.UInt64)):
            got = repeated_keys(rows, key)
    else:
        got = repeated_keys(rows, key)
    assert_frame_equal(got, want)

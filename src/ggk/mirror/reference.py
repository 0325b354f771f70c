"""The previous-period reference: indicator values of every municipality for a statistic's period.

What ships is SYNTHETIC (made by `python -m ggk.mirror.synthetic`, see there); every report that
uses it says so. This module only finds and reads a reference; it names no statistic.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import polars as pl


def reference_file_name(statistic: str, period: str) -> str:
    return f"spiegelreferentie-{statistic}-{period}-synthetisch.csv"


@dataclass(frozen=True, slots=True)
class Reference:
    """Indicator values of a period for all municipalities (and NL, pooled)."""

    statistic: str
    period: str
    synthetic: bool
    values: pl.DataFrame  # gemeentecode, indicator, waarde, teller

    def for_gemeente(self, code: str) -> dict[str, tuple[float | None, int]]:
        rows = self.values.filter(pl.col("gemeentecode") == code)
        return {r["indicator"]: (r["waarde"], r["teller"]) for r in rows.iter_rows(named=True)}


def load_reference(statistic: str, period: str) -> Reference | None:
    """The shipped reference of this statistic and period, or None."""
    name = reference_file_name(statistic, period)
    path = resources.files("ggk.refdata").joinpath("data", name)
    if not path.is_file():
        return None
    with resources.as_file(path) as p:
        values = pl.read_csv(
            p,
            schema={
                "gemeentecode": pl.String,
                "indicator": pl.String,
                "waarde": pl.Float64,
                "teller": pl.Int64,
            },
        )
    return Reference(statistic, period, True, values)

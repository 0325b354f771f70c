"""The previous-period reference (2025-H2): SYNTHETIC indicator values for all 342 municipalities.

Made from the real number of inhabitants (ggk.refdata) and synthetic records (ggk.mirror.synthetic)
with a fixed seed, by running the definition's own indicators. Regenerate with
`python -m ggk.mirror.reference` (deterministic). Every report that uses it says it is synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import polars as pl

REFERENCE_SEED = 2025
REFERENCE_STATISTIC = "gmsd"
REFERENCE_PERIOD = "2025-H2"


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


def generate_reference(seed: int = REFERENCE_SEED, period: str = REFERENCE_PERIOD) -> pl.DataFrame:
    from ggk.definitions import shipped
    from ggk.definitions.periods import period_bounds
    from ggk.mirror.indicators import compute, load_indicators
    from ggk.mirror.population import gemeente_table, pooled
    from ggk.mirror.synthetic import basis_frame, facultatief_frame
    from ggk.refdata import register

    definition = shipped().for_period(REFERENCE_STATISTIC, "2026-H1")
    indicators = load_indicators(definition)
    everyone = register().all()
    basis = [basis_frame(g, period, seed) for g in everyone]
    data = {
        "basis": pl.concat(basis),
        "facultatief": pl.concat([facultatief_frame(b, period, seed) for b in basis]),
    }
    start, end = period_bounds(period)
    table = gemeente_table([g.code for g in everyone])
    values = compute(indicators, data, table, start, end)
    national = compute(indicators, *pooled(data, table), start, end)
    return pl.concat([values, national]).sort("gemeentecode", "indicator")


def main() -> None:
    out = Path(str(resources.files("ggk.refdata").joinpath("data"))) / reference_file_name(
        REFERENCE_STATISTIC, REFERENCE_PERIOD
    )
    frame = generate_reference().with_columns(pl.col("waarde").round(4))
    frame.write_csv(out)
    print(f"wrote {out} ({frame.height} rows)")


if __name__ == "__main__":
    main()

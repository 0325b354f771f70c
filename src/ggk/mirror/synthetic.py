"""Synthetic accepted data (typed, pseudonymised) for the reference, the benchmark and tests.

Deterministic: a municipality's profile depends only on its code and `PROFILE_SEED`, the records of
a period on (seed, period, code). Nothing here is real data about persons or municipalities'
care use; only the number of inhabitants is real (from ggk.refdata).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl

from ggk.definitions import shipped
from ggk.definitions.periods import Period, period_bounds
from ggk.mirror.reference import reference_file_name
from ggk.refdata import Gemeente

PROFILE_SEED = 20250701
REFERENCE_SEED = 2025
# the shipped reference is of the default statistic (the first shipped one), period 2025-H2
REFERENCE_STATISTIC = shipped().default_statistic()
REFERENCE_PERIOD = "2025-H2"
CATEGORY_WEIGHTS = np.array([30, 14, 6, 1, 2, 5, 6, 8, 2, 1, 5, 6, 7, 9, 3, 1, 1, 1], dtype=float)
CATEGORIES = np.array([f"{i:02d}" for i in range(1, 19)])


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def profile(code: str) -> tuple[float, float]:
    """(clients per inhabitant, share pgb) of a municipality: stable over periods."""
    r = _rng(PROFILE_SEED, code)
    return float(0.055 * np.exp(r.normal(0, 0.2))), float(np.clip(r.normal(0.08, 0.03), 0.01, 0.3))


def basis_frame(
    gemeente: Gemeente, period: str, seed: int = 1, clients: int | None = None
) -> pl.DataFrame:
    """Accepted `basis` rows of one municipality for one period (records active in the period)."""
    start, end = period_bounds(period)
    rate, pgb = profile(gemeente.code)
    r = _rng(seed, period, gemeente.code)
    n_clients = (
        clients
        if clients is not None
        else max(1, int(gemeente.inwoners * rate * np.exp(r.normal(0, 0.03))))
    )
    per_client = 1 + r.poisson(0.5, n_clients)
    n = int(per_client.sum())
    client_ids = np.repeat(np.arange(n_clients), per_client)
    cats = r.choice(CATEGORIES, size=n, p=CATEGORY_WEIGHTS / CATEGORY_WEIGHTS.sum())
    start_day = start.toordinal()
    end_day = end.toordinal()
    span = end_day - start_day + 1
    # a third starts within the period, the rest earlier (up to 4 years)
    begins = np.where(
        r.random(n) < 0.3,
        start_day + r.integers(0, span, n),
        start_day - 1 - r.integers(0, 4 * 365, n),
    )
    ends_in = r.random(n) < 0.25
    ends = np.where(ends_in, np.maximum(begins, start_day) + r.integers(0, span, n), -(10**6))
    ends = np.where(ends > end_day, end_day, ends)
    bsn = pl.Series(np.char.add(f"{gemeente.code}-", client_ids.astype(str)))
    epoch = dt.date(1970, 1, 1).toordinal()
    ended = pl.col("_end") > -(10**5)
    return (
        pl.DataFrame(
            {
                "gemeentecode": pl.Series([gemeente.code] * n, dtype=pl.String),
                "bsn": bsn.cast(pl.String),
                "productcategorie": cats,
                "leveringsvorm": np.where(r.random(n) < pgb, "PGB", "ZIN"),
                "begindatum": pl.Series(begins - epoch, dtype=pl.Int32).cast(pl.Date),
                "_end": pl.Series(np.where(ends > 0, ends - epoch, -(10**6)), dtype=pl.Int32),
            }
        )
        .with_columns(
            pl.when(ended).then(pl.col("_end")).otherwise(None).cast(pl.Date).alias("einddatum"),
            pl.lit(None, dtype=pl.Float64).alias("intensiteit"),
            pl.lit(None, dtype=pl.String).alias("eenheid"),
            pl.when(ended).then(pl.lit("01")).otherwise(None).alias("reden_beeindiging"),
        )
        .drop("_end")
    )


def facultatief_frame(basis: pl.DataFrame, period: str, seed: int = 1) -> pl.DataFrame:
    """Accepted `facultatief` rows: one payment per voorziening of the basis rows."""
    code = basis["gemeentecode"][0] if basis.height else "GM0000"
    r = _rng(seed, period, code, "kosten")
    amounts = np.round(r.lognormal(6.5, 0.8, basis.height), 2)
    return basis.select("gemeentecode", "bsn", "productcategorie", "begindatum").with_columns(
        betaald_bedrag=pl.Series(amounts, dtype=pl.Float64)
    )


def generate_reference(seed: int = REFERENCE_SEED, period: str = REFERENCE_PERIOD) -> pl.DataFrame:
    """Indicator values of every municipality (and NL, pooled) for `period`, from the synthetic
    records above, computed by the default statistic's own indicators of the period after it."""
    from ggk.mirror.indicators import compute, load_indicators
    from ggk.mirror.population import gemeente_table, pooled
    from ggk.refdata import register

    definition = shipped().for_period(REFERENCE_STATISTIC, str(Period.parse(period).shifted(1)))
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

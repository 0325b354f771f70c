"""Realistic, clean GMSD records (spec 3.1 and 3.2) as a Polars frame of strings, drawn in bulk.

Assumptions (see docs/testdata.md): about 60 Wmo clients per 1,000 inhabitants, 1-3 voorzieningen
per client in distinct productcategorieën (so (bsn, productcategorie, begindatum) is unique), a
productcategorie mix led by hulp bij het huishouden, begeleiding and vervoer, ~10% PGB,
intensiteit with the eenheid that fits the category, and a reden_beeindiging whenever the
voorziening ends within the period. Every value of a clean record passes every check of the spec.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from ggk.testdata.bsn import synthetic_bsns

CLIENTS_PER_1000_INHABITANTS = 60
VOORZIENINGEN_PER_CLIENT = (1, 2, 3)
VOORZIENINGEN_P = (0.55, 0.30, 0.15)
PGB_SHARE = 0.11  # of the categories where a PGB is possible: ~10% overall
NO_PGB = {"08", "16", "17"}  # collectief vervoer and (spoed)opvang are always in natura
EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Category:
    weight: float  # relative share of voorzieningen
    eenheid: str
    low: int  # intensiteit range in tenths of the eenheid, inclusive
    high: int
    step: int  # in tenths
    cost_low: int  # betaald_bedrag per half-year in euro
    cost_high: int


# WMO020 productcategorie -> realistic mix and intensities (per week / per period)
CATEGORIES: dict[str, Category] = {
    "01": Category(30.0, "uur", 15, 60, 5, 800, 4000),
    "02": Category(17.0, "uur", 20, 120, 5, 1500, 15000),
    "03": Category(3.0, "uur", 10, 100, 5, 500, 6000),
    "04": Category(1.0, "etmaal", 10, 300, 10, 300, 5000),
    "05": Category(1.0, "etmaal", 300, 1810, 10, 500, 8000),
    "06": Category(4.0, "uur", 10, 80, 5, 500, 6000),
    "07": Category(6.0, "dagdeel", 10, 80, 10, 1000, 12000),
    "08": Category(14.0, "stuk", 100, 2000, 10, 50, 1500),
    "09": Category(1.0, "dagdeel", 10, 40, 10, 200, 3000),
    "10": Category(2.0, "euro", 1000, 25000, 10, 100, 2500),
    "11": Category(4.0, "stuk", 10, 10, 10, 300, 4000),
    "12": Category(7.0, "stuk", 10, 10, 10, 500, 6000),
    "13": Category(5.0, "euro", 5000, 300000, 10, 500, 30000),
    "14": Category(3.0, "stuk", 10, 20, 10, 100, 2000),
    "15": Category(1.5, "etmaal", 300, 1810, 10, 15000, 45000),
    "16": Category(0.3, "etmaal", 10, 600, 10, 2000, 20000),
    "17": Category(0.2, "etmaal", 10, 140, 10, 500, 5000),
    "18": Category(0.5, "etmaal", 300, 1810, 10, 10000, 40000),
}
REDENEN = ("01", "02", "03", "04", "05", "06", "07", "08")
REDEN_P = (0.30, 0.15, 0.08, 0.15, 0.10, 0.12, 0.05, 0.05)
NO_INTENSITY_SHARE = 0.05  # both intensiteit and eenheid empty (allowed)


def default_rows(inwoners: int, rng: np.random.Generator) -> int:
    """Number of basis records of a municipality of this size."""
    clients = max(1, round(inwoners * CLIENTS_PER_1000_INHABITANTS / 1000))
    return int(rng.choice(VOORZIENINGEN_PER_CLIENT, size=clients, p=VOORZIENINGEN_P).sum())


def days(d: dt.date) -> int:
    return (d - EPOCH).days


def date_text(day_numbers: np.ndarray) -> pl.Series:
    return pl.Series(day_numbers.astype(np.int32)).cast(pl.Date).dt.strftime("%Y-%m-%d")


def tenths_text(values: np.ndarray) -> pl.Series:
    """Decimal-comma text of numbers given in tenths: 35 -> '3,5', 40 -> '4'."""
    s = pl.Series(values.astype(np.int64))
    return pl.select(
        pl.when(s % 10 == 0)
        .then((s // 10).cast(pl.String))
        .otherwise(pl.format("{},{}", s // 10, s % 10))
    ).to_series()


def cents_text(values: np.ndarray) -> pl.Series:
    """Decimal-comma euro text of amounts in cents: 123456 -> '1234,56'."""
    s = pl.Series(values.astype(np.int64))
    return pl.select(
        pl.format("{},{}", s // 100, (s % 100).cast(pl.String).str.zfill(2))
    ).to_series()


def basis_records(
    rows: int, gemeente: str, start: dt.date, end: dt.date, rng: np.random.Generator
) -> pl.DataFrame:
    """`rows` clean basis records (all strings; None = empty field), clients in random order."""
    codes = list(CATEGORIES)
    weights = np.array([CATEGORIES[c].weight for c in codes])
    # clients with 1-3 voorzieningen until there are enough rows
    per_client = rng.choice(VOORZIENINGEN_PER_CLIENT, size=rows // 1 + 1, p=VOORZIENINGEN_P)
    clients = int(np.searchsorted(np.cumsum(per_client), rows) + 1)
    per_client = per_client[:clients]
    per_client[-1] -= int(per_client.sum() - rows)
    # distinct categories per client: Gumbel top-k over the weights
    keys = np.log(weights)[None, :] + rng.gumbel(size=(clients, len(codes)))
    top = np.argsort(-keys, axis=1)[:, :3]
    take = np.arange(3)[None, :] < per_client[:, None]
    cat_index = top[take]
    client = np.repeat(np.arange(clients), per_client)
    bsn = synthetic_bsns(clients, rng)[client]

    s, e = days(start), days(end)
    n = rows
    started_before = rng.random(n) < 0.75
    before = s - np.minimum(rng.exponential(730, n).astype(np.int64) + 1, 3650)
    within = s + rng.integers(0, e - s + 1, n)
    begin = np.where(started_before, before, within)
    state = rng.random(n)
    ends_in = state < 0.22
    ends_after = (state >= 0.22) & (state < 0.34)
    first = np.maximum(begin, s)
    end_in = first + (rng.random(n) * (e - first + 1)).astype(np.int64)
    end_after = e + rng.integers(1, 366, n)
    einde = np.where(ends_in, end_in, np.where(ends_after, end_after, 0))
    reden = rng.choice(REDENEN, size=n, p=REDEN_P)

    cats = np.array(codes)[cat_index]
    unit = np.array([CATEGORIES[c].eenheid for c in codes])[cat_index]
    low = np.array([CATEGORIES[c].low for c in codes])[cat_index]
    high = np.array([CATEGORIES[c].high for c in codes])[cat_index]
    step = np.array([CATEGORIES[c].step for c in codes])[cat_index]
    intensity = low + (rng.integers(0, 1 << 30, n) % ((high - low) // step + 1)) * step
    no_intensity = rng.random(n) < NO_INTENSITY_SHARE
    pgb_possible = ~np.isin(cats, list(NO_PGB))
    pgb = pgb_possible & (rng.random(n) < PGB_SHARE)

    return pl.DataFrame(
        {
            "gemeentecode": pl.Series([gemeente], dtype=pl.String).extend_constant(gemeente, n - 1)
            if n
            else pl.Series([], dtype=pl.String),
            "bsn": pl.Series(bsn).cast(pl.String).str.zfill(9),
            "productcategorie": pl.Series(cats, dtype=pl.String),
            "leveringsvorm": pl.Series(np.where(pgb, "PGB", "ZIN"), dtype=pl.String),
            "begindatum": date_text(begin),
            "einddatum": date_text(einde).zip_with(
                pl.Series(einde != 0), pl.Series([None] * n, dtype=pl.String)
            ),
            "intensiteit": tenths_text(intensity).zip_with(
                pl.Series(~no_intensity), pl.Series([None] * n, dtype=pl.String)
            ),
            "eenheid": pl.Series(unit, dtype=pl.String).zip_with(
                pl.Series(~no_intensity), pl.Series([None] * n, dtype=pl.String)
            ),
            "reden_beeindiging": pl.Series(reden, dtype=pl.String).zip_with(
                pl.Series(ends_in), pl.Series([None] * n, dtype=pl.String)
            ),
        }
    )


def kosten_records(keys: pl.DataFrame, gemeente: str, rng: np.random.Generator) -> pl.DataFrame:
    """Clean facultatief records for the given (bsn, productcategorie, begindatum) keys."""
    n = keys.height
    cats = keys["productcategorie"].to_numpy()
    codes = list(CATEGORIES)
    index = {c: i for i, c in enumerate(codes)}
    cat_index = np.array([index[c] for c in cats], dtype=np.int64) if n else np.zeros(0, np.int64)
    low = np.array([CATEGORIES[c].cost_low for c in codes])[cat_index] * 100
    high = np.array([CATEGORIES[c].cost_high for c in codes])[cat_index] * 100
    cents = low + (rng.random(n) * (high - low)).astype(np.int64)
    cents = np.where(rng.random(n) < 0.01, 0, cents)  # a voorziening with nothing paid yet
    return pl.DataFrame(
        {
            "gemeentecode": [gemeente] * n,
            "bsn": keys["bsn"],
            "productcategorie": keys["productcategorie"],
            "begindatum": keys["begindatum"],
            "betaald_bedrag": cents_text(cents),
        },
        schema={
            "gemeentecode": pl.String,
            "bsn": pl.String,
            "productcategorie": pl.String,
            "begindatum": pl.String,
            "betaald_bedrag": pl.String,
        },
    )

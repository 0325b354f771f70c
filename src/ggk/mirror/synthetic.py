"""Synthetic accepted data (typed, pseudonymised) for the reference, the benchmark and tests.

Drawn from the definition's own test-file recipe (`testdata.toml`, via
`ggk.testdata.draw_accepted`), so it works for any statistic and any municipality of the register.
Deterministic: a municipality's profile (a factor on its rates) depends only on its code and
`PROFILE_SEED`, the records of a period on (seed, period, code). Nothing here is real data about
persons or municipalities' use of services; only the number of inhabitants is real (ggk.refdata).
"""

from __future__ import annotations

import hashlib
import hmac
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl

from ggk.definitions import Definition, shipped
from ggk.definitions.periods import Period, period_bounds
from ggk.mirror.reference import reference_file_name
from ggk.mirror.sources import InMemorySource
from ggk.refdata import Gemeente
from ggk.testdata import draw_accepted

PROFILE_SEED = 20250701
PROFILE_SPREAD = 0.2  # sd of the log of a municipality's rate factor: peers differ
REFERENCE_SEED = 2025
# the shipped reference is of the default statistic (the first shipped one), period 2025-H2
REFERENCE_STATISTIC = shipped().default_statistic()
REFERENCE_PERIOD = "2025-H2"


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def profile(code: str) -> float:
    """A municipality's factor on the recipe's rates (units per inhabitant): stable over periods."""
    return float(np.exp(_rng(PROFILE_SEED, code).normal(0, PROFILE_SPREAD)))


def _pseudonymise(frame: pl.DataFrame, columns: list[str], seed: int, code: str) -> pl.DataFrame:
    """Personal fields as the station stores them: a keyed HMAC-SHA256 in hex. The key is per
    municipality: the recipe draws its synthetic BSNs per municipality from one small range
    (999xxxxxx), so the same number in two municipalities is not the same person."""
    key = f"synthetisch-{seed}-{code}".encode()

    def series(s: pl.Series) -> pl.Series:
        return pl.Series(s.name, [None if v is None else hmac.new(key, v.encode(), "sha256")
                                  .hexdigest() for v in s.to_list()], dtype=pl.String)

    return frame.with_columns(series(frame[c].cast(pl.String)) for c in columns)


def accepted(definition: Definition, gemeente: Gemeente, period: str, seed: int = 1,
             units: int | None = None) -> dict[str, pl.DataFrame]:
    """Accepted data of every dataset of one municipality for one period, as the station's
    Parquet holds it (typed, personal fields pseudonymised). `units`: that many units (clients,
    ...) instead of as many as its population and profile give (about that many: the rows are
    drawn for them, the units then again over the rows)."""
    frames = draw_accepted(definition, gemeente.code, period, seed,
                           inwoners=round(gemeente.inwoners * profile(gemeente.code)), units=units)
    return {name: _pseudonymise(frame, [f.name for f in definition.dataset(name).fields
                                        if f.personal], seed, gemeente.code)
            for name, frame in frames.items()}


def source(definition: Definition, gemeenten: list[Gemeente], period: str, seed: int = 1,
           units: dict[str, int] | None = None, datasets: set[str] | None = None
           ) -> InMemorySource:
    """An InMemorySource with the accepted data of `gemeenten` (only `datasets`, if given)."""
    out = InMemorySource()
    for g in gemeenten:
        for name, frame in accepted(definition, g, period, seed, (units or {}).get(g.code)).items():
            if datasets is None or name in datasets:
                out.put(definition.statistic, period, name, g.code, frame)
    return out


def generate_reference(seed: int = REFERENCE_SEED, period: str = REFERENCE_PERIOD,
                       statistic: str = REFERENCE_STATISTIC) -> pl.DataFrame:
    """Indicator values of every municipality (and NL, pooled) for `period`, from the synthetic
    records above, computed by the statistic's own indicators of the period after it."""
    from ggk.mirror.indicators import compute, load_indicators
    from ggk.mirror.population import gemeente_table, pooled
    from ggk.refdata import register

    definition = shipped().for_period(statistic, str(Period.parse(period).shifted(1)))
    indicators = load_indicators(definition)
    everyone = register().all()
    drawn = [accepted(definition, g, period, seed) for g in everyone]
    data = {name: pl.concat([d[name] for d in drawn]) for name in drawn[0]}
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

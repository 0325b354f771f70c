"""Contract of the mirror package: indicators as data, the accepted-data source, the report.

The station implements `AcceptedDataSource` over its storage and calls
`ggk.mirror.build_spiegelrapport(definition, period, gemeente, source)` after every accepted
delivery of the required dataset (first or correction); the returned `MirrorReport` has
`.json()`, `.html()`, `.pdf()` and `.write(directory)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import polars as pl

Richting = Literal["beide", "stijging", "daling"]


class MirrorError(ValueError):
    """A mirror report that cannot be made; the message says why (English, for operators)."""


class IndicatorError(MirrorError):
    """A broken indicators.toml: the message names the file and the indicator."""


class AcceptedDataSource(Protocol):
    def accepted(
        self, statistic: str, period: str, dataset: str
    ) -> dict[str, pl.LazyFrame | pl.DataFrame]:
        """gemeentecode -> the latest accepted, not withdrawn, delivery of this dataset and period,
        typed as in the Table Schema, personal fields (`bsn`) pseudonymised. Empty when none."""


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    naam: str
    eenheid: str
    toelichting: str
    datasets: tuple[str, ...]
    sql: str
    telling: bool = False
    decimalen: int = 1
    leeg: float | None = None
    drempel_verandering: float = 0.25
    richting: Richting = "beide"
    gewicht: float = 1.0
    signaal_peers: bool = True  # raise the robust z-score flag against peers


@dataclass(frozen=True, slots=True)
class PeerRule:
    kenmerken: tuple[str, ...]
    minimum: int
    uitleg: str


@dataclass(frozen=True, slots=True)
class IndicatorSet:
    source: str  # the file it came from
    indicators: tuple[Indicator, ...]
    groups: dict[str, tuple[str, ...]]  # publication group -> values of group_column
    peer_rule: PeerRule
    group_column: str = "code"  # the dataset column the groups list (publicatiegroep_kolom)

    def get(self, code: str) -> Indicator:
        for i in self.indicators:
            if i.code == code:
                return i
        raise KeyError(code)

"""Contract of the publication package: where its data comes from and what can go wrong.

The station implements `ConsentedDataSource` (`ggk.station.StationAcceptedData` with
`opt_in_only=True`); `ggk.publication.publish(definition, period, source, directory)` writes the
next release of the period into `directory/<statistic>/<period>/r<N>/` and returns it.
"""

from __future__ import annotations

from typing import Protocol

import polars as pl


class PublicationError(ValueError):
    """A publication that cannot be made; the message says why (English, for operators)."""


class ReleaseExists(PublicationError):
    """The release directory is already there: a release is never rewritten."""


class NothingToPublish(PublicationError):
    """No municipality gave its opt-in, or the latest release already holds these figures."""


class ConsentedDataSource(Protocol):
    """The accepted data of the municipalities that consented to publication (besluit opt-in)."""

    def accepted(self, statistic: str, period: str, dataset: str) -> dict[str, pl.DataFrame]:
        """gemeentecode -> the latest accepted delivery of this dataset and period, ONLY for
        gemeenten whose besluit is opt-in; personal fields pseudonymised. Empty when none."""

    def accepted_versions(self, statistic: str, period: str, dataset: str) -> dict[str, str]:
        """gemeentecode -> a token of the accepted version (changes with every correction), for
        the same gemeenten as `accepted`, without reading any data."""

    def decisions(self, statistic: str, period: str, dataset: str) -> dict[str, str]:
        """gemeentecode -> workflow state for every gemeente with accepted data of this dataset:
        `opt-in`, `ingetrokken`, or any other state (no besluit yet)."""

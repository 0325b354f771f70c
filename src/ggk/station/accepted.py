"""The station's accepted data as the mirror and publication see it (ggk.mirror's
AcceptedDataSource protocol): the latest accepted version per gemeente, withdrawn ones left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa

from ggk.station import tables as t
from ggk.station.storage import FileStore
from ggk.station.workflow import State


def _accepted_query(statistic: str, period: str | None = None,
                    dataset: str | None = None) -> sa.Select:
    w, d = t.workflow, t.deliveries
    query = (
        sa.select(w.c.period, w.c.dataset, w.c.gemeente, d.c.parquet_path)
        .join(d, sa.and_(d.c.statistic == w.c.statistic, d.c.period == w.c.period,
                         d.c.gemeente == w.c.gemeente, d.c.dataset == w.c.dataset,
                         d.c.version == w.c.accepted_version))
        .where(w.c.statistic == statistic, w.c.accepted_version.is_not(None),
               w.c.state != State.INGETROKKEN.value, d.c.parquet_path.is_not(None))
        .order_by(w.c.period, w.c.dataset, w.c.gemeente)
    )
    if period is not None:
        query = query.where(w.c.period == period)
    if dataset is not None:
        query = query.where(w.c.dataset == dataset)
    return query


class StationAcceptedData:
    """`accepted(statistic, period, dataset) -> {gemeentecode: frame}` over the station's storage.

    Personal fields are pseudonyms (HMAC-SHA256); data of a gemeente whose state is `ingetrokken`
    is never returned, so it is excluded from every aggregate made after the withdrawal.
    """

    def __init__(self, engine: sa.Engine, store: FileStore) -> None:
        self.engine = engine
        self.store = store

    def accepted(self, statistic: str, period: str, dataset: str) -> dict[str, pl.DataFrame]:
        with self.engine.connect() as conn:
            rows = conn.execute(_accepted_query(statistic, period, dataset)).all()
        return {gemeente: self.store.read_parquet(path) for _, _, gemeente, path in rows}

    def snapshot(self, statistics: list[str]) -> AcceptedSnapshot:
        """The accepted data of these statistics (all periods) at this moment, as file paths:
        what the mirror reports of one pass are built from (see AcceptedSnapshot)."""
        paths: dict[tuple[str, str, str], dict[str, str]] = {}
        with self.engine.connect() as conn:
            for statistic in sorted(set(statistics)):
                for period, dataset, gemeente, path in conn.execute(_accepted_query(statistic)):
                    paths.setdefault((statistic, period, dataset), {})[gemeente] = str(
                        self.store.absolute(path))
        return AcceptedSnapshot(paths)


@dataclass(frozen=True)
class AcceptedSnapshot:
    """A frozen, picklable AcceptedDataSource: `{(statistic, period, dataset): {gemeente: Parquet
    path}}` read at one moment. Every accepted version has its own file (named by the delivery's
    message id), so the path is also the version token (`versions()`): ggk.mirror reads
    (`accepted_of`) and recomputes only the gemeenten whose file changed since its previous
    report. Accepted files are never rewritten."""

    paths: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)

    def accepted(self, statistic: str, period: str, dataset: str) -> dict[str, pl.DataFrame]:
        return self.accepted_of(statistic, period, dataset,
                                list(self.paths.get((statistic, period, dataset), {})))

    def accepted_of(self, statistic: str, period: str, dataset: str,
                    gemeenten: list[str]) -> dict[str, pl.DataFrame]:
        """Only these gemeenten's frames (ggk.mirror reads only what changed)."""
        paths = self.paths.get((statistic, period, dataset), {})
        return {g: pl.read_parquet(paths[g]) for g in gemeenten if g in paths}

    def versions(self, statistic: str, period: str, dataset: str) -> dict[str, str]:
        return dict(self.paths.get((statistic, period, dataset), {}))


def accepted_data_source(station_or_engine: Any, store: FileStore | None = None
                         ) -> StationAcceptedData:
    """The accepted data of a station (a `Station`, or its engine and file store) as ggk.mirror
    and publication read it: latest accepted version per gemeente, withdrawn ones left out."""
    if isinstance(station_or_engine, sa.Engine):
        assert store is not None
        return StationAcceptedData(station_or_engine, store)
    return StationAcceptedData(station_or_engine.engine, station_or_engine.store)

"""The station's accepted data as the mirror and publication see it (ggk.mirror's
AcceptedDataSource protocol): the latest accepted version per gemeente, withdrawn ones left out."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from ggk.station import tables as t
from ggk.station.storage import FileStore
from ggk.station.workflow import State


class StationAcceptedData:
    """`accepted(statistic, period, dataset) -> {gemeentecode: frame}` over the station's storage.

    Personal fields are pseudonyms (HMAC-SHA256); data of a gemeente whose state is `ingetrokken`
    is never returned, so it is excluded from every aggregate made after the withdrawal.
    """

    def __init__(self, engine: sa.Engine, store: FileStore) -> None:
        self.engine = engine
        self.store = store

    def accepted(self, statistic: str, period: str, dataset: str) -> dict[str, pl.DataFrame]:
        w, d = t.workflow, t.deliveries
        query = (
            sa.select(w.c.gemeente, d.c.parquet_path)
            .join(d, sa.and_(d.c.statistic == w.c.statistic, d.c.period == w.c.period,
                             d.c.gemeente == w.c.gemeente, d.c.dataset == w.c.dataset,
                             d.c.version == w.c.accepted_version))
            .where(w.c.statistic == statistic, w.c.period == period, w.c.dataset == dataset,
                   w.c.accepted_version.is_not(None), w.c.state != State.INGETROKKEN.value)
            .order_by(w.c.gemeente)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return {gemeente: self.store.read_parquet(path) for gemeente, path in rows if path}

"""The station's accepted data as the mirror and publication see it (ggk.mirror's
AcceptedDataSource protocol): the latest accepted version per gemeente, withdrawn ones left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from ggk.station import tables as t
from ggk.station.storage import FileStore, parquet_object
from ggk.station.workflow import State
from ggk.storage.objects import S3Location


def _accepted_query(statistic: str, period: str | None = None,
                    dataset: str | None = None, opt_in_only: bool = False) -> sa.Select:
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
    if opt_in_only:  # publication: only data whose gemeente consented (besluit opt-in)
        query = query.where(w.c.state == State.OPT_IN.value)
    if period is not None:
        query = query.where(w.c.period == period)
    if dataset is not None:
        query = query.where(w.c.dataset == dataset)
    return query


class StationAcceptedData:
    """`accepted(statistic, period, dataset) -> {gemeentecode: frame}` over the station's storage.

    Personal fields are pseudonyms (HMAC-SHA256); data of a gemeente whose state is `ingetrokken`
    is never returned, so it is excluded from every aggregate made after the withdrawal.

    `opt_in_only=True` (publication, `ggk.publication`) returns only data whose state is
    `opt-in`: undecided and withdrawn gemeenten are left out. The mirror keeps the default.
    """

    def __init__(self, engine: sa.Engine, store: FileStore, *, opt_in_only: bool = False) -> None:
        self.engine = engine
        self.store = store
        self.opt_in_only = opt_in_only

    def accepted(self, statistic: str, period: str, dataset: str) -> dict[str, pl.DataFrame]:
        with self.engine.connect() as conn:
            rows = conn.execute(_accepted_query(statistic, period, dataset,
                                                self.opt_in_only)).all()
        return {gemeente: self.store.read_parquet(path) for _, _, gemeente, path in rows}

    def accepted_versions(self, statistic: str, period: str, dataset: str) -> dict[str, str]:
        """gemeentecode -> the accepted version's file (its version token), same filter; cheap
        (no file is read): the publication step compares it with its latest release."""
        with self.engine.connect() as conn:
            rows = conn.execute(_accepted_query(statistic, period, dataset,
                                                self.opt_in_only)).all()
        return {gemeente: str(path) for _, _, gemeente, path in rows}

    def decisions(self, statistic: str, period: str, dataset: str) -> dict[str, str]:
        """gemeentecode -> workflow state of this dataset for every gemeente with accepted data
        (`opt-in`, `ingetrokken`, or another state: no besluit yet)."""
        w = t.workflow
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(w.c.gemeente, w.c.state).where(
                w.c.statistic == statistic, w.c.period == period, w.c.dataset == dataset,
                w.c.accepted_version.is_not(None))).all()
        return {gemeente: state for gemeente, state in rows}

    def snapshot(self, statistics: list[str]) -> AcceptedSnapshot:
        """The accepted data of these statistics (all periods) at this moment, as file paths:
        what the mirror reports of one pass are built from (see AcceptedSnapshot)."""
        paths: dict[tuple[str, str, str], dict[str, str]] = {}
        with self.engine.connect() as conn:
            for statistic in sorted(set(statistics)):
                for period, dataset, gemeente, path in conn.execute(_accepted_query(statistic)):
                    paths.setdefault((statistic, period, dataset), {})[gemeente] = (
                        self.store.parquet_location(path))
        return AcceptedSnapshot(paths, self.store.objects_location)


@dataclass(frozen=True)
class AcceptedSnapshot:
    """A frozen, picklable AcceptedDataSource: `{(statistic, period, dataset): {gemeente: Parquet
    path}}` read at one moment. Every accepted version has its own file (named by the delivery's
    message id), so the path is also the version token (`versions()`): ggk.mirror reads
    (`accepted_of`) and recomputes only the gemeenten whose file changed since its previous
    report. Accepted files are never rewritten.

    With `objects` (the station's bucket) the paths are object keys: each process (a mirror
    worker) opens the bucket itself and reads the Parquet from its bytes, no local copy."""

    paths: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)
    objects: S3Location | None = None

    def accepted(self, statistic: str, period: str, dataset: str) -> dict[str, pl.DataFrame]:
        return self.accepted_of(statistic, period, dataset,
                                list(self.paths.get((statistic, period, dataset), {})))

    def accepted_of(self, statistic: str, period: str, dataset: str,
                    gemeenten: list[str]) -> dict[str, pl.DataFrame]:
        """Only these gemeenten's frames (ggk.mirror reads only what changed)."""
        paths = self.paths.get((statistic, period, dataset), {})
        if self.objects is None:
            return {g: pl.read_parquet(paths[g]) for g in gemeenten if g in paths}
        store = self.objects.open()
        return {g: parquet_object(store, paths[g]) for g in gemeenten if g in paths}

    def versions(self, statistic: str, period: str, dataset: str) -> dict[str, str]:
        return dict(self.paths.get((statistic, period, dataset), {}))

    def with_test_data_of(self, statistic: str, test_statistic: str,
                          gemeente: str) -> AcceptedSnapshot:
        """The snapshot as the mirror report of a test delivery sees it: `gemeente`'s own data
        from its test track (`test_statistic`, only what it delivered as test), every other
        gemeente's real accepted data. Nobody else's snapshot ever holds test data."""
        paths: dict[tuple[str, str, str], dict[str, str]] = {}
        for stat, period, dataset in self.paths:
            if stat not in (statistic, test_statistic):
                continue
            others = {g: p for g, p in self.paths.get((statistic, period, dataset), {}).items()
                      if g != gemeente}
            own = self.paths.get((test_statistic, period, dataset), {})
            if gemeente in own:
                others[gemeente] = own[gemeente]
            paths[(statistic, period, dataset)] = others
        return AcceptedSnapshot(paths, self.objects)


def open_accepted_data(data_dir: Path | None, database_url: str | None, store_dir: Path | None,
                       *, opt_in_only: bool = False) -> StationAcceptedData:
    """A station's accepted data for a command outside the station (`ggk spiegelrapport`,
    `ggk publicatie`): embedded (`data_dir`) or production (`database_url` with `store_dir`);
    the accepted Parquet in the station's bucket when GGK_STATION_S3_* name one.
    Raises ValueError with a one-line operator message when the options or the schema are off."""
    from ggk.station.database import SchemaNotCurrent, require_current_schema
    from ggk.station.settings import StationSettings, s3_from_environment

    if database_url is None:
        if data_dir is None:
            raise ValueError("give --data-dir (embedded station) or --database-url with "
                             "--store-dir")
        if not (data_dir / "station.sqlite3").is_file():
            raise ValueError(f"{data_dir}: no station database (station.sqlite3) in this folder")
    elif store_dir is None and data_dir is None:
        raise ValueError("give --store-dir (the station's file store) with --database-url")
    settings = StationSettings(data_dir=data_dir, database_url=database_url, store_dir=store_dir,
                               **s3_from_environment({}))  # the station's bucket, if it has one
    engine = sa.create_engine(settings.resolved_database_url())
    try:
        require_current_schema(engine)
    except SchemaNotCurrent as e:
        raise ValueError(str(e)) from None
    return StationAcceptedData(engine, FileStore.for_settings(settings),
                               opt_in_only=opt_in_only)
def accepted_data_source(station_or_engine: Any, store: FileStore | None = None
                         ) -> StationAcceptedData:
    """The accepted data of a station (a `Station`, or its engine and file store) as ggk.mirror
    and publication read it: latest accepted version per gemeente, withdrawn ones left out."""
    if isinstance(station_or_engine, sa.Engine):
        assert store is not None
        return StationAcceptedData(station_or_engine, store)
    return StationAcceptedData(station_or_engine.engine, station_or_engine.store)

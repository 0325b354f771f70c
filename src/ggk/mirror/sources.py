"""AcceptedDataSource implementations without a station: in memory and a folder of CSV files."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from ggk.definitions import Definition
from ggk.definitions.loader import POLARS_TYPES
from ggk.mirror.interfaces import MirrorError

CSV_NAME = re.compile(r"^(?P<gemeente>GM\d{4})-(?P<period>\d{4}-H[12])-(?P<dataset>[a-z_]+)\.csv$")


class InMemorySource:
    """`{(statistic, period, dataset): {gemeentecode: frame}}` held in memory."""

    def __init__(
        self, data: dict[tuple[str, str, str], dict[str, pl.DataFrame | pl.LazyFrame]] | None = None
    ) -> None:
        self.data = data or {}

    def put(
        self,
        statistic: str,
        period: str,
        dataset: str,
        gemeente: str,
        frame: pl.DataFrame | pl.LazyFrame,
    ) -> None:
        self.data.setdefault((statistic, period, dataset), {})[gemeente] = frame

    def accepted(
        self, statistic: str, period: str, dataset: str
    ) -> dict[str, pl.DataFrame | pl.LazyFrame]:
        return dict(self.data.get((statistic, period, dataset), {}))


class CsvFolderSource:
    """Accepted data as CSV files `<GMxxxx>-<period>-<dataset>.csv` in one folder, in the spec's
    format (`;`, decimal comma) and read with the Table Schema's types. The files are taken as
    accepted: run `ggk validate` first. `bsn` is used as it is (pseudonymise before if real)."""

    def __init__(self, folder: Path, definitions: dict[str, Definition]) -> None:
        self.folder = Path(folder)
        self.definitions = definitions  # statistic -> definition (for the schemas)
        if not self.folder.is_dir():
            raise MirrorError(f"{self.folder}: not a folder")

    def accepted(self, statistic: str, period: str, dataset: str) -> dict[str, pl.DataFrame]:
        definition = self.definitions[statistic]
        if dataset not in definition.dataset_names:
            return {}
        spec = definition.dataset(dataset)
        out = {}
        for path in sorted(self.folder.glob(f"GM*-{period}-{dataset}.csv")):
            m = CSV_NAME.match(path.name)
            if not m:
                continue
            raw = pl.read_csv(
                path, separator=spec.dialect.delimiter, infer_schema=False, encoding="utf8-lossy"
            )
            raw = raw.rename({c: c.strip().lower() for c in raw.columns})
            missing = [f.name for f in spec.fields if f.name not in raw.columns]
            if missing:
                raise MirrorError(f"{path}: missing column(s) {', '.join(missing)}")
            cols = []
            for f in spec.fields:
                col = pl.col(f.name).str.strip_chars()
                col = pl.when(col == "").then(None).otherwise(col)
                if f.type == "date":
                    col = col.str.to_date(f.date_format, strict=False)
                elif f.type in {"number", "integer"}:
                    col = col.str.replace(",", ".", literal=True).cast(
                        getattr(pl, POLARS_TYPES[f.type]), strict=False
                    )
                cols.append(col.alias(f.name))
            out[m["gemeente"]] = raw.select(cols)
        return out

"""Load, check and compute the indicators of a definition (its `indicators.toml`).

Every indicator query returns one row per gemeentecode with `waarde` and `teller`; it runs once over
all municipalities' accepted data at a time, so peers cost no extra queries.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import polars as pl

from ggk.definitions import Definition, substitute_period
from ggk.definitions.loader import POLARS_TYPES
from ggk.mirror.interfaces import Indicator, IndicatorError, IndicatorSet, PeerRule

RICHTINGEN = {"beide", "stijging", "daling"}
# The text keys every [[indicator]] of indicators.toml must have (the format, not a statistic).
TEXT_KEYS = ("code", "naam", "eenheid", "toelichting", "sql")
REFERENCE_TABLES = ("gemeente", "publicatiegroep")


def indicators_path(definition: Definition) -> Path:
    return definition.root / str(definition.raw.get("ggk:indicators", "indicators.toml"))


def load_indicators(definition: Definition) -> IndicatorSet:
    """Parse and check the definition's indicators; IndicatorError names file and indicator."""
    path = indicators_path(definition)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndicatorError(f"{path}: file is missing") from None
    except tomllib.TOMLDecodeError as e:
        raise IndicatorError(f"{path}: invalid TOML: {e}") from None
    groups = {str(k): tuple(v) for k, v in raw.get("publicatiegroepen", {}).items()}
    group_column = raw.get("publicatiegroep_kolom")
    if groups and not isinstance(group_column, str):
        raise IndicatorError(f"{path}: [publicatiegroepen] needs publicatiegroep_kolom, the "
                             "column of the dataset whose values the groups list")
    group_column = str(group_column or "code")
    peer = raw.get("peergroep", {})
    rule = PeerRule(
        tuple(peer.get("kenmerken", ["grootteklasse"])),
        int(peer.get("minimum", 5)),
        str(peer.get("uitleg", "")),
    )
    entries = raw.get("indicator")
    if not isinstance(entries, list) or not entries:
        raise IndicatorError(f"{path}: no [[indicator]] entries")
    indicators = []
    for n, entry in enumerate(entries, 1):
        indicators.append(
            _indicator(
                entry, f"{path}: indicator {entry.get('code', f'#{n}')!r}", definition,
                group_column,
            )
        )
    codes = [i.code for i in indicators]
    dupes = {c for c in codes if codes.count(c) > 1}
    if dupes:
        raise IndicatorError(f"{path}: indicator code(s) used twice: {', '.join(sorted(dupes))}")
    return IndicatorSet(str(path), tuple(indicators), groups, rule, group_column)


def _indicator(
    entry: Any, where: str, definition: Definition, group_column: str
) -> Indicator:
    if not isinstance(entry, dict):
        raise IndicatorError(f"{where}: must be a table")
    for key in TEXT_KEYS:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise IndicatorError(f"{where}: missing text key {key!r}")
    datasets = tuple(entry.get("datasets", ()))
    if not datasets:
        raise IndicatorError(f"{where}: 'datasets' must name at least one dataset")
    for name in datasets:
        if name not in definition.dataset_names:
            raise IndicatorError(
                f"{where}: unknown dataset {name!r} (known: {', '.join(definition.dataset_names)})"
            )
    richting = entry.get("richting", "beide")
    if richting not in RICHTINGEN:
        raise IndicatorError(f"{where}: richting {richting!r} is not one of {sorted(RICHTINGEN)}")
    indicator = Indicator(
        code=entry["code"],
        naam=entry["naam"],
        eenheid=entry["eenheid"],
        toelichting=entry["toelichting"],
        datasets=datasets,
        sql=entry["sql"],
        telling=bool(entry.get("telling", False)),
        decimalen=int(entry.get("decimalen", 1)),
        leeg=entry.get("leeg"),
        drempel_verandering=float(entry.get("drempel_verandering", 0.25)),
        richting=richting,
        gewicht=float(entry.get("gewicht", 1.0)),
        signaal_peers=bool(entry.get("signaal_peers", True)),
    )
    _check_query(indicator, where, definition, group_column)
    return indicator


def empty_tables(definition: Definition, group_column: str) -> dict[str, pl.DataFrame]:
    tables = {
        d.name: pl.DataFrame(schema={f.name: getattr(pl, POLARS_TYPES[f.type]) for f in d.fields})
        for d in definition.datasets
    }
    tables["gemeente"] = pl.DataFrame(
        schema={
            "gemeentecode": pl.String,
            "naam": pl.String,
            "inwoners": pl.Int64,
            "grootteklasse": pl.Int64,
        }
    )
    tables["publicatiegroep"] = pl.DataFrame(schema={group_column: pl.String, "groep": pl.String})
    return tables


def _check_query(
    indicator: Indicator, where: str, definition: Definition, group_column: str
) -> None:
    """Run the query on empty typed tables: catches bad SQL, unknown tables/columns, bad output."""
    tables = empty_tables(definition, group_column)
    allowed = {k: v for k, v in tables.items() if k in indicator.datasets or k in REFERENCE_TABLES}
    try:
        schema = _run(
            indicator, allowed, dt.date(2000, 1, 1), dt.date(2000, 6, 30)
        ).collect_schema()
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise IndicatorError(f"{where}: query fails: {first}") from None
    missing = {"gemeentecode", "waarde", "teller"} - set(schema.names())
    if missing:
        raise IndicatorError(
            f"{where}: query must return gemeentecode, waarde and teller; "
            f"missing {', '.join(sorted(missing))}"
        )


def _run(
    indicator: Indicator,
    tables: dict[str, pl.DataFrame | pl.LazyFrame],
    start: dt.date,
    end: dt.date,
) -> pl.LazyFrame:
    ctx = pl.SQLContext(frames=tables)
    return ctx.execute(substitute_period(indicator.sql, start, end), eager=False)


def group_table(indicators: IndicatorSet) -> pl.DataFrame:
    """The publicatiegroep table: one row per value of the group column, with its group."""
    rows = [(cat, group) for group, cats in indicators.groups.items() for cat in cats]
    return pl.DataFrame(
        rows, schema={indicators.group_column: pl.String, "groep": pl.String}, orient="row"
    )


def compute(
    indicators: IndicatorSet,
    data: dict[str, pl.DataFrame],
    gemeenten: pl.DataFrame,
    start: dt.date,
    end: dt.date,
) -> pl.DataFrame:
    """All indicators for every municipality in `gemeenten`: columns gemeentecode, indicator,
    waarde (Float64, null = not available), teller (Int64). `data` maps dataset -> all
    municipalities' rows concatenated; an indicator whose dataset is absent is left out."""
    tables: dict[str, pl.DataFrame | pl.LazyFrame] = dict(data)
    tables["gemeente"] = gemeenten
    tables["publicatiegroep"] = group_table(indicators)
    frames = []
    for ind in indicators.indicators:
        if not all(d in data for d in ind.datasets):
            continue
        result = _run(ind, tables, start, end).select(
            pl.col("gemeentecode").cast(pl.String),
            pl.col("waarde").cast(pl.Float64),
            pl.col("teller").cast(pl.Int64),
        )
        frames.append(
            gemeenten.lazy()
            .select("gemeentecode")
            .join(result, on="gemeentecode", how="left")
            .with_columns(
                pl.lit(ind.code).alias("indicator"),
                pl.col("waarde").fill_null(ind.leeg) if ind.leeg is not None else pl.col("waarde"),
                pl.col("teller").fill_null(0),
            )
        )
    if not frames:
        return pl.DataFrame(
            schema={
                "gemeentecode": pl.String,
                "indicator": pl.String,
                "waarde": pl.Float64,
                "teller": pl.Int64,
            }
        )
    out = pl.concat(pl.collect_all(frames))
    return out.select("gemeentecode", "indicator", "waarde", "teller")

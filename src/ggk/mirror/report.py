"""build_spiegelrapport: indicators, peers, previous period, flags, all under disclosure control.

The JSON (MirrorReport.data) is the only thing the HTML and PDF are rendered from, so no output
format can show more than the disclosure-controlled JSON.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ggk.definitions import Definition
from ggk.definitions.loader import POLARS_TYPES
from ggk.definitions.periods import period_bounds, previous_period
from ggk.mirror import disclosure
from ggk.mirror.indicators import compute, load_indicators
from ggk.mirror.interfaces import AcceptedDataSource, IndicatorSet, MirrorError
from ggk.mirror.peers import peer_group
from ggk.mirror.plausibility import flags_for, ordered
from ggk.mirror.population import NATIONAL, gemeente_table, pooled
from ggk.mirror.reference import Reference, load_reference
from ggk.mirror.render import RenderedReport
from ggk.refdata import GemeenteRegister, UnknownGemeente, register

JSON_FORMAT = "ggk-spiegelrapport/1"


class MirrorReport(RenderedReport):
    """A spiegelrapport: `data` is the JSON document; html/pdf are rendered from it."""

    def render_html(self) -> str:
        from ggk.mirror.render import render_html

        return render_html(self.data)

    def write(
        self, directory: Path, formats: tuple[str, ...] = ("json", "html", "pdf")
    ) -> list[Path]:
        """Write spiegelrapport.<format> files; returns their paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for fmt in formats:
            path = directory / f"spiegelrapport.{fmt}"
            if fmt == "json":
                path.write_text(self.json(), "utf-8")
            elif fmt == "html":
                path.write_text(self.html(), "utf-8")
            elif fmt == "pdf":
                path.write_bytes(self.pdf())
            else:
                raise MirrorError(f"unknown format {fmt!r} (json, html, pdf)")
            paths.append(path)
        return paths


_INDICATORS: dict[str, IndicatorSet] = {}


def _indicators_cached(definition_root: str, definition: Definition) -> IndicatorSet:
    if definition_root not in _INDICATORS:
        _INDICATORS[definition_root] = load_indicators(definition)
    return _INDICATORS[definition_root]


PERIOD_CACHE_SIZE = 4  # periods whose typed data and indicator values are kept (per process)


@dataclass
class _Frame:
    token: Any  # the source's version token, or None (then `original` is compared by identity)
    original: Any  # the frame the source returned (kept, so identity cannot be reused)
    typed: pl.DataFrame
    serial: int  # changes whenever this entry is replaced: the key of everything computed on it


@dataclass
class _PeriodCache:
    """What the reports of one period share while the accepted data does not change: the typed
    frame per (dataset, gemeente), the indicator values per gemeente (a value of a gemeente only
    depends on its own rows: every query groups by gemeentecode), and the pooled national
    figure of the latest data."""

    register: GemeenteRegister | None = None
    frames: dict[tuple[str, str], _Frame] = field(default_factory=dict)
    own: dict[str, tuple[tuple[int | None, ...], pl.DataFrame]] = field(default_factory=dict)
    national: tuple[tuple[Any, ...], pl.DataFrame] | None = None


_CACHE: OrderedDict[tuple[str, str, str], _PeriodCache] = OrderedDict()
_CACHE_LOCK = threading.RLock()
_SERIALS = itertools.count(1)


def clear_cache() -> None:
    """Forget all cached period data and values (benchmarks measure cold reports with it)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _period_cache(indicators: IndicatorSet, statistic: str, period: str,
                  reg: GemeenteRegister) -> _PeriodCache:
    key = (indicators.source, statistic, period)
    if key not in _CACHE or _CACHE[key].register is not reg:  # values use the register's data
        _CACHE[key] = _PeriodCache(register=reg)
    _CACHE.move_to_end(key)
    while len(_CACHE) > PERIOD_CACHE_SIZE:
        _CACHE.popitem(last=False)
    return _CACHE[key]


def _schema(definition: Definition, dataset: str) -> dict[str, Any]:
    spec = definition.dataset(dataset)
    schema = {f.name: getattr(pl, POLARS_TYPES[f.type]) for f in spec.fields}
    # Personal fields (pseudonyms) are only counted distinct: as Categorical (still compared as
    # text in SQL) COUNT(DISTINCT bsn) over all municipalities is several times faster.
    for f in spec.fields:
        if f.personal:
            schema[f.name] = pl.Categorical
    return schema


def _empty(definition: Definition, dataset: str) -> pl.DataFrame:
    return pl.DataFrame(schema={**_schema(definition, dataset), "gemeentecode": pl.String})


def _typed(definition: Definition, dataset: str, frames: dict[str, Any]) -> dict[str, pl.DataFrame]:
    schema = _schema(definition, dataset)
    parts = []
    for code, frame in frames.items():
        lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
        parts.append(
            lf.select([pl.col(n).cast(t) for n, t in schema.items()]).with_columns(
                pl.lit(code).alias("gemeentecode")
            )
        )
    return dict(zip(frames, pl.collect_all(parts), strict=True)) if parts else {}


@dataclass
class _Snapshot:
    """The accepted data of one period as the reports see it: per dataset {gemeente: _Frame}."""

    frames: dict[str, dict[str, _Frame]]

    def delivered(self, dataset: str) -> list[str]:
        return sorted(g for g, f in self.frames.get(dataset, {}).items() if f.typed.height)


def _snapshot(definition: Definition, source: AcceptedDataSource, period: str,
              cache: _PeriodCache) -> _Snapshot:
    """Typed frames of every gemeente, re-read only for gemeenten whose data changed: by the
    source's `versions()` tokens when it has them (the station: one Parquet file per accepted
    version), else by the identity of the frame the source returned."""
    versions = getattr(source, "versions", None)
    out: dict[str, dict[str, _Frame]] = {}
    for ds in definition.datasets:
        tokens = versions(definition.statistic, period, ds.name) if versions else None
        frames: dict[str, Any] | None = None
        if tokens is None:
            frames = source.accepted(definition.statistic, period, ds.name)
        else:
            stale = [g for g, t in tokens.items()
                     if (hit := cache.frames.get((ds.name, g))) is None or hit.token != t]
            if stale and hasattr(source, "accepted_of"):
                frames = source.accepted_of(definition.statistic, period, ds.name, stale)
            elif stale:
                frames = source.accepted(definition.statistic, period, ds.name)
        codes = list(tokens) if tokens is not None else list(frames or ())
        kept: dict[str, _Frame] = {}
        changed: dict[str, Any] = {}
        for g in codes:
            token = tokens.get(g) if tokens is not None else None
            original = frames.get(g) if frames is not None else None
            hit = cache.frames.get((ds.name, g))
            if hit is not None and (
                (token is not None and hit.token == token)
                or (token is None and original is not None and hit.original is original)
            ):
                kept[g] = hit
            elif original is not None:  # (a token without a frame: the source changed since)
                changed[g] = original
        for g, typed in _typed(definition, ds.name, changed).items():
            token = tokens.get(g) if tokens is not None else None
            kept[g] = _Frame(token, None if token is not None else changed[g], typed,
                             next(_SERIALS))
        for g in [g for d, g in cache.frames if d == ds.name and g not in kept]:
            del cache.frames[(ds.name, g)]  # withdrawn (or gone): not in this period's data
        for g, entry in kept.items():
            cache.frames[(ds.name, g)] = entry
        if codes:
            out[ds.name] = {g: kept[g] for g in codes if g in kept}
    return _Snapshot(out)


def _values_of(indicators: IndicatorSet, definition: Definition, snap: _Snapshot,
               cache: _PeriodCache, codes: list[str], reg: GemeenteRegister,
               period: str) -> pl.DataFrame:
    """Indicator values of these gemeenten (all indicators, as if every dataset was present),
    computed only for gemeenten whose data changed since they were last computed."""
    names = [d.name for d in definition.datasets]

    def key(code: str) -> tuple[int | None, ...]:
        return tuple(
            f.serial if (f := snap.frames.get(n, {}).get(code)) is not None else None
            for n in names
        )

    missing = [c for c in codes if c not in cache.own or cache.own[c][0] != key(c)]
    if missing:
        start, end = period_bounds(period)
        data = {
            n: pl.concat(
                [snap.frames[n][c].typed for c in missing if c in snap.frames.get(n, {})]
                or [_empty(definition, n)]
            )
            for n in names
        }
        computed = compute(indicators, data, gemeente_table(missing, reg), start, end)
        by_code = {c: frame for (c,), frame in computed.group_by("gemeentecode")}
        empty = computed.clear()
        for c in missing:
            cache.own[c] = (key(c), by_code.get(c, empty))
    return pl.concat([cache.own[c][1] for c in codes]) if codes else pl.DataFrame(
        schema={"gemeentecode": pl.String, "indicator": pl.String, "waarde": pl.Float64,
                "teller": pl.Int64})


def _present(indicators: IndicatorSet, values: pl.DataFrame, datasets: set[str]) -> pl.DataFrame:
    """Only indicators whose datasets were delivered this period (by anyone) are reported."""
    keep = [i.code for i in indicators.indicators if all(d in datasets for d in i.datasets)]
    return values.filter(pl.col("indicator").is_in(keep))


def _national(indicators: IndicatorSet, definition: Definition, snap: _Snapshot,
              cache: _PeriodCache, delivered: list[str], table: pl.DataFrame,
              period: str) -> pl.DataFrame:
    """The pooled national figure over all delivered gemeenten (the same queries with the code
    replaced by NL); recomputed only when the delivered data changed."""
    key = tuple(
        (n, c, f.serial) for n, frames in sorted(snap.frames.items())
        for c, f in sorted(frames.items()) if c in set(delivered)
    )
    if cache.national is not None and cache.national[0] == key:
        return cache.national[1]
    data = {
        n: pl.concat([frames[c].typed for c in delivered if c in frames]
                     or [_empty(definition, n)])
        for n, frames in snap.frames.items()
    }
    start, end = period_bounds(period)
    national = compute(indicators, *pooled(data, table), start, end)
    cache.national = (key, national)
    return national


def build_spiegelrapport(
    definition: Definition,
    period: str,
    gemeente: str,
    source: AcceptedDataSource,
    reference: Reference | None = None,
    register_: GemeenteRegister | None = None,
    now: dt.datetime | None = None,
) -> MirrorReport:
    """The spiegelrapport of `gemeente` for `period` from the accepted data in `source`.

    `reference` is the previous-period reference used when the municipality has no accepted data
    of the previous period, and for peers when fewer than 5 peers delivered this period; by
    default the shipped (synthetic) reference of the previous period. Raises MirrorError when the
    municipality has no accepted data of the required dataset in this period.
    """
    reg = register_ or register()
    try:
        own = reg.get(gemeente)
    except UnknownGemeente:
        raise MirrorError(f"unknown gemeente {gemeente!r}") from None
    indicators = _indicators_cached(str(definition.root), definition)
    required = next(
        (d.name for d in definition.datasets if d.required), definition.datasets[0].name
    )
    with _CACHE_LOCK:  # the caches are shared by the threads of a process
        cache = _period_cache(indicators, definition.statistic, period, reg)
        snap = _snapshot(definition, source, period, cache)
        if own.code not in snap.delivered(required):
            raise MirrorError(
                f"no accepted {required} delivery of {own.code} for {definition.statistic} "
                f"{period}"
            )
        delivered = snap.delivered(required)
        delivered_set = set(delivered)
        # the other datasets: only municipalities that also delivered the required dataset count
        present = set(snap.frames)
        own_datasets = {n for n in present if own.code in snap.delivered(n)}
        table = gemeente_table(delivered, reg)
        values = _present(indicators, _values_of(indicators, definition, snap, cache,
                                                 list(table["gemeentecode"]), reg, period),
                          present)
        national_all = (
            _national(indicators, definition, snap, cache, delivered, table, period)
            if len(delivered) >= disclosure.MIN_GROUP else None
        )
        prev = previous_period(period)
        prev_cache = _period_cache(indicators, definition.statistic, prev, reg)
        prev_snap = _snapshot(definition, source, prev, prev_cache)
        prev_values = (
            _present(indicators, _values_of(indicators, definition, prev_snap, prev_cache,
                                            [own.code], reg, prev), set(prev_snap.frames))
            if own.code in prev_snap.delivered(required) else None
        )

    if reference is None:
        reference = load_reference(definition.statistic, prev)
    group = peer_group(own, reg, indicators.peer_rule)
    peers_delivered = [c for c in group.members if c in delivered_set]
    minimum = max(indicators.peer_rule.minimum, disclosure.MIN_GROUP)
    peers_from_period = len(peers_delivered) >= minimum
    if peers_from_period:
        peer_values = values.filter(pl.col("gemeentecode").is_in(peers_delivered))
        peer_source = {
            "bron": "periode",
            "periode": period,
            "synthetisch": False,
            "aantal_gemeenten": len(peers_delivered),
        }
    elif reference is not None:
        peer_values = reference.values.filter(pl.col("gemeentecode").is_in(group.members))
        peer_source = {
            "bron": "referentie",
            "periode": reference.period,
            "synthetisch": reference.synthetic,
            "aantal_gemeenten": len(group.members),
        }
    else:
        peer_values = values.clear()
        peer_source = {"bron": "geen", "periode": None, "synthetisch": False, "aantal_gemeenten": 0}

    if national_all is not None:
        national = national_all
        national_source = {
            "bron": "periode",
            "periode": period,
            "synthetisch": False,
            "aantal_gemeenten": len(delivered),
        }
    elif reference is not None:
        national = reference.values.filter(pl.col("gemeentecode") == NATIONAL)
        national_source = {
            "bron": "referentie",
            "periode": reference.period,
            "synthetisch": reference.synthetic,
            "aantal_gemeenten": reference.values["gemeentecode"].n_unique() - 1,
        }
    else:
        national = values.clear()
        national_source = {
            "bron": "geen",
            "periode": None,
            "synthetisch": False,
            "aantal_gemeenten": 0,
        }

    if prev_values is not None:
        prev_own = {
            r["indicator"]: (r["waarde"], r["teller"]) for r in prev_values.iter_rows(named=True)
        }
        prev_source = {"bron": "aanlevering", "periode": prev, "synthetisch": False}
    elif reference is not None:
        prev_own = reference.for_gemeente(own.code)
        prev_source = {
            "bron": "referentie",
            "periode": reference.period,
            "synthetisch": reference.synthetic,
        }
    else:
        prev_own = {}
        prev_source = {"bron": "geen", "periode": prev, "synthetisch": False}

    own_rows = {
        r["indicator"]: (r["waarde"], r["teller"])
        for r in values.filter(pl.col("gemeentecode") == own.code).iter_rows(named=True)
    }
    national_rows = {r["indicator"]: r["waarde"] for r in national.iter_rows(named=True)}
    peer_by_indicator = {
        code: [v for v in frame["waarde"].to_list() if v is not None]
        for (code,), frame in peer_values.group_by("indicator")
    }

    entries, flags = [], []
    for ind in indicators.indicators:
        if ind.code not in own_rows:
            continue
        raw, teller = own_rows[ind.code]
        shown = disclosure.own_value(raw, teller, ind.telling, ind.decimalen)
        prev_raw, prev_teller = prev_own.get(ind.code, (None, None))
        prev_shown = disclosure.own_value(prev_raw, prev_teller, ind.telling, ind.decimalen)
        peers = peer_by_indicator.get(ind.code, [])
        stats = disclosure.group_statistics(peers, ind.telling, ind.decimalen)
        nat_raw = national_rows.get(ind.code)
        nat = (
            disclosure.group_value(nat_raw, ind.telling, ind.decimalen)
            if nat_raw is not None
            else None
        )
        pct = disclosure.change(shown, prev_shown, raw, prev_raw)
        ind_flags = flags_for(ind, raw, prev_raw, peers, pct)
        flags.extend(ind_flags)
        entries.append(
            {
                "code": ind.code,
                "naam": ind.naam,
                "eenheid": ind.eenheid,
                "toelichting": ind.toelichting,
                "telling": ind.telling,
                "decimalen": ind.decimalen,
                "datasets": list(ind.datasets),
                "eigen": shown,
                "vorige_periode": prev_shown,
                "verandering_procent": pct,
                "peers": stats,
                "landelijk": nat,
                "signaalgrens_verandering_procent": round(ind.drempel_verandering * 100),
                "signalen": [f.soort for f in ind_flags],
            }
        )
    flag_list = [
        {
            "indicator": f.indicator,
            "naam": indicators.get(f.indicator).naam,
            "soort": f.soort,
            "gewicht": f.gewicht,
            "reden": f.reden,
            "robuuste_z": f.robuuste_z,
            "verandering_procent": f.verandering_procent,
        }
        for f in ordered(flags)
    ]
    sc = {s.klasse: s.label for s in reg.size_classes()}
    now = now or dt.datetime.now(dt.UTC)
    return MirrorReport(
        {
            "report": "spiegelrapport",
            "format": JSON_FORMAT,
            "statistic": definition.statistic,
            "edition": definition.edition,
            "title": definition.title,
            "period": period,
            "created": now.replace(microsecond=0).isoformat(),
            "gemeente": {
                "code": own.code,
                "naam": own.naam,
                "inwoners": own.inwoners,
                "grootteklasse": own.grootteklasse,
                "grootteklasse_label": sc[own.grootteklasse],
                "stedelijkheid": own.stedelijkheid,
            },
            "datasets": {d.name: d.name in own_datasets for d in definition.datasets},
            "peergroep": {
                "beschrijving": group.beschrijving,
                "regel": indicators.peer_rule.uitleg,
                "grootteklassen": list(group.grootteklassen),
                "stedelijkheid_gebruikt": group.stedelijkheid_gebruikt,
                "aantal_in_groep": len(group.members),
                "aantal_geleverd": len(peers_delivered),
                "minimum": minimum,
                **{f"vergelijking_{k}": v for k, v in peer_source.items()},
            },
            "landelijk": national_source,
            "vorige_periode": prev_source,
            "openbaarmaking": {
                "afronding": disclosure.ROUND_TO,
                "minimum_telling": disclosure.MIN_COUNT,
                "minimum_groep": disclosure.MIN_GROUP,
                "onderdrukt": disclosure.SUPPRESSED,
            },
            "flags": flag_list,
            "indicators": entries,
        }
    )


def period_values(
    definition: Definition,
    period: str,
    source: AcceptedDataSource,
    register_: GemeenteRegister | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Indicator values of every gemeente in `source` that delivered the required dataset, and
    the pooled national figure over exactly those gemeenten (code NL), for the indicators whose
    datasets were delivered: the spiegelrapport's computation, without its cache (used by
    ggk.publication with a source that holds only opted-in gemeenten). Columns: gemeentecode,
    indicator, waarde, teller."""
    reg = register_ or register()
    indicators = _indicators_cached(str(definition.root), definition)
    required = next(
        (d.name for d in definition.datasets if d.required), definition.datasets[0].name
    )
    frames = {d.name: source.accepted(definition.statistic, period, d.name)
              for d in definition.datasets}
    delivered = sorted(g for g, f in frames[required].items()
                       if (f.height if isinstance(f, pl.DataFrame) else 1))
    table = gemeente_table(delivered, reg)
    codes = set(table["gemeentecode"])
    data = {}
    for name, by_gemeente in frames.items():
        typed = _typed(definition, name, {g: f for g, f in by_gemeente.items() if g in codes})
        data[name] = pl.concat(list(typed.values()) or [_empty(definition, name)])
    present = {n for n, f in frames.items() if any(g in codes for g in f)}
    start, end = period_bounds(period)
    values = _present(indicators, compute(indicators, data, table, start, end), present)
    national = _present(indicators, compute(indicators, *pooled(data, table), start, end),
                        present)
    return values, national

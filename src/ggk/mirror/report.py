"""build_spiegelrapport: indicators, peers, previous period, flags, all under disclosure control.

The JSON (MirrorReport.data) is the only thing the HTML and PDF are rendered from, so no output
format can show more than the disclosure-controlled JSON.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ggk.definitions import Definition
from ggk.definitions.loader import POLARS_TYPES
from ggk.mirror import disclosure
from ggk.mirror.indicators import compute, load_indicators
from ggk.mirror.interfaces import AcceptedDataSource, IndicatorSet, MirrorError
from ggk.mirror.peers import peer_group
from ggk.mirror.periods import period_bounds, previous_period
from ggk.mirror.plausibility import flags_for, ordered
from ggk.mirror.reference import NATIONAL, Reference, load_reference
from ggk.refdata import GemeenteRegister, UnknownGemeente, register

JSON_FORMAT = "ggk-spiegelrapport/1"


@dataclass
class MirrorReport:
    """A spiegelrapport: `data` is the JSON document; html/pdf are rendered from it."""

    data: dict[str, Any]
    _html: str | None = field(default=None, repr=False)

    def json(self) -> str:
        return json.dumps(self.data, indent=2, ensure_ascii=False) + "\n"

    def html(self) -> str:
        if self._html is None:
            from ggk.mirror.render import render_html

            self._html = render_html(self.data)
        return self._html

    def pdf(self) -> bytes:
        from ggk.mirror.render import render_pdf

        return render_pdf(self.html())

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


def gemeente_table(codes: list[str], reg: GemeenteRegister | None = None) -> pl.DataFrame:
    reg = reg or register()
    rows = []
    for code in codes:
        try:
            g = reg.get(code)
        except UnknownGemeente:
            continue
        rows.append((g.code, g.naam, g.inwoners, g.grootteklasse))
    return pl.DataFrame(
        rows,
        schema={
            "gemeentecode": pl.String,
            "naam": pl.String,
            "inwoners": pl.Int64,
            "grootteklasse": pl.Int64,
        },
        orient="row",
    )


def pooled(
    data: dict[str, pl.DataFrame], table: pl.DataFrame
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """All municipalities as one (code NL): the national figure with the same queries."""
    nl = {k: v.with_columns(pl.lit(NATIONAL).alias("gemeentecode")) for k, v in data.items()}
    nl_table = pl.DataFrame(
        {
            "gemeentecode": [NATIONAL],
            "naam": ["Nederland"],
            "inwoners": [int(table["inwoners"].sum())],
            "grootteklasse": [0],
        },
        schema=table.schema,
    )
    return nl, nl_table


_PERIOD_CACHE: OrderedDict[tuple[str, ...], tuple[pl.DataFrame, pl.DataFrame]] = OrderedDict()
PERIOD_CACHE_SIZE = 4


def _fingerprint(data: dict[str, pl.DataFrame]) -> tuple[str, ...]:
    """Identifies the accepted data of a period: any change (a correction) changes it."""
    parts = []
    for name in sorted(data):
        frame = data[name]
        parts.append(f"{name}:{frame.height}:{int(frame.hash_rows(seed=7).sum())}")
    return tuple(parts)


def _period_values(indicators: IndicatorSet, data: dict[str, pl.DataFrame],
                   table: pl.DataFrame, period: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Indicator values of every delivered municipality and the pooled national figure.
    They do not depend on which municipality the report is for, so the last few periods' results
    are kept (keyed by the data's fingerprint) for the next report of the same data."""
    key = (indicators.source, period, *_fingerprint(data))
    if key in _PERIOD_CACHE:
        _PERIOD_CACHE.move_to_end(key)
        return _PERIOD_CACHE[key]
    start, end = period_bounds(period)
    values = compute(indicators, data, table, start, end)
    national = compute(indicators, *pooled(data, table), start, end)
    _PERIOD_CACHE[key] = (values, national)
    while len(_PERIOD_CACHE) > PERIOD_CACHE_SIZE:
        _PERIOD_CACHE.popitem(last=False)
    return values, national


def _typed(definition: Definition, dataset: str, frames: dict[str, Any]) -> pl.DataFrame | None:
    if not frames:
        return None
    spec = definition.dataset(dataset)
    schema = {f.name: getattr(pl, POLARS_TYPES[f.type]) for f in spec.fields}
    # Personal fields (pseudonyms) are only counted distinct: as Categorical (still compared as
    # text in SQL) COUNT(DISTINCT bsn) over all municipalities is several times faster.
    for f in spec.fields:
        if f.personal:
            schema[f.name] = pl.Categorical
    parts = []
    for code, frame in frames.items():
        lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
        parts.append(
            lf.select([pl.col(n).cast(t) for n, t in schema.items()]).with_columns(
                pl.lit(code).alias("gemeentecode")
            )
        )
    return pl.concat(pl.collect_all(parts))


def _load(
    definition: Definition, source: AcceptedDataSource, period: str
) -> dict[str, pl.DataFrame]:
    data = {}
    for ds in definition.datasets:
        frame = _typed(definition, ds.name, source.accepted(definition.statistic, period, ds.name))
        if frame is not None:
            data[ds.name] = frame
    return data


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
    start, end = period_bounds(period)
    required = next(
        (d.name for d in definition.datasets if d.required), definition.datasets[0].name
    )
    data = _load(definition, source, period)
    if required not in data or own.code not in set(data[required]["gemeentecode"].unique()):
        raise MirrorError(
            f"no accepted {required} delivery of {own.code} for {definition.statistic} {period}"
        )
    delivered = sorted(set(data[required]["gemeentecode"].unique()))
    # facultatief etc.: only municipalities that also delivered the required dataset count
    data = {k: v.filter(pl.col("gemeentecode").is_in(delivered)) for k, v in data.items()}
    table = gemeente_table(delivered, reg)
    values, national_all = _period_values(indicators, data, table, period)

    prev = previous_period(period)
    if reference is None:
        reference = load_reference(definition.statistic, prev)
    group = peer_group(own, reg, indicators.peer_rule)
    peers_delivered = [c for c in group.members if c in set(delivered)]
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

    if len(delivered) >= disclosure.MIN_GROUP:
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

    prev_data = _load(definition, source, prev)
    if required in prev_data and own.code in set(prev_data[required]["gemeentecode"].unique()):
        prev_data = {k: v.filter(pl.col("gemeentecode") == own.code) for k, v in prev_data.items()}
        p_start, p_end = period_bounds(prev)
        prev_own = {
            r["indicator"]: (r["waarde"], r["teller"])
            for r in compute(
                indicators, prev_data, gemeente_table([own.code], reg), p_start, p_end
            ).iter_rows(named=True)
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
            "datasets": {
                d.name: d.name in data and own.code in set(data[d.name]["gemeentecode"])
                for d in definition.datasets
            },
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

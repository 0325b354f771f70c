"""Build the disclosure-controlled table of a period and write it as a new, immutable release."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ggk.definitions import Definition
from ggk.mirror import disclosure, load_indicators, period_values
from ggk.publication.interfaces import (
    ConsentedDataSource,
    NothingToPublish,
    PublicationError,
    ReleaseExists,
)
from ggk.publication.models import NATIONAL, SUPPRESSED, DecisionCounts, PublicationTable, Release
from ggk.refdata import GemeenteRegister, register

OPT_IN = "opt-in"
WITHDRAWN = "ingetrokken"
KINDS = ("som", "dekkend", "deel")


@dataclass(frozen=True, slots=True)
class RowRelation:
    total: str
    parts: tuple[str, ...]
    kind: disclosure.RelationKind


@dataclass(frozen=True, slots=True)
class PublicationSettings:
    """A definition's `publication.toml`: SDMX identifiers and the relations within a row."""

    agency: str
    dataflow: str
    structure: str
    version: str
    naam: str
    relations: tuple[RowRelation, ...]


def load_settings(definition: Definition) -> PublicationSettings:
    """Read and check `publication.toml` of the definition; PublicationError names the file."""
    path = definition.root / "publication.toml"
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise PublicationError(
            f"{path}: file is missing (the definition is not published)") from None
    except tomllib.TOMLDecodeError as e:
        raise PublicationError(f"{path}: invalid TOML: {e}") from None
    sdmx = raw.get("sdmx", {})
    missing = [k for k in ("agency", "dataflow", "structure", "version", "naam") if not sdmx.get(k)]
    if missing:
        raise PublicationError(f"{path}: [sdmx] misses {', '.join(missing)}")
    codes = {i.code for i in load_indicators(definition).indicators}
    relations = []
    for n, entry in enumerate(raw.get("relatie", []), 1):
        kind, total, parts = entry.get("soort"), entry.get("totaal"), tuple(entry.get("delen", ()))
        if kind not in KINDS:
            raise PublicationError(f"{path}: relatie #{n}: soort {kind!r} is not one of {KINDS}")
        unknown = [c for c in (total, *parts) if c not in codes]
        if unknown or not parts:
            raise PublicationError(
                f"{path}: relatie #{n}: unknown indicator(s) {', '.join(map(str, unknown))}"
                if unknown else f"{path}: relatie #{n}: 'delen' is empty")
        relations.append(RowRelation(total, parts, kind))
    return PublicationSettings(sdmx["agency"], sdmx["dataflow"], sdmx["structure"],
                               str(sdmx["version"]), sdmx["naam"], tuple(relations))


def required_dataset(definition: Definition) -> str:
    return next((d.name for d in definition.datasets if d.required), definition.datasets[0].name)


def decision_counts(definition: Definition, period: str, source: ConsentedDataSource,
                    register_: GemeenteRegister) -> tuple[DecisionCounts, dict[str, str]]:
    states = source.decisions(definition.statistic, period, required_dataset(definition))
    opt_in = sum(s == OPT_IN for s in states.values())
    withdrawn = sum(s == WITHDRAWN for s in states.values())
    total = len(register_.all())
    return DecisionCounts(opt_in, withdrawn, len(states) - opt_in - withdrawn,
                          max(0, total - len(states))), states


def table_relations(tellers: dict[tuple[str, str], int], codes: list[str],
                    indicators: list[str], rows: tuple[RowRelation, ...]
                    ) -> list[disclosure.Relation]:
    """What a reader can use: per indicator, NL over the published gemeenten (`som` when the
    counts add up, `dekkend` when a client in two gemeenten makes NL smaller), and the
    definition's row relations within every row (NL and each gemeente)."""
    relations = []
    for code in indicators:
        parts = tuple((g, code) for g in codes)
        total = tellers[(NATIONAL, code)]
        kind = "som" if total == sum(tellers[p] for p in parts) else "dekkend"
        relations.append(disclosure.Relation((NATIONAL, code), parts, kind))
    for rel in rows:
        if rel.total in indicators and all(p in indicators for p in rel.parts):
            for area in (NATIONAL, *codes):
                relations.append(disclosure.Relation(
                    (area, rel.total), tuple((area, p) for p in rel.parts), rel.kind))
    return relations


def build_table(definition: Definition, period: str, source: ConsentedDataSource,
                register_: GemeenteRegister | None = None) -> PublicationTable:
    """The indicators of every opted-in gemeente and of NL (pooled over exactly those
    gemeenten), with disclosure control: counts rounded to 5, cells whose count is below 10
    suppressed, and secondary suppression so that no suppressed count follows from the shown
    ones through the national figure or a row relation (`ggk.mirror.disclosure.protect_table`)."""
    reg = register_ or register()
    settings = load_settings(definition)
    indicators = load_indicators(definition)
    counts, states = decision_counts(definition, period, source, reg)
    values, national = period_values(definition, period, source, reg)
    present = [i for i in indicators.indicators if i.code in set(values["indicator"])]
    codes = sorted(set(values["gemeentecode"]))
    rows = pl.concat([values, national])
    tellers = {(r["gemeentecode"], r["indicator"]): int(r["teller"] or 0)
               for r in rows.iter_rows(named=True)}
    raw = {(r["gemeentecode"], r["indicator"]): r["waarde"] for r in rows.iter_rows(named=True)}
    relations = table_relations(tellers, codes, [i.code for i in present], settings.relations)
    try:
        suppressed = disclosure.protect_table(tellers, relations)
    except ValueError as e:
        raise PublicationError(f"disclosure control of {definition.statistic} {period}: {e}") \
            from None
    cells: dict[tuple[str, str], float | int | str | None] = {}
    for key in tellers:
        ind = indicators.get(key[1])
        if key in suppressed:
            cells[key] = SUPPRESSED
        else:
            cells[key] = disclosure.own_value(raw[key], tellers[key], ind.telling, ind.decimalen)
    names = {g.code: g.naam for g in reg.all()}
    return PublicationTable(
        definition.statistic, definition.edition, definition.title, period, tuple(present),
        tuple((c, names.get(c, c)) for c in codes), cells, suppressed, counts,
        tuple(sorted(c for c, s in states.items() if s == WITHDRAWN)))


def fingerprint(definition: Definition, period: str, source: ConsentedDataSource) -> str:
    """What a release is made from, without reading data: the accepted versions of the opted-in
    gemeenten, every gemeente's besluit state, the definition and the disclosure rules. A new
    release is only made when it differs from the latest release's."""
    content = {
        "definition": [definition.statistic, definition.edition],
        "rules": [disclosure.MIN_COUNT, disclosure.ROUND_TO],
        "versions": {d.name: source.accepted_versions(definition.statistic, period, d.name)
                     for d in definition.datasets},
        "decisions": {g: s if s in (OPT_IN, WITHDRAWN) else "geen-besluit" for g, s in
                      source.decisions(definition.statistic, period,
                                       required_dataset(definition)).items()},
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def period_dir(directory: Path, statistic: str, period: str) -> Path:
    return Path(directory) / statistic / period


def releases(directory: Path, statistic: str, period: str) -> list[Release]:
    """Every complete release of the period, oldest first."""
    folder = period_dir(directory, statistic, period)
    found = []
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name.startswith("r") and path.name[1:].isdigit() and \
                    (path / "manifest.json").is_file():
                found.append(Release.read(path))
    return sorted(found, key=lambda r: r.number)


def latest_release(directory: Path, statistic: str, period: str) -> Release | None:
    found = releases(directory, statistic, period)
    return found[-1] if found else None


def publish(definition: Definition, period: str, source: ConsentedDataSource, directory: Path,
            *, now: dt.datetime | None = None, register_: GemeenteRegister | None = None,
            number: int | None = None) -> Release:
    """Write the next release of the period (`directory/<statistic>/<period>/r<N>/`).

    Raises NothingToPublish when no gemeente opted in or the latest release was made from the
    same data and decisions, ReleaseExists when `r<N>` is already there (given `number`, or
    made by another station meanwhile): a release is never rewritten; a correction is always a
    new release with a change log against the previous one."""
    from ggk.publication import formats

    reg = register_ or register()
    previous = latest_release(directory, definition.statistic, period)
    source_print = fingerprint(definition, period, source)
    if previous is not None and previous.manifest.get("bron") == source_print and number is None:
        raise NothingToPublish(
            f"release {previous.name} of {definition.statistic} {period} was made from exactly "
            "these deliveries and decisions; a new release needs a change")
    counts, _ = decision_counts(definition, period, source, reg)
    table = build_table(definition, period, source, reg) if counts.opt_in else None
    if table is None or not table.gemeenten:
        raise NothingToPublish(
            f"no municipality has opted in for {definition.statistic} {period} "
            f"({counts.ingetrokken} withdrawn, {counts.geen_besluit} undecided): nothing may "
            "be published")
    if previous is not None and number is None and \
            formats.previous_cells(previous) == formats.cell_texts(table):
        raise NothingToPublish(
            f"the figures of {definition.statistic} {period} are the same as in release "
            f"{previous.name}; no new release")
    number = number or (previous.number + 1 if previous else 1)
    target = period_dir(directory, definition.statistic, period) / f"r{number}"
    if target.exists():
        raise ReleaseExists(f"{target} already exists: a release is never rewritten")
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    partial.mkdir(parents=True)
    try:
        formats.write_release(partial, table, load_settings(definition), number, previous,
                              source_print, definition, now or dt.datetime.now(dt.UTC))
        for path in partial.iterdir():
            path.chmod(0o444)  # read-only: a release is never rewritten
        try:
            os.rename(partial, target)
        except OSError:
            raise ReleaseExists(f"{target} already exists: a release is never rewritten") \
                from None
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    return Release.read(target)

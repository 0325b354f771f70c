"""The defects the generator can inject: catalogue (from the definition), syntax, row mutations.

Syntax (spec, CLI `--errors`): `elfproef=10,dubbel-record=5,verplicht:bsn=3,codelijst:eenheid=2`.
A field code without a column (`verplicht=6`) is spread at random over the columns it applies to.
Each defect goes into its own data line, built from a clean record by changing as little as
needed, so that the line carries exactly one finding and the answer key is exact.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from ggk.definitions import DatasetSpec, Definition, FieldSpec, Rule, substitute_period
from ggk.definitions.loader import POLARS_TYPES
from ggk.testdata.interfaces import TestdataError, UnknownDefect

FIELD_CODES = ("verplicht", "type", "patroon", "codelijst", "minimum", "elfproef")
FILE_CODES = ("bestand-leeg", "codering", "scheidingsteken")
HEADER_CODES = ("kolom-ontbreekt", "kolom-onbekend", "kolom-dubbel")
UNKNOWN_COLUMNS = (
    "opmerking",
    "clientnummer",
    "postcode",
    "wijk",
    "aanbieder",
    "toewijzingsnummer",
    "geboortedatum",
    "beschikkingsnummer",
)
BAD_DATES = ("2026-02-30", "2025-13-01", "15-03-2026", "2026/03/15", "morgen", "20260315")
BAD_NUMBERS = ("12.5", "abc", "1.250,00", "3,5 uur", "twee")
BAD_INTEGERS = ("1,5", "abc", "12.0")


@dataclass(frozen=True, slots=True)
class Defect:
    code: str
    column: str | None


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Which defect codes apply to one dataset of a definition, with their columns and severity."""

    dataset: DatasetSpec
    columns: dict[str, tuple[str, ...]]  # row-level code -> columns it can hit ((None,) if none)
    severities: dict[str, str]
    rule_columns: dict[str, str | None]

    @classmethod
    def of(cls, definition: Definition, dataset: str) -> Catalogue:
        spec = definition.dataset(dataset)
        f = spec.fields
        columns: dict[str, tuple] = {
            "verplicht": tuple(x.name for x in f if x.required),
            "type": tuple(x.name for x in f if x.type in ("date", "number", "integer")),
            "patroon": tuple(x.name for x in f if x.pattern),
            "codelijst": tuple(x.name for x in f if x.enum),
            "minimum": tuple(x.name for x in f if x.minimum is not None),
            "elfproef": tuple(x.name for x in f if x.elfproef),
            "gemeentecode-afzender": tuple(x.name for x in f if x.is_sender),
            "aantal-velden": (None,),
        }
        if spec.primary_key:
            columns["dubbel-record"] = (None,)
        if any(orphan_field(spec, fk.fields) for fk in spec.foreign_keys):
            columns["geen-basisrecord"] = (None,)
        severities = {code: "error" for code in columns}
        severities["geen-basisrecord"] = "warning"
        rule_columns = {}
        for rule in definition.rules_for(dataset):  # every rule: broken by search (RuleBreaker)
            columns[rule.code] = (rule.column,)
            severities[rule.code] = rule.severity
            rule_columns[rule.code] = rule.column
        columns = {k: v for k, v in columns.items() if v}
        for code in (*FILE_CODES, *HEADER_CODES):
            severities[code] = "error"
        return cls(spec, columns, severities, rule_columns)

    def finding_column(self, code: str, column: str | None) -> str | None:
        """The `column` of the report entry (spec section 7)."""
        if code in ("aantal-velden", "dubbel-record", "geen-basisrecord", *FILE_CODES):
            return None
        if code in self.rule_columns:
            return self.rule_columns[code]
        return column

    def known(self) -> list[str]:
        out = []
        for code, cols in self.columns.items():
            out.append(code)
            if code in FIELD_CODES and len(cols) > 1:
                out.extend(f"{code}:{c}" for c in cols)
        return [*out, *FILE_CODES, *HEADER_CODES]


def parse_errors(text: str) -> dict[str, int]:
    """Parse `code[:column]=N,...` into {"code[:column]": N}; raises TestdataError."""
    result: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, count = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise TestdataError(f"defect {part!r} must look like code=N or code:column=N")
        try:
            n = int(count)
        except ValueError:
            raise TestdataError(
                f"defect {part!r}: count {count.strip()!r} is not a whole number"
            ) from None
        if n < 0:
            raise TestdataError(f"defect {part!r}: count must be 0 or more")
        result[name] = result.get(name, 0) + n
    return result


@dataclass(frozen=True, slots=True)
class Plan:
    """Resolved defects: one Defect per affected data line, plus file- and header-level ones."""

    rows: tuple[Defect, ...]
    file: str | None  # bestand-leeg, codering or scheidingsteken
    header: tuple[Defect, ...]  # kolom-* with their column


def plan(catalogue: Catalogue, errors: dict[str, int], rng: random.Random) -> Plan:
    """Check the requested defects against the catalogue and spread column-less ones."""
    rows: list[Defect] = []
    header: list[Defect] = []
    file_codes: list[str] = []
    fields = catalogue.dataset.field_names
    used_header_columns: set[str] = set()
    for name, n in errors.items():
        code, _, column = name.partition(":")
        code, column = code.strip(), column.strip() or None
        if n == 0:
            continue
        if code in FILE_CODES:
            if column:
                raise UnknownDefect(f"{code} has no column (got {name!r})")
            if n != 1:
                raise TestdataError(f"{code} is a property of the whole file: its count must be 1")
            file_codes.append(code)
        elif code in HEADER_CODES:
            if column is not None and code != "kolom-onbekend" and column not in fields:
                raise UnknownDefect(
                    f"{name}: {column!r} is not a column of {catalogue.dataset.name}"
                    f" (columns: {', '.join(fields)})"
                )
            if column is not None and n != 1:
                raise TestdataError(f"{name}: a named column can be hit once")
            for _ in range(n):
                header.append(Defect(code, column))
        elif code in catalogue.columns:
            allowed = catalogue.columns[code]
            if column is not None and column not in allowed:
                raise UnknownDefect(
                    f"{code} does not apply to column {column!r} of {catalogue.dataset.name}"
                    f" (it applies to: {', '.join(c for c in allowed if c) or 'no column'})"
                )
            for _ in range(n):
                rows.append(Defect(code, column if column else rng.choice(allowed)))
        else:
            raise UnknownDefect(
                f"unknown defect {code!r} for dataset {catalogue.dataset.name}; "
                f"known: {', '.join(catalogue.known())}"
            )
    if file_codes and (len(file_codes) > 1 or rows or header):
        raise TestdataError(
            f"{file_codes[0]} makes the whole file unreadable; "
            "it cannot be combined with other defects"
        )
    # resolve the columns of the header defects, all distinct
    for i, d in enumerate(header):
        if d.code == "kolom-onbekend":
            if d.column is None:
                free = [c for c in UNKNOWN_COLUMNS if c not in used_header_columns]
                if not free:
                    raise TestdataError(f"at most {len(UNKNOWN_COLUMNS)} unknown columns")
                header[i] = Defect(d.code, free[0])
        elif d.column is None:
            free = [
                c
                for c in fields
                if c not in used_header_columns and not any(h.column == c for h in header)
            ]
            if not free:
                raise TestdataError(f"too many {d.code}: the file has {len(fields)} columns")
            header[i] = Defect(d.code, rng.choice(free))
        if header[i].column in used_header_columns:
            raise TestdataError(f"column {header[i].column!r} is hit by two column defects")
        used_header_columns.add(header[i].column)  # type: ignore[arg-type]
    if len([d for d in header if d.code == "kolom-ontbreekt"]) >= len(fields):
        raise TestdataError("kolom-ontbreekt cannot remove every column")
    return Plan(tuple(rows), file_codes[0] if file_codes else None, tuple(header))


# --- row mutations ------------------------------------------------------------------------------

Row = dict[str, str | None]


@dataclass
class MutationContext:
    spec: DatasetSpec
    start: dt.date
    end: dt.date
    gemeente: str
    other_gemeenten: list[str]
    rng: random.Random
    fresh_bsn: Callable[[], str]  # a valid synthetic BSN used nowhere else (geen-basisrecord)
    zeros_used: bool = False


def _number_text(value: float, field: FieldSpec) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", field.decimal_char)


def _bad_type(field: FieldSpec, ctx: MutationContext) -> str:
    if field.type == "date":
        return ctx.rng.choice(BAD_DATES)
    if field.type == "integer":
        return ctx.rng.choice(BAD_INTEGERS)
    return ctx.rng.choice(BAD_NUMBERS)


def _bad_pattern(field: FieldSpec, value: str | None, ctx: MutationContext) -> str:
    value = value or "GM0000"
    candidates = [value[:-1], value + "0", value[:-1] + "X", value[1:], "X" + value]
    ctx.rng.shuffle(candidates)
    for c in candidates:
        if c and not re.fullmatch(field.pattern or "", c):
            return c
    raise TestdataError(f"cannot make a value that breaks pattern {field.pattern!r}")


def _bad_code(field: FieldSpec, ctx: MutationContext) -> str:
    enum = list(field.enum or ())
    lowered = {e.lower() for e in enum}
    if enum and all(e.isdigit() for e in enum) and len({len(e) for e in enum}) == 1:
        width = len(enum[0])
        candidates = [
            str(max(int(e) for e in enum) + 1).zfill(width),
            "0" * width,
            "9" * width,
            str(int(ctx.rng.choice(enum))),
        ]
    else:
        candidates = ["onbekend", "ONB", "X", "overig", "week", "maand"]
    candidates = [c for c in candidates if c not in enum and c.lower() not in lowered]
    return ctx.rng.choice(candidates)


def _bad_minimum(field: FieldSpec, ctx: MutationContext) -> str:
    assert field.minimum is not None
    delta = (
        ctx.rng.choice([1, 0.5, 12.5, 250]) if field.type != "integer" else ctx.rng.choice([1, 3])
    )
    return _number_text(field.minimum - delta, field)


def _elfproef_fail(value: str | None, ctx: MutationContext) -> str:
    if not ctx.zeros_used and ctx.rng.random() < 0.2:
        ctx.zeros_used = True
        return "000000000"  # nine zeros pass the sum but are excluded by spec section 6
    digits = value if value and value.isdigit() and len(value) == 9 else ctx.fresh_bsn()
    last = (int(digits[8]) + ctx.rng.randint(1, 9)) % 10
    return digits[:8] + str(last)


def orphan_field(spec: DatasetSpec, fields: tuple[str, ...]) -> str | None:
    """The foreign-key field a `geen-basisrecord` line changes: one that holds a BSN, for which
    the generator can draw a valid value used nowhere else; None when the key has none."""
    return next((f for f in fields if spec.field(f).elfproef), None)


def mutate(row: Row, defect: Defect, ctx: MutationContext) -> None:
    """Change a clean row so that it carries exactly this one field finding (in place).
    Rule findings are made by RuleBreaker; aantal-velden and dubbel-record where lines are
    written."""
    code, column = defect.code, defect.column
    if code in ("verplicht", "type", "patroon", "codelijst", "minimum"):
        assert column is not None
        field = ctx.spec.field(column)
        if code == "verplicht":
            row[column] = None
        elif code == "type":
            row[column] = _bad_type(field, ctx)
        elif code == "patroon":
            row[column] = _bad_pattern(field, row.get(column), ctx)
        elif code == "codelijst":
            row[column] = _bad_code(field, ctx)
        else:
            row[column] = _bad_minimum(field, ctx)
    elif code == "elfproef":
        assert column is not None
        row[column] = _elfproef_fail(row.get(column), ctx)
    elif code == "gemeentecode-afzender":
        assert column is not None
        row[column] = ctx.rng.choice(ctx.other_gemeenten)
    elif code == "geen-basisrecord":
        fk = next(k for k in ctx.spec.foreign_keys if orphan_field(ctx.spec, k.fields))
        row[orphan_field(ctx.spec, fk.fields)] = ctx.fresh_bsn()  # type: ignore[index]
    else:
        raise AssertionError(code)


# --- rule breaking ------------------------------------------------------------------------------

CANDIDATES = 256
ATTEMPTS = 20
EMPTY_SHARE = 0.15  # of candidate values of optional fields


class RuleBreaker:
    """Makes a record break exactly one rule, for any definition: it re-draws the fields the rule
    reads (wide, valid values) and keeps a candidate where that rule's SQL is true and every other
    rule's is not, whose key no other line has. The rules' own SQL decides, so the answer key stays
    exact whatever the rule says."""

    def __init__(self, definition: Definition, spec: DatasetSpec, start: dt.date, end: dt.date,
                 rng: random.Random, keys: set[tuple[str | None, ...]],
                 render: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
        self.spec, self.start, self.end = spec, start, end
        self.rules = definition.rules_for(spec.name)
        self.rng = np.random.default_rng(rng.getrandbits(64))
        self.keys = keys  # primary keys of the file's lines as written (updated here)
        self.render = render
        self.schema = {f.name: getattr(pl, POLARS_TYPES[f.type]) for f in spec.fields}
        self.fixed = {f for fk in spec.foreign_keys for f in fk.fields}
        self.exprs = [pl.sql_expr(substitute_period(r.violation, start, end)).fill_null(False)
                      .alias(r.code) for r in self.rules]

    def break_rule(self, code: str, typed: dict[str, object]) -> Row:
        rule = next(r for r in self.rules if r.code == code)
        # the fields this rule reads, and those of every rule that shares one with it: breaking
        # one rule may wake another, which then has to be kept quiet
        reads = set(rule.requires)
        grown = True
        while grown:
            wider = reads.union(*(r.requires for r in self.rules if reads & set(r.requires)))
            grown, reads = wider != reads, wider
        free = [c for c in self.spec.field_names if c in reads and c not in self.fixed]
        if not free:
            raise TestdataError(f"rule {code} reads only key fields; the generator cannot break it")
        own = self._key(self.render(pl.DataFrame([typed], schema=self.schema)).row(0, named=True))
        wider = free + [c for c in self.spec.primary_key if c not in free and c not in self.fixed]
        for attempt in range(ATTEMPTS):
            if attempt == ATTEMPTS // 2:  # every key the rule allows is taken: move the line
                free = wider
            columns = {name: [typed[name]] * CANDIDATES for name in self.spec.field_names}
            for name in free:
                pool = self._pool(self.spec.field(name), typed[name])
                columns[name] = pool
            frame = pl.DataFrame(columns, schema=self.schema)
            hits = frame.select(self.exprs)
            others = [r.code for r in self.rules if r.code != code]
            ok = hits[code] & ~pl.any_horizontal(hits.select(others)) if others else hits[code]
            good = self.render(frame.filter(ok)).to_dicts()
            for row in good:
                key = self._key(row)
                if key == own or key not in self.keys:
                    self.keys.discard(own)
                    self.keys.add(key)
                    return row
        raise TestdataError(f"cannot make a record that breaks only rule {code} of "
                            f"{self.spec.name} (tried {ATTEMPTS * CANDIDATES} candidates)")

    def _key(self, row: Row) -> tuple[str | None, ...]:
        return tuple(row[c] for c in self.spec.primary_key)

    def _pool(self, field: FieldSpec, current: object) -> list[object]:
        """Candidate values of a field: valid ones, around the period; free text keeps its value
        (or is left empty when optional)."""
        n, rng = CANDIDATES, self.rng
        if field.type == "date":
            s = self.start.toordinal()
            values: list[object] = [dt.date.fromordinal(int(d)) for d in
                                    rng.integers(s - 800, self.end.toordinal() + 401, n)]
        elif field.enum:
            values = list(rng.choice(list(field.enum), n))
        elif field.type in ("number", "integer"):
            low = int(field.minimum) if field.minimum is not None else -1000
            values = [int(v) if field.type == "integer" else float(v)
                      for v in rng.integers(low, 1001, n)]
        else:
            values = [current] * n
        if not field.required:
            values = [None if e else v for v, e in zip(values, rng.random(n) < EMPTY_SHARE,
                                                       strict=True)]
        return values


def rule_of(definition: Definition, dataset: str, code: str) -> Rule | None:
    return next((r for r in definition.rules_for(dataset) if r.code == code), None)

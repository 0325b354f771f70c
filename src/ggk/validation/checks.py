"""The row checks, as Polars expressions over the records of one file (no loop per data row).

Order per field (spec 4.2, plus `bereik`): verplicht, type, bereik, patroon, codelijst, minimum,
elfproef; a field gets at most the first that applies. Rules that read a field with a finding of
its own are not checked on that line; lines with the wrong number of fields get `aantal-velden`
and nothing else.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import polars as pl

from ggk.definitions import DatasetSpec, Definition, FieldSpec, substitute_period
from ggk.validation.catalogue import FIELD_CHECK_ORDER
from ggk.validation.interfaces import KeyTransform
from ggk.validation.reading import LINE, N_FIELDS

ELFPROEF_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
# A field's finding code per row, as an Enum: one byte per row instead of a string column of
# mostly nulls (nine of those cost more memory and time than the checks that fill them).
FIELD_CODE = pl.Enum(FIELD_CHECK_ORDER)
FINDING_SCHEMA = {LINE: pl.Int64, "column": pl.String, "code": pl.String, "value": pl.String}


def code_column(name: str) -> str:
    return f"__code_{name}"


def typed_column(name: str) -> str:
    return f"__typed_{name}"


def _format_regex(date_format: str) -> str | None:
    """A strict regex for the common date formats, so that e.g. 2026-1-5 is not accepted."""
    parts = {"%Y": r"\d{4}", "%m": r"\d{2}", "%d": r"\d{2}"}
    if not set(re.findall(r"%.", date_format)) <= set(parts):
        return None
    pattern = re.escape(date_format)
    for token, rx in parts.items():
        pattern = pattern.replace(re.escape(token), rx)
    return f"^{pattern}$"


def _number_regex(f: FieldSpec) -> str:
    if f.type == "integer":
        return r"^-?\d+$"
    return rf"^-?\d+(?:{re.escape(f.decimal_char)}\d+)?$"


def typed(f: FieldSpec) -> pl.Expr:
    """The field as its schema type; null when empty or unparsable."""
    col = pl.col(f.name)
    if f.type == "date":
        rx = _format_regex(f.date_format)
        parsed = col.str.to_date(f.date_format, strict=False)
        return (pl.when(col.str.contains(rx)).then(parsed) if rx else parsed).alias(f.name)
    if f.type in {"number", "integer"}:
        ok = col.str.contains(_number_regex(f))
        text = col.str.replace(f.decimal_char, ".", literal=True) if f.decimal_char != "." else col
        dtype = pl.Int64 if f.type == "integer" else pl.Float64
        return pl.when(ok).then(text.cast(dtype, strict=False)).alias(f.name)
    return col


def _weighted_digits(number: pl.Expr, weights: tuple[int, ...]) -> pl.Expr:
    """Sum of weight * digit over the last len(weights) digits of `number` (first weight first)."""
    k = len(weights)
    return sum((((number // 10 ** (k - 1 - i)) % 10) * w for i, w in enumerate(weights)), pl.lit(0))


@functools.cache
def _elfproef_table(weights: tuple[int, ...]) -> pl.Series:
    """The weighted digit sum of every number below 10**len(weights), indexed by the number."""
    numbers = pl.int_range(10 ** len(weights), dtype=pl.Int64)
    return pl.select(_weighted_digits(numbers, weights).cast(pl.Int32)).to_series()


def _elfproef_ok(col: pl.Expr) -> pl.Expr:
    """Spec section 6 on a 9-digit string: one integer parse, then the weighted digit sums of the
    first 5 and the last 4 digits looked up in two precomputed tables (two gathers instead of 27
    arithmetic passes over the column). `% 10**9` (floor modulo) gives a negative number the
    digits that `//` and `%` per digit would give it."""
    number = col.str.to_integer(strict=False)
    rest = (number % 10**9).cast(pl.UInt32)
    high, low = ELFPROEF_WEIGHTS[:5], ELFPROEF_WEIGHTS[5:]
    total = pl.lit(_elfproef_table(high)).gather(rest // 10**4) + pl.lit(
        _elfproef_table(low)
    ).gather(rest % 10**4)
    return (col.str.len_chars() == 9) & (total % 11 == 0) & (number != 0)


LARGEST_NUMBER = 10**15  # beyond this a Float64 no longer holds every integer exactly
FIRST_DATE = dt.date(1, 1, 1)  # Polars reads 0000-01-01; that year does not exist (nor in Python)


def out_of_range(f: FieldSpec, value: pl.Expr) -> pl.Expr:
    """A well-formed number or date that cannot be kept as it is: 400 nines would read as
    infinity, the year 0000 breaks every later step that uses Python dates (`bereik`)."""
    if f.type == "date":
        return value < pl.lit(FIRST_DATE)
    return value.abs() >= LARGEST_NUMBER


def field_code(f: FieldSpec) -> pl.Expr:
    """The one field-level finding code of field `f` on each row, or null."""
    col = pl.col(f.name)
    value = pl.col(typed_column(f.name)) if f.type != "string" else col
    steps: list[tuple[pl.Expr, str]] = []
    if f.required:
        steps.append((col.is_null(), "verplicht"))
    if f.type in {"date", "number", "integer"}:
        steps.append((col.is_not_null() & value.is_null(), "type"))
        steps.append((out_of_range(f, value), "bereik"))
    if f.pattern:
        steps.append((~col.str.contains(f"^(?:{f.pattern})$"), "patroon"))
    if f.enum is not None:
        steps.append((~col.is_in(list(f.enum)), "codelijst"))
    if f.minimum is not None:
        steps.append((value < f.minimum, "minimum"))
    if f.elfproef:
        steps.append((~_elfproef_ok(col), "elfproef"))
    if not steps:
        return pl.lit(None, dtype=FIELD_CODE).alias(code_column(f.name))
    expr: pl.Expr | pl.When | pl.Then | None = None
    for condition, code in steps:
        cond, value = condition.fill_null(False), pl.lit(code, dtype=FIELD_CODE)
        expr = pl.when(cond).then(value) if expr is None else expr.when(cond).then(value)
    return expr.otherwise(None).alias(code_column(f.name))  # type: ignore[union-attr]


def with_field_codes(records: pl.DataFrame, spec: DatasetSpec) -> pl.DataFrame:
    """Records plus a typed column and a finding-code column per field (parsed once)."""
    typed_fields = [f for f in spec.fields if f.type != "string"]
    return records.with_columns(
        typed(f).alias(typed_column(f.name)) for f in typed_fields
    ).with_columns(field_code(f) for f in spec.fields)


def field_findings(checked: pl.DataFrame, spec: DatasetSpec) -> pl.DataFrame:
    frames = [
        checked.lazy().filter(pl.col(code_column(f.name)).is_not_null()).select(
            LINE,
            pl.lit(f.name).alias("column"),
            pl.col(code_column(f.name)).cast(pl.String).alias("code"),
            pl.col(f.name).alias("value"),
        )
        for f in spec.fields
    ]
    return pl.concat(frames).collect() if frames else pl.DataFrame(schema=FINDING_SCHEMA)


def _clean_fields(names: tuple[str, ...] | list[str]) -> pl.Expr:
    return pl.all_horizontal([pl.col(code_column(n)).is_null() for n in names] or [pl.lit(True)])


def repeated_keys(rows: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """The rows whose key occurred on an earlier row, as `~is_first_distinct()` of the key struct.

    Comparing structs of a million keys costs more than all field checks together, so the exact
    comparison only runs on rows whose key hash occurs more than once (found by sorting one
    integer column). Equal keys have equal hashes (Polars hashes -0.0/0.0 and NaNs alike, as it
    compares them), so no repeat is missed; a hash collision is settled by the exact step.
    """
    hashes = rows.select(key).hash_rows()
    ordered = hashes.sort()
    repeated = ordered.filter(ordered == ordered.shift(1))
    return rows.filter(hashes.is_in(repeated.implode())).filter(~pl.struct(key).is_first_distinct())


def row_findings(
    checked: pl.DataFrame,
    spec: DatasetSpec,
    definition: Definition,
    gemeente: str,
    period: str,
    referenced_keys: pl.DataFrame | None,
    key_transform: KeyTransform | None,
) -> pl.DataFrame:
    """Findings of the sender check, the definition's SQL rules and the key checks."""
    cal = definition.calendar(period)
    typed_frame = checked.lazy().with_columns(
        pl.col(typed_column(f.name)).alias(f.name) for f in spec.fields if f.type != "string"
    )
    frames: list[pl.LazyFrame] = []

    def emit(mask: pl.Expr, code: str, column: str | None) -> None:
        value = pl.col(column) if column else pl.lit(None, dtype=pl.String)
        frames.append(
            checked.lazy().filter(mask.fill_null(False)).select(
                LINE, pl.lit(column, dtype=pl.String).alias("column"), pl.lit(code).alias("code"),
                value.cast(pl.String).alias("value"),
            )
        )

    for f in spec.fields:
        if f.is_sender:
            emit(_clean_fields([f.name]) & (pl.col(f.name) != gemeente), "gemeentecode-afzender",
                 f.name)

    for rule in definition.rules_for(spec.name):
        violation = pl.sql_expr(substitute_period(rule.violation, cal.start, cal.end))
        frames.append(
            typed_frame.filter(violation.fill_null(False) & _clean_fields(rule.requires)).select(
                LINE, pl.lit(rule.column, dtype=pl.String).alias("column"),
                pl.lit(rule.code).alias("code"),
                (pl.col(rule.column).cast(pl.String) if rule.column
                 else pl.lit(None, dtype=pl.String)).alias("value"),
            )
        )

    if spec.primary_key:
        key = list(spec.primary_key)
        candidates = typed_frame.filter(_clean_fields(key)).select(LINE, *key).collect()
        frames.append(repeated_keys(candidates, key).lazy().select(
            LINE, pl.lit(None, dtype=pl.String).alias("column"),
            pl.lit("dubbel-record").alias("code"),
            pl.lit(None, dtype=pl.String).alias("value"),
        ))

    for fk in spec.foreign_keys:
        if referenced_keys is None:
            continue
        own = list(fk.fields)
        candidates = typed_frame.filter(_clean_fields(own)).select(LINE, *own).collect()
        if key_transform:
            candidates = candidates.with_columns(
                key_transform[c](pl.col(c)).alias(c) for c in own if c in key_transform
            )
        reference = referenced_keys.select(
            pl.col(r).alias(o) for o, r in zip(own, fk.reference_fields, strict=True)
        ).unique()
        reference = reference.with_columns(
            pl.col(c).cast(candidates.schema[c])
            for c in own if reference.schema[c] != candidates.schema[c]
        )
        missing = candidates.join(reference, on=own, how="anti", nulls_equal=True)
        frames.append(missing.lazy().select(
            LINE, pl.lit(None, dtype=pl.String).alias("column"),
            pl.lit("geen-basisrecord").alias("code"), pl.lit(None, dtype=pl.String).alias("value"),
        ))
    return pl.concat(frames).collect() if frames else pl.DataFrame(schema=FINDING_SCHEMA)


def field_count_findings(records: pl.DataFrame, n_columns: int) -> pl.DataFrame:
    return records.filter(pl.col(N_FIELDS) != n_columns).select(
        LINE, pl.lit(None, dtype=pl.String).alias("column"), pl.lit("aantal-velden").alias("code"),
        pl.lit(None, dtype=pl.String).alias("value"),
    )

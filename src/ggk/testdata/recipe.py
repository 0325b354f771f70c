"""The test-file recipe of a statistic (its `testdata.toml`): how to draw realistic clean records.

The recipe is data in the definition folder; this module loads and checks it and draws records
from it in bulk. A dataset is drawn as *units* (a client, a row code of a matrix, ...) with one
or more rows each; every field has a `draw` (see docs/testdata.md for the format):

- `sender`: the delivering gemeentecode.          - `bsn`: a synthetic BSN per unit.
- `identifier`: `prefix` + `digits` digits per unit. - `cell`: see `cells` below.
- `choice`: `weights` {value: weight}; `distinct_per_unit`; `only_if` {value: SQL} + `fallback`.
- `lookup`: the value of `table` for this row's `by` field.
- `date`: `parts` = shares of `within_period`, `before_start` {mean_days, max_days},
  `after_end` {max_days} or `empty`; `not_before` another date field.
- `number`: uniform in `range` [low, high] (or `ranges` by the `by` field) on a grid of `step`;
  `per_1000_inhabitants`, `year_fraction` (`period` or `cumulative`), `zero_share`.

Any field may have `when` (SQL over the row: empty where false) and `empty_share`. A dataset with
`refers_to` copies its foreign-key fields from a `share` of the rows of the referenced dataset.
A dataset drawn as `cells` = [row field, column field] has one row per combination of their codes
that is present; `presence` gives, per code of the row field (or `*`), the chance of each column
code (a financial matrix: row codes x column codes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ggk.definitions import Definition, Period, substitute_period
from ggk.definitions.interfaces import DatasetSpec, FieldSpec
from ggk.definitions.loader import POLARS_TYPES
from ggk.testdata.bsn import synthetic_bsns
from ggk.testdata.interfaces import TestdataError

RECIPE_KEY = "testdata"
RECIPE_FILE = "testdata.toml"
DRAWS = {"sender", "bsn", "identifier", "cell", "choice", "lookup", "date", "number"}
EPOCH = dt.date(1970, 1, 1)


class RecipeError(TestdataError):
    """A recipe that is broken; the message names the file, the dataset and the field."""


@dataclass(frozen=True, slots=True)
class DatasetRecipe:
    name: str
    fields: dict[str, dict[str, Any]]  # field -> its table, in drawing order
    units_per_1000_inhabitants: float | None
    cells: tuple[str, str] | None  # (row field, column field) of a matrix
    presence: dict[str, dict[str, float]]  # row code (or *) -> column code -> chance
    rows_per_unit: tuple[tuple[int, ...], tuple[float, ...]]
    refers_to: str | None
    share: float  # of the referenced dataset's rows (refers_to)


@dataclass(frozen=True, slots=True)
class Recipe:
    path: Path
    datasets: dict[str, DatasetRecipe]
    # [demo] defects: the defects of the pilot's first, rejected delivery (`--errors` syntax)
    demo_defects: dict[str, int] = dataclasses.field(default_factory=dict)

    def dataset(self, name: str) -> DatasetRecipe:
        try:
            return self.datasets[name]
        except KeyError:
            raise RecipeError(f"{self.path}: no recipe for dataset {name!r} "
                              f"(recipes: {', '.join(self.datasets)})") from None


def _fail(where: str, problem: str) -> RecipeError:
    return RecipeError(f"{where}: {problem}")


def recipe_path(definition: Definition) -> Path:
    return definition.file(RECIPE_KEY, RECIPE_FILE)


def load_recipe(definition: Definition) -> Recipe:
    """Load and check the recipe of a definition; RecipeError names file, dataset and field."""
    path = recipe_path(definition)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(str(path), f"file is missing: {definition.statistic} has no test-file "
                               "recipe") from None
    except tomllib.TOMLDecodeError as e:
        raise _fail(str(path), f"invalid TOML: {e}") from None
    datasets = {}
    for name, table in (raw.get("dataset") or {}).items():
        where = f"{path} [dataset.{name}]"
        try:
            spec = definition.dataset(name)
        except KeyError as e:
            raise _fail(where, str(e.args[0])) from None
        datasets[name] = _dataset_recipe(name, table, spec, definition, where)
    if not datasets:
        raise _fail(str(path), "no [dataset.<name>] tables")
    defects = (raw.get("demo") or {}).get("defects") or {}
    if not isinstance(defects, dict) or not all(
            isinstance(n, int) and n >= 0 for n in defects.values()):
        raise _fail(f"{path} [demo]", "defects must map a defect to a count (0 or more)")
    return Recipe(path, datasets, {str(k): int(v) for k, v in defects.items()})


def _dataset_recipe(name: str, table: dict[str, Any], spec: DatasetSpec, definition: Definition,
                    where: str) -> DatasetRecipe:
    fields = dict(table.get("fields") or {})
    refers_to = table.get("refers_to")
    copied: set[str] = set()
    if refers_to is not None:
        fk = next((k for k in spec.foreign_keys if k.resource == refers_to), None)
        if fk is None:
            raise _fail(where, f"refers_to {refers_to!r} but the dataset has no foreign key to it")
        copied = set(fk.fields)
    share = float(table.get("share", 1.0))
    if not 0 < share <= 1:
        raise _fail(where, "share must be above 0 and at most 1")
    cells = tuple(table.get("cells") or ())
    presence = {str(k): {str(c): float(p) for c, p in v.items()}
                for k, v in (table.get("presence") or {}).items()}
    per_1000 = table.get("units_per_1000_inhabitants")
    if refers_to is None and bool(cells) == (per_1000 is not None):
        raise _fail(where, "give exactly one of units_per_1000_inhabitants and cells")
    if cells:
        _check_cells(cells, presence, spec, where)
        copied |= set(cells)
    missing = [f for f in spec.field_names if f not in fields and f not in copied]
    if missing:
        raise _fail(where, f"no recipe for field(s) {', '.join(missing)}")
    unknown = [f for f in fields if f not in spec.field_names]
    if unknown:
        raise _fail(where, f"unknown field(s) {', '.join(unknown)}")
    rpu = table.get("rows_per_unit", {"values": [1], "weights": [1.0]})
    values, weights = tuple(int(v) for v in rpu["values"]), tuple(float(w) for w in rpu["weights"])
    if len(values) != len(weights) or min(values) < 1 or not math.isclose(sum(weights), 1.0,
                                                                          abs_tol=1e-6):
        raise _fail(where, "rows_per_unit needs values >= 1 and weights that sum to 1")
    seen: set[str] = set(copied)
    for field_name, f in fields.items():
        w = f"{where} field {field_name!r}"
        _check_field(f, spec.field(field_name), spec, seen, w, max(values), definition)
        seen.add(field_name)
    return DatasetRecipe(name, fields, float(per_1000) if per_1000 is not None else None,
                         cells or None, presence, (values, weights), refers_to, share)  # type: ignore[arg-type]


def _check_cells(cells: tuple[str, ...], presence: dict[str, dict[str, float]],
                 spec: DatasetSpec, where: str) -> None:
    if len(cells) != 2 or any(c not in spec.field_names or not spec.field(c).enum for c in cells):
        raise _fail(where, "cells must name two fields with a code list")
    rows, columns = (set(spec.field(c).enum or ()) for c in cells)
    for key, chances in presence.items():
        if key != "*" and key not in rows:
            raise _fail(where, f"presence names {key!r}, not a code of {cells[0]}")
        bad = [c for c, p in chances.items() if c not in columns or not 0 <= p <= 1]
        if bad:
            raise _fail(where, f"presence.{key!r}: {', '.join(bad)} not a code of {cells[1]} "
                               "with a chance from 0 to 1")
    if "*" not in presence and not rows <= set(presence):
        raise _fail(where, "presence needs a '*' entry or one per code of " + cells[0])


def _check_field(f: dict[str, Any], field: FieldSpec, spec: DatasetSpec, seen: set[str],
                 where: str, max_rows: int, definition: Definition) -> None:
    draw = f.get("draw")
    if draw not in DRAWS:
        raise _fail(where, f"draw {draw!r} is not one of {', '.join(sorted(DRAWS))}")
    for key in ("by", "not_before"):
        if key in f and f[key] not in seen:
            raise _fail(where, f"{key} = {f[key]!r} must name a field listed before this one")
    if draw == "choice":
        weights = f.get("weights")
        if not isinstance(weights, dict) or not weights:
            raise _fail(where, "choice needs weights = { value = weight, ... }")
        allowed = set(field.enum or ())
        bad = [v for v in [*weights, *f.get("only_if", {}), f.get("fallback")]
               if v is not None and allowed and v not in allowed]
        if bad:
            raise _fail(where, f"value(s) {', '.join(map(str, bad))} are not in the code list")
        if f.get("distinct_per_unit") and len(weights) < max_rows:
            raise _fail(where, f"distinct_per_unit needs at least {max_rows} values")
        if f.get("only_if") and "fallback" not in f:
            raise _fail(where, "only_if needs a fallback value")
    if draw == "lookup":
        by = spec.field(_need(f, "by", where))
        table = _need(f, "table", where)
        uncovered = [v for v in (by.enum or ()) if v not in table]
        if uncovered:
            raise _fail(where, f"table lacks {', '.join(uncovered)} of {by.name}")
    if draw == "number":
        if "ranges" in f:
            by = spec.field(_need(f, "by", where))
            uncovered = [v for v in (by.enum or ()) if v not in f["ranges"]]
            if uncovered:
                raise _fail(where, f"ranges lacks {', '.join(uncovered)} of {by.name}")
        elif "range" not in f:
            raise _fail(where, "number needs range = [low, high] or by + ranges")
        for low, high in [f["range"]] if "range" in f else f["ranges"].values():
            if low > high or (field.minimum is not None and low < field.minimum):
                raise _fail(where, f"range [{low}, {high}] is empty or below the minimum")
        if f.get("year_fraction") not in (None, "period", "cumulative"):
            raise _fail(where, "year_fraction must be 'period' or 'cumulative'")
    if draw == "date":
        parts = _need(f, "parts", where)
        if not math.isclose(sum(float(p.get("share", 0)) for p in parts), 1.0, abs_tol=1e-6):
            raise _fail(where, "the shares of the parts must sum to 1")
        for p in parts:
            if not {"within_period", "before_start", "after_end", "empty"} & set(p):
                raise _fail(where, "a part needs within_period, before_start, after_end or empty")
    for key, sql in [("when", f.get("when")), *((f"only_if.{k}", v) for k, v in
                                               f.get("only_if", {}).items())]:
        if sql is not None:
            try:
                _empty(spec).select(_sql(sql, dt.date(2000, 1, 1), dt.date(2000, 6, 30)))
            except Exception as e:  # polars raises several error types for bad SQL
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise _fail(where, f"{key} {sql!r} is not a valid SQL condition: {first}"
                            ) from None


def _need(f: dict[str, Any], key: str, where: str) -> Any:
    if key not in f:
        raise _fail(where, f"missing key {key!r}")
    return f[key]


def _empty(spec: DatasetSpec) -> pl.DataFrame:
    return pl.DataFrame(schema={f.name: getattr(pl, POLARS_TYPES[f.type]) for f in spec.fields})


def _sql(sql: str, start: dt.date, end: dt.date) -> pl.Expr:
    return pl.sql_expr(substitute_period(sql, start, end)).fill_null(False)


# --- drawing ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DrawContext:
    gemeente: str
    inwoners: int
    period: Period
    rng: np.random.Generator
    exclude_bsns: frozenset[int] = frozenset()


def default_rows(recipe: DatasetRecipe, spec: DatasetSpec, ctx: DrawContext) -> int:
    """Rows of a municipality of this size: its units, each with rows_per_unit rows; or the
    cells present (each by its chance)."""
    if recipe.cells:
        return int((ctx.rng.random(_chances(recipe, spec).shape) < _chances(recipe, spec)).sum())
    assert recipe.units_per_1000_inhabitants is not None
    units = max(1, round(ctx.inwoners * recipe.units_per_1000_inhabitants / 1000))
    return rows_for_units(recipe, units, ctx.rng)


def rows_for_units(recipe: DatasetRecipe, units: int, rng: np.random.Generator) -> int:
    """Rows of `units` units (clients, ...), each with rows_per_unit rows."""
    values, weights = recipe.rows_per_unit
    return int(rng.choice(values, size=units, p=weights).sum())


def _chances(recipe: DatasetRecipe, spec: DatasetSpec) -> np.ndarray:
    assert recipe.cells
    rows, columns = (list(spec.field(c).enum or ()) for c in recipe.cells)
    default = recipe.presence.get("*", {})
    return np.array([[recipe.presence.get(r, default).get(c, 0.0) for c in columns]
                     for r in rows])


def cell_capacity(recipe: DatasetRecipe, spec: DatasetSpec) -> int:
    """How many distinct cells can be present at all."""
    return int((_chances(recipe, spec) > 0).sum())


def _cells(recipe: DatasetRecipe, spec: DatasetSpec, rows: int,
           rng: np.random.Generator) -> pl.DataFrame:
    """`rows` distinct cells, drawn without replacement by their chance of being present."""
    assert recipe.cells
    chances = _chances(recipe, spec).ravel()
    possible = cell_capacity(recipe, spec)
    if rows > possible:
        raise TestdataError(f"{spec.name}: at most {possible} rows fit this recipe "
                            f"(one per {' x '.join(recipe.cells)} combination), not {rows}")
    picked = rng.choice(len(chances), size=rows, replace=False, p=chances / chances.sum())
    row_codes, column_codes = (np.array(spec.field(c).enum or ()) for c in recipe.cells)
    width = len(column_codes)
    return pl.DataFrame({recipe.cells[0]: row_codes[picked // width],
                         recipe.cells[1]: column_codes[picked % width]},
                        schema={c: pl.String for c in recipe.cells})


def draw_records(recipe: DatasetRecipe, spec: DatasetSpec, rows: int, ctx: DrawContext,
                 parent: pl.DataFrame | None = None) -> pl.DataFrame:
    """`rows` clean records, typed like the dataset (String, Date, Float64, Int64; null = empty).

    With `parent` (refers_to): the foreign-key fields are copied from `parent`'s rows, in order."""
    rng = ctx.rng
    if parent is not None or recipe.cells:
        frame = parent.head(rows) if parent is not None else _cells(recipe, spec, rows, rng)
        unit = np.arange(rows)
        per_unit = np.ones(rows, dtype=np.int64)
    else:
        values, weights = recipe.rows_per_unit
        per_unit = rng.choice(values, size=rows + 1, p=weights)
        units = int(np.searchsorted(np.cumsum(per_unit), rows) + 1)
        per_unit = per_unit[:units]
        per_unit[-1] -= int(per_unit.sum() - rows)
        unit = np.repeat(np.arange(units), per_unit)
        frame = pl.DataFrame()
    start, end = ctx.period.start, ctx.period.end
    for name, f in recipe.fields.items():
        if f["draw"] == "cell":
            continue  # drawn with the cells above
        field = spec.field(name)
        series = _draw(f, field, frame, unit, per_unit, rows, ctx, spec)
        frame = frame.with_columns(series.alias(name)) if frame.width else series.alias(
            name).to_frame()
        empty = np.zeros(rows, dtype=bool)
        if f.get("empty_share"):
            empty |= rng.random(rows) < float(f["empty_share"])
        if f.get("when"):
            empty |= ~frame.select(_sql(f["when"], start, end)).to_series().to_numpy()
        if empty.any():
            frame = frame.with_columns(
                pl.when(pl.Series(empty)).then(None).otherwise(pl.col(name)).alias(name))
    return frame.select(spec.field_names)


def _draw(f: dict[str, Any], field: FieldSpec, frame: pl.DataFrame, unit: np.ndarray,
          per_unit: np.ndarray, rows: int, ctx: DrawContext, spec: DatasetSpec) -> pl.Series:
    rng, draw = ctx.rng, f["draw"]
    units = len(per_unit)
    if draw == "sender":
        return pl.Series([ctx.gemeente] * rows, dtype=pl.String)
    if draw == "bsn":
        bsn = synthetic_bsns(units, rng, set(ctx.exclude_bsns))[unit]
        return pl.Series(bsn).cast(pl.String).str.zfill(9)
    if draw == "identifier":
        numbers = rng.choice(10 ** int(f["digits"]), size=units, replace=False)[unit]
        digits = pl.Series(numbers).cast(pl.String).str.zfill(int(f["digits"]))
        return pl.select(pl.concat_str(pl.lit(str(f.get("prefix", ""))), digits)).to_series()
    if draw == "cell":
        raise TestdataError(f"{field.name}: draw = 'cell' needs cells = [...] on the dataset")
    if draw == "choice":
        return _choice(f, frame, unit, per_unit, rows, ctx, spec)
    if draw == "lookup":
        table = {str(k): v for k, v in f["table"].items()}
        return frame[f["by"]].replace_strict(table, default=None, return_dtype=pl.String)
    if draw == "date":
        return _date(f, frame, rows, ctx)
    return _number(f, field, frame, rows, ctx)


def _choice(f: dict[str, Any], frame: pl.DataFrame, unit: np.ndarray, per_unit: np.ndarray,
            rows: int, ctx: DrawContext, spec: DatasetSpec) -> pl.Series:
    rng = ctx.rng
    codes = list(f["weights"])
    weights = np.array([float(f["weights"][c]) for c in codes])
    if f.get("distinct_per_unit"):
        # distinct values within a unit: Gumbel top-k over the weights
        k = int(per_unit.max()) if len(per_unit) else 1
        keys = np.log(weights)[None, :] + rng.gumbel(size=(len(per_unit), len(codes)))
        top = np.argsort(-keys, axis=1)[:, :k]
        take = np.arange(k)[None, :] < per_unit[:, None]
        index = top[take]
    else:
        index = rng.choice(len(codes), size=rows, p=weights / weights.sum())
    series = pl.Series(np.array(codes)[index] if rows else [], dtype=pl.String)
    for value, sql in (f.get("only_if") or {}).items():
        ctx_frame = frame.with_columns(series.alias("_value"))
        allowed = ctx_frame.select(_sql(sql, ctx.period.start, ctx.period.end)).to_series()
        series = pl.select(pl.when((series == value) & ~allowed).then(pl.lit(f["fallback"]))
                           .otherwise(series)).to_series()
    return series


def _days(d: dt.date) -> int:
    return (d - EPOCH).days


def _date(f: dict[str, Any], frame: pl.DataFrame, rows: int, ctx: DrawContext) -> pl.Series:
    rng = ctx.rng
    s, e = _days(ctx.period.start), _days(ctx.period.end)
    parts = f["parts"]
    which = rng.choice(len(parts), size=rows, p=[float(p["share"]) for p in parts])
    floor = np.full(rows, s, dtype=np.int64)
    if f.get("not_before"):
        before = frame[f["not_before"]].cast(pl.Int32).fill_null(s).to_numpy().astype(np.int64)
        floor = np.maximum(floor, before)
    out = np.zeros(rows, dtype=np.int64)
    empty = np.zeros(rows, dtype=bool)
    for i, p in enumerate(parts):
        mask = which == i
        if p.get("empty"):
            empty |= mask
        elif p.get("within_period"):
            out = np.where(mask, floor + (rng.random(rows) * (e - floor + 1)).astype(np.int64),
                           out)
        elif "before_start" in p:
            b = p["before_start"]
            back = np.minimum(rng.exponential(float(b["mean_days"]), rows).astype(np.int64) + 1,
                              int(b["max_days"]))
            out = np.where(mask, s - back, out)
        else:
            out = np.where(mask, e + rng.integers(1, int(p["after_end"]["max_days"]) + 1, rows),
                           out)
    dates = pl.Series(out.astype(np.int32)).cast(pl.Date)
    return pl.select(pl.when(pl.Series(empty)).then(None).otherwise(dates)).to_series()


def _number(f: dict[str, Any], field: FieldSpec, frame: pl.DataFrame, rows: int,
            ctx: DrawContext) -> pl.Series:
    rng = ctx.rng
    step = float(f.get("step", 1))
    if "ranges" in f:
        by = frame[f["by"]].cast(pl.String)
        low, high = (by.replace_strict({str(k): float(v[i]) for k, v in f["ranges"].items()},
                                       default=0.0, return_dtype=pl.Float64).to_numpy()
                     for i in (0, 1))
    else:
        low, high = np.full(rows, f["range"][0], float), np.full(rows, f["range"][1], float)
    scale = 1.0
    if f.get("per_1000_inhabitants"):
        scale *= ctx.inwoners / 1000
    if f.get("year_fraction"):
        scale *= ctx.period.year_fraction(cumulative=f["year_fraction"] == "cumulative")
    low, high = low * scale, high * scale
    steps = np.floor((high - low) / step).astype(np.int64) + 1
    values = low + (rng.random(rows) * steps).astype(np.int64) * step
    values = np.round(np.round(values / step) * step, 6)
    if f.get("zero_share"):
        values = np.where(rng.random(rows) < float(f["zero_share"]), 0.0, values)
    if field.type == "integer":
        return pl.Series(np.round(values).astype(np.int64), dtype=pl.Int64)
    return pl.Series(values, dtype=pl.Float64)


# --- rendering ----------------------------------------------------------------------------------


def decimals_of(f: dict[str, Any] | None) -> tuple[int, bool]:
    """(decimals, fixed): from the recipe's `decimals` (fixed) or its `step` (trimmed)."""
    if f and "decimals" in f:
        return int(f["decimals"]), True
    step = float((f or {}).get("step", 1))
    text = f"{step:.6f}".rstrip("0")
    return len(text.split(".")[1]), False


def render(frame: pl.DataFrame, spec: DatasetSpec, recipe: DatasetRecipe | None) -> pl.DataFrame:
    """The typed records as the file's text (null stays null): dates in the field's format,
    numbers with the field's decimal character and no thousands separator."""
    exprs = []
    for field in spec.fields:
        col = pl.col(field.name)
        if field.type == "date":
            exprs.append(col.dt.strftime(field.date_format))
        elif field.type == "integer":
            exprs.append(col.cast(pl.String))
        elif field.type == "number":
            decimals, fixed = decimals_of(recipe.fields.get(field.name) if recipe else None)
            exprs.append(number_text(col, decimals, fixed, field.decimal_char))
        else:
            exprs.append(col.cast(pl.String))
    return frame.select(e.alias(f.name) for e, f in zip(exprs, spec.fields, strict=True))


def number_text(col: pl.Expr, decimals: int, fixed: bool, decimal_char: str) -> pl.Expr:
    if decimals == 0:
        return col.round(0).cast(pl.Int64).cast(pl.String)
    scaled = (col.abs() * 10**decimals).round(0).cast(pl.Int64)
    whole = (scaled // 10**decimals).cast(pl.String)
    frac = (scaled % 10**decimals).cast(pl.String).str.zfill(decimals)
    if not fixed:
        frac = frac.str.strip_chars_end("0")
    sign = pl.when(col < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    body = pl.when(frac == "").then(whole).otherwise(pl.concat_str(whole, pl.lit(decimal_char),
                                                                   frac))
    return pl.when(col.is_null()).then(None).otherwise(pl.concat_str(sign, body))

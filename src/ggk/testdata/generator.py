"""`generate`: a synthetic delivery file in the definition's format plus its exact answer key."""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import polars as pl

from ggk.definitions import Definition, Period, UnknownPeriod, substitute_period
from ggk.definitions.interfaces import DatasetSpec
from ggk.refdata import UnknownGemeente, register
from ggk.testdata.bsn import passes_elfproef, synthetic_bsns
from ggk.testdata.defects import (
    Catalogue,
    Defect,
    MutationContext,
    RuleBreaker,
    mutate,
    parse_errors,
    plan,
)
from ggk.testdata.interfaces import (
    AnswerKey,
    ExpectedFinding,
    FileStyle,
    GeneratedFile,
    TestdataError,
)
from ggk.testdata.recipe import (
    DatasetRecipe,
    DrawContext,
    RecipeError,
    cell_capacity,
    default_rows,
    draw_records,
    load_recipe,
    render,
    rows_for_units,
)

GM_RE = re.compile(r"^GM\d{4}$")


def file_name(gemeente: str, period: str, dataset: str) -> str:
    return f"{gemeente}-{period}-{dataset}.csv"


def generate(
    definition: Definition,
    dataset: str,
    gemeente: str,
    period: str,
    rows: int | None = None,
    errors: dict[str, int] | str | None = None,
    seed: int = 0,
    referenced: Path | str | GeneratedFile | None = None,
    *,
    out: Path | str,
    style: FileStyle | None = None,
) -> GeneratedFile:
    """Write `<out>/<GM>-<period>-<dataset>.csv` and `...-antwoorden.json`; return both.

    rows: data lines including the defect lines (default: sized from the population).
    errors: {"elfproef": 10, "verplicht:<column>": 3, ...} or the same as text `elfproef=10,...`.
    referenced: for a dataset with a foreign key, the file of the dataset it refers to, whose keys
    its lines belong to; needed for `geen-basisrecord`. Without it the keys come from a file of
    that dataset drawn with the same seed (not written).
    """
    if isinstance(errors, str):
        errors = parse_errors(errors)
    errors = dict(errors or {})
    style = style or FileStyle()
    try:
        spec = definition.dataset(dataset)
    except KeyError as e:
        raise TestdataError(str(e.args[0])) from None
    try:
        calendar = definition.calendar(period)
    except UnknownPeriod as e:
        raise TestdataError(str(e)) from None
    try:
        gm = register().get(gemeente)
    except UnknownGemeente as e:
        raise TestdataError(str(e)) from None
    if rows is not None and rows < 0:
        raise TestdataError("rows must be 0 or more")

    catalogue = Catalogue.of(definition, dataset)
    prng = random.Random(seed)
    rng = np.random.default_rng(seed)
    defects = plan(catalogue, errors, prng)
    if "geen-basisrecord" in {d.code for d in defects.rows} and referenced is None:
        raise TestdataError("geen-basisrecord needs the file of the referenced dataset "
                            "(--referenced-file) to be relative to")

    referenced_path = (Path(referenced.path if isinstance(referenced, GeneratedFile)
                            else referenced) if referenced else None)
    recipe = load_recipe(definition)
    ds_recipe = recipe.dataset(dataset)
    ctx0 = DrawContext(gm.code, gm.inwoners, Period.parse(period), rng)
    if ds_recipe.refers_to is None:
        n = rows if rows is not None else default_rows(ds_recipe, spec, ctx0)
        typed = draw_records(ds_recipe, spec, n, ctx0)
        taken_bsns: set[int] = set()
    else:
        parent_spec = definition.dataset(ds_recipe.refers_to)
        parent_recipe = recipe.dataset(ds_recipe.refers_to)
        fk = next(k for k in spec.foreign_keys if k.resource == ds_recipe.refers_to)
        if referenced_path is not None:
            keys, taken_bsns = read_referenced(referenced_path, definition, gm.code,
                                          parent=ds_recipe.refers_to, fields=fk.reference_fields)
        else:
            size = (default_rows(parent_recipe, parent_spec, ctx0) if rows is None
                    else int(rows / ds_recipe.share) + 8)
            parent = draw_records(parent_recipe, parent_spec, size, ctx0)
            keys = parent.select(fk.reference_fields).unique(maintain_order=True)
            taken_bsns = _bsns(parent, parent_spec)
        n = rows if rows is not None else round(keys.height * ds_recipe.share)
        if n > keys.height:
            raise TestdataError(
                f"{n} {dataset} rows need as many distinct {ds_recipe.refers_to} records; "
                f"the {ds_recipe.refers_to} has {keys.height}"
            )
        typed = _draw_referring(ds_recipe, spec, fk.fields, keys, n, ctx0)
    _check_clean(typed, definition, spec, calendar.start, calendar.end, recipe.path)
    frame = render(typed, spec, ds_recipe)

    row_defects = [d for d in defects.rows if d.code not in ("dubbel-record",)]
    doubles = sum(1 for d in defects.rows if d.code == "dubbel-record")
    if len(defects.rows) > n:
        raise TestdataError(f"{len(defects.rows)} defect lines do not fit in {n} rows")
    if doubles and n - len(defects.rows) < doubles:
        raise TestdataError(f"dubbel-record={doubles} needs as many clean rows to copy")

    # which data line (0-based) carries which defect; doubles copy distinct clean lines
    positions = (
        rng.choice(n, size=len(defects.rows), replace=False) if defects.rows else np.zeros(0, int)
    )
    order = list(row_defects) + [d for d in defects.rows if d.code == "dubbel-record"]
    clean = np.setdiff1d(np.arange(n), positions)
    originals = rng.choice(clean, size=doubles, replace=False) if doubles else np.zeros(0, int)

    fresh = sum(d.code == "geen-basisrecord" for d in order) + sum(
        d.code == "elfproef" for d in order)
    if fresh:  # BSNs that occur nowhere in the referenced file nor in this file
        extra = iter(synthetic_bsns(fresh, rng, set(taken_bsns) | _bsns(frame, spec)))
    else:
        extra = iter(())
    others = [g.code for g in register().all() if g.code != gm.code]
    ctx = MutationContext(
        spec,
        calendar.start,
        calendar.end,
        gm.code,
        others,
        prng,
        fresh_bsn=lambda: f"{int(next(extra)):09d}",
    )

    changed: list[dict] = []
    field_names = list(spec.field_names)
    source = frame[positions.tolist()].to_dicts() if len(positions) else []
    typed_source = typed[positions.tolist()].to_dicts() if len(positions) else []
    copies = frame[originals.tolist()].to_dicts() if doubles else []
    rule_codes = {r.code for r in definition.rules_for(dataset)}
    breaker = RuleBreaker(
        definition, spec, calendar.start, calendar.end, prng,
        set(frame.select(spec.primary_key).rows()) if spec.primary_key else set(),
        lambda f: render(f, spec, ds_recipe),
    ) if rule_codes & {d.code for d in order} else None
    flip = _detail_field(definition, spec)
    for i, (row, defect) in enumerate(zip(source, order, strict=True)):
        if defect.code == "dubbel-record":
            row = dict(copies[i - len(row_defects)])
            if flip and prng.random() < 0.5:  # same key, other details
                enum = spec.field(flip).enum or ()
                row[flip] = prng.choice([v for v in enum if v != row[flip]])
        elif defect.code in rule_codes:
            assert breaker is not None
            row = breaker.break_rule(defect.code, typed_source[i])
        elif defect.code != "aantal-velden":
            mutate(row, defect, ctx)
        changed.append(row)
    if changed:
        idx = pl.Series(positions.astype(np.int64))
        frame = frame.with_columns(
            frame[c].scatter(idx, pl.Series([r[c] for r in changed], dtype=pl.String))
            for c in field_names
        )

    # physical lines: header is line 1; blank lines scattered between data lines
    blank_before = (
        np.sort(rng.integers(1, max(n, 1), size=style.blank_lines)) if n > 1 else np.zeros(0, int)
    )
    line_of = 2 + np.arange(n) + np.searchsorted(blank_before, np.arange(n), side="right")
    lines_total = 1 + n + len(blank_before)

    findings: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for i, (pos, defect) in enumerate(zip(positions.tolist(), order, strict=True)):
        column = catalogue.finding_column(defect.code, defect.column)
        line = int(line_of[pos])
        if defect.code == "dubbel-record":
            line = max(line, int(line_of[originals[i - len(row_defects)]]))
        findings[(defect.code, column)].append(line)

    text_lines, header = _render(frame, spec, style, defects.header, defects.file, rng, prng)
    for pos, defect in zip(positions.tolist(), order, strict=True):
        if defect.code == "aantal-velden":
            text_lines[pos] = _wrong_field_count(text_lines[pos], spec.dialect.delimiter, prng)
    body = _assemble(header, text_lines, blank_before, style)
    data = _encode(body, style, defects.file, n, prng)

    expected: list[ExpectedFinding] = []
    if defects.file:
        expected.append(ExpectedFinding(defects.file, "error", None, 1))
    elif defects.header:
        grouped: dict[tuple[str, str | None], int] = defaultdict(int)
        for d in defects.header:
            grouped[(d.code, d.column)] += 1
        expected = [ExpectedFinding(c, "error", col, k) for (c, col), k in sorted(grouped.items())]
    else:
        for (code, column), lines in sorted(
            findings.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
        ):
            expected.append(
                ExpectedFinding(
                    code,
                    catalogue.severities[code],
                    column,
                    len(lines),  # type: ignore[arg-type]
                    tuple(sorted(lines)),
                )
            )
    errors_n = sum(f.count for f in expected if f.severity == "error")
    warnings_n = sum(f.count for f in expected if f.severity == "warning")
    rows_with_errors = len({ln for f in expected if f.severity == "error" for ln in f.lines})

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / file_name(gm.code, period, dataset)
    key_path = out / f"{gm.code}-{period}-{dataset}-antwoorden.json"
    path.write_bytes(data)
    key = AnswerKey(
        statistic=definition.statistic,
        edition=definition.edition,
        dataset=dataset,
        gemeente=gm.code,
        period=period,
        seed=seed,
        file=path.name,
        rows=0 if defects.file == "bestand-leeg" else n,
        lines=0 if defects.file == "bestand-leeg" else lines_total,
        verdict="afgekeurd" if errors_n else "goedgekeurd",
        errors=errors_n,
        warnings=warnings_n,
        rows_with_errors=rows_with_errors,
        findings=tuple(expected),
        requested={k: v for k, v in errors.items() if v},
        file_level=bool(defects.file or defects.header),
        referenced=referenced_path.name if referenced_path else None,
        style={
            "line_end": repr(style.line_end),
            "bom": style.bom,
            "quote": style.quote,
            "pad_spaces": style.pad_spaces,
            "header_case": style.header_case,
            "shuffle_columns": style.shuffle_columns,
            "blank_lines": style.blank_lines,
        },
    )
    key.write(key_path)
    return GeneratedFile(path, key_path, key)


def _draw_referring(recipe: DatasetRecipe, spec: DatasetSpec, fields: tuple[str, ...],
                    keys: pl.DataFrame, n: int, ctx: DrawContext) -> pl.DataFrame:
    """`n` records of a dataset that refers to another, on `n` distinct rows of its `keys`."""
    rng = ctx.rng
    picked = np.sort(rng.choice(keys.height, size=n, replace=False)) if n else np.zeros(0, int)
    parent_rows = keys[picked].rename(dict(zip(keys.columns, fields, strict=True)))
    return draw_records(recipe, spec, n, ctx, parent=parent_rows)


def draw_accepted(definition: Definition, gemeente: str, period: str, seed: int = 0, *,
                  inwoners: int | None = None, units: int | None = None
                  ) -> dict[str, pl.DataFrame]:
    """Clean typed records of every dataset of the recipe, in memory: what a station holds after
    accepting clean files of one municipality for one period (before pseudonymising). Sized from
    the population of the register, or `inwoners`, or the rows of `units` units for a dataset
    drawn in units. A dataset with `refers_to` draws on the records of the one it refers to.
    Checked clean like `generate`'s records. Deterministic by (seed, period, gemeente)."""
    try:
        gm = register().get(gemeente)
    except UnknownGemeente as e:
        raise TestdataError(str(e)) from None
    digest = hashlib.sha256(f"{seed}|{period}|{gm.code}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    recipe = load_recipe(definition)
    ctx = DrawContext(gm.code, gm.inwoners if inwoners is None else inwoners,
                      Period.parse(period), rng)
    out: dict[str, pl.DataFrame] = {}
    pending = dict(recipe.datasets)
    while pending:
        ready = [d for d in pending.values() if d.refers_to is None or d.refers_to in out]
        if not ready:
            raise RecipeError(f"{recipe.path}: refers_to of {', '.join(pending)} names a "
                              "dataset without a recipe")
        for ds in ready:
            del pending[ds.name]
            spec = definition.dataset(ds.name)
            if ds.refers_to is None:
                n = (rows_for_units(ds, units, rng)
                     if units is not None and ds.units_per_1000_inhabitants is not None
                     else default_rows(ds, spec, ctx))
                out[ds.name] = draw_records(ds, spec, n, ctx)
                continue
            fk = next(k for k in spec.foreign_keys if k.resource == ds.refers_to)
            keys = out[ds.refers_to].select(fk.reference_fields).unique(maintain_order=True)
            out[ds.name] = _draw_referring(ds, spec, fk.fields, keys,
                                           round(keys.height * ds.share), ctx)
    for name, frame in out.items():
        _check_clean(frame, definition, definition.dataset(name), ctx.period.start,
                     ctx.period.end, recipe.path)
    return out


def population_rows(definition: Definition, dataset: str, inwoners: int, period: str,
                    rng: np.random.Generator) -> int:
    """The rows `generate` writes by default for a municipality of `inwoners` inhabitants."""
    recipe = load_recipe(definition).dataset(dataset)
    ctx = DrawContext("GM0000", inwoners, Period.parse(period), rng)
    if recipe.refers_to is None:
        return default_rows(recipe, definition.dataset(dataset), ctx)
    parent = definition.dataset(recipe.refers_to)
    return round(default_rows(load_recipe(definition).dataset(recipe.refers_to), parent, ctx)
                 * recipe.share)


def row_limit(definition: Definition, dataset: str) -> int | None:
    """The most rows the dataset's recipe can draw (a matrix of cells); None: no limit."""
    recipe = load_recipe(definition).dataset(dataset)
    return cell_capacity(recipe, definition.dataset(dataset)) if recipe.cells else None


def _bsns(frame: pl.DataFrame, spec: DatasetSpec) -> set[int]:
    """Every numeric value of the dataset's BSN fields (a fresh BSN must be none of them)."""
    found: set[int] = set()
    for f in spec.fields:
        if f.elfproef and f.name in frame.columns:
            found |= set(frame[f.name].cast(pl.String).str.strip_chars()
                         .cast(pl.Int64, strict=False).drop_nulls().to_list())
    return found


def _detail_field(definition: Definition, spec: DatasetSpec) -> str | None:
    """A coded field outside the key that no rule reads: a double may differ in it."""
    read = {c for r in definition.rules_for(spec.name) for c in (*r.requires, r.column) if c}
    return next((f.name for f in spec.fields if f.enum and len(f.enum) > 1
                 and f.name not in spec.primary_key and f.name not in read
                 and not f.is_sender), None)


def _check_clean(typed: pl.DataFrame, definition: Definition, spec: DatasetSpec,
                 start, end, where: Path) -> None:
    """The recipe must draw clean records: no rule broken, codes in the code lists, minimums,
    required fields filled, unique keys. Otherwise the answer key would be wrong."""
    problems = []
    for rule in definition.rules_for(spec.name):
        broken = typed.select(pl.sql_expr(substitute_period(rule.violation, start, end))
                              .fill_null(False).sum()).item()
        if broken:
            problems.append(f"{broken} records break rule {rule.code}")
    for f in spec.fields:
        col = typed[f.name]
        if f.required and col.null_count():
            problems.append(f"{col.null_count()} records leave required {f.name} empty")
        if f.enum and not col.drop_nulls().is_in(list(f.enum)).all():
            problems.append(f"{f.name} has values outside its code list")
        if f.minimum is not None and (col.drop_nulls() < f.minimum).any():
            problems.append(f"{f.name} has values below {f.minimum}")
        if f.pattern and not col.drop_nulls().cast(pl.String).str.contains(
                f"^(?:{f.pattern})$").all():
            problems.append(f"{f.name} has values that do not match {f.pattern}")
    if spec.primary_key and typed.select(spec.primary_key).is_duplicated().any():
        problems.append(f"the key {', '.join(spec.primary_key)} is not unique")
    if problems:
        raise RecipeError(f"{where} [dataset.{spec.name}] draws records that are not clean: "
                          + "; ".join(problems))


def read_referenced(path: Path, definition: Definition, gemeente: str, *, parent: str,
               fields: tuple[str, ...]) -> tuple[pl.DataFrame, set[int]]:
    """Distinct, well-formed key values (`fields`) of the referenced dataset's file, typed, and
    every numeric BSN that occurs in it (a geen-basisrecord line must use none of them)."""
    spec = definition.dataset(parent)
    try:
        raw = pl.read_csv(path, separator=spec.dialect.delimiter,
                          quote_char=spec.dialect.quote_char, infer_schema=False,
                          truncate_ragged_lines=True, encoding="utf8-lossy")
    except (OSError, pl.exceptions.PolarsError) as e:
        raise TestdataError(f"cannot read {parent} file {path}: {e}") from None
    raw = raw.rename({c: c.strip().lower().lstrip("\ufeff") for c in raw.columns})
    sender = next((f.name for f in spec.fields if f.is_sender), None)
    need = tuple(dict.fromkeys([*([sender] if sender else []), *fields]))
    if any(c not in raw.columns for c in need):
        raise TestdataError(f"{parent} file {path} lacks one of the columns {', '.join(need)}")
    text = raw.select([pl.col(c).str.strip_chars() for c in need])
    conditions = [pl.col(sender) == gemeente] if sender else []
    typed_cols = []
    for name in fields:
        f = spec.field(name)
        col = pl.col(name)
        if f.pattern:
            conditions.append(col.str.contains(f"^(?:{f.pattern})$"))
        if f.enum:
            conditions.append(col.is_in(list(f.enum)))
        if f.type == "date":
            typed_cols.append(col.str.to_date(f.date_format, strict=False))
        elif f.type in ("number", "integer"):
            typed_cols.append(col.str.replace(f.decimal_char, ".", literal=True)
                              .cast(pl.Float64 if f.type == "number" else pl.Int64, strict=False))
        else:
            typed_cols.append(col)
        conditions.append(typed_cols[-1].is_not_null())
    keys = text.filter(*conditions).select(typed_cols) if conditions else text.select(typed_cols)
    keys = keys.filter(pl.struct(*fields).is_unique())
    for name in fields:
        if spec.field(name).elfproef and keys.height:
            ok = passes_elfproef(keys[name].cast(pl.Int64).to_numpy())
            keys = keys.filter(pl.Series(ok))
    return keys, _bsns(raw, spec)


def _render(
    frame: pl.DataFrame,
    spec,
    style: FileStyle,
    header_defects: tuple[Defect, ...],
    file_defect: str | None,
    rng: np.random.Generator,
    prng: random.Random,
) -> tuple[list[str], str]:
    """Data lines (without line ends) and the header line, in the file's column order."""
    columns: list[tuple[str, pl.Series, bool]] = [
        (f.name, frame[f.name], f.type == "string") for f in spec.fields
    ]
    if style.shuffle_columns:
        prng.shuffle(columns)
    for d in header_defects:
        if d.code == "kolom-ontbreekt":
            columns = [c for c in columns if c[0] != d.column]
    for d in header_defects:
        if d.code == "kolom-dubbel":
            src = next(c for c in columns if c[0] == d.column)
            columns.insert(prng.randint(0, len(columns)), src)
        elif d.code == "kolom-onbekend":
            values = pl.Series(
                [f"{d.column}-{i % 97}" if i % 3 else None for i in range(frame.height)],
                dtype=pl.String,
            )
            columns.insert(prng.randint(0, len(columns)), (d.column, values, True))  # type: ignore[arg-type]
    delim = spec.dialect.delimiter
    if file_defect == "scheidingsteken":  # one the reader recognises as a wrong delimiter
        delim = prng.choice([d for d in (",", "\t") if d != spec.dialect.delimiter])
    quote = spec.dialect.quote_char

    def head(name: str) -> str:
        if name not in spec.field_names:
            return name  # unknown columns keep their name as written
        cased = {"lower": name, "title": name.capitalize(), "upper": name.upper()}[
            style.header_case
        ]
        return f" {cased} " if style.pad_spaces else cased

    header = delim.join(head(name) for name, _, _ in columns)
    exprs = []
    for i, (_, series, is_string) in enumerate(columns):
        col = pl.lit(series).alias(f"c{i}")
        quoted = style.quote == "all" or (style.quote == "strings" and is_string)
        present = col.is_not_null() & (col != "")
        if quoted:
            value = (
                pl.when(present)
                .then(pl.concat_str([pl.lit(quote), col, pl.lit(quote)]))
                .otherwise(pl.lit(""))
            )
        elif style.pad_spaces:
            value = (
                pl.when(present)
                .then(pl.concat_str([pl.lit(" "), col, pl.lit("  ")]))
                .otherwise(pl.lit(""))
            )
        else:
            value = col.fill_null("")
        exprs.append(value)
    if frame.height == 0:
        return [], header
    lines = pl.select(pl.concat_str(exprs, separator=delim).alias("line"))["line"].to_list()
    return lines, header


def _wrong_field_count(line: str, delim: str, prng: random.Random) -> str:
    if prng.random() < 0.5:
        return line + delim + prng.choice(["", "x", "extra"])
    return line.rsplit(delim, 1)[0]


def _assemble(header: str, lines: list[str], blank_before: np.ndarray, style: FileStyle) -> str:
    if len(blank_before):
        out: list[str] = []
        cuts = [0, *blank_before.tolist(), len(lines)]
        for a, b in zip(cuts, cuts[1:], strict=False):
            out.extend(lines[a:b])
            if b != len(lines):
                out.append("")
        lines = out
    return style.line_end.join([header, *lines]) + style.line_end


def _encode(
    body: str, style: FileStyle, file_defect: str | None, n: int, prng: random.Random
) -> bytes:
    if file_defect == "bestand-leeg":
        return prng.choice([b"", b"\n", b"\r\n\r\n"])
    data = (("\ufeff" if style.bom else "") + body).encode("utf-8")
    if file_defect == "codering":
        if prng.random() < 0.5:  # Excel's "Unicode text": UTF-16 with BOM
            return body.encode("utf-16")
        # one value typed in Windows-1252 (é = 0xE9, invalid on its own in UTF-8)
        starts = [m.end() for m in re.finditer(b"\n", data)][:-1] or [0]
        at = prng.choice(starts)
        return data[:at] + b"Caf\xe9 " + data[at:]
    return data

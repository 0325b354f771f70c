"""`generate`: a synthetic delivery file in the definition's format plus its exact answer key."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import polars as pl

from ggk.definitions import Definition, UnknownPeriod
from ggk.refdata import UnknownGemeente, register
from ggk.testdata.bsn import passes_elfproef, synthetic_bsns
from ggk.testdata.defects import (
    Catalogue,
    Defect,
    MutationContext,
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
from ggk.testdata.voorzieningen import basis_records, default_rows, kosten_records

GM_RE = re.compile(r"^GM\d{4}$")
FACULTATIEF_SHARE = 0.85  # share of basis voorzieningen with a payment in the period


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
    basis: Path | str | GeneratedFile | None = None,
    *,
    out: Path | str,
    style: FileStyle | None = None,
) -> GeneratedFile:
    """Write `<out>/<GM>-<period>-<dataset>.csv` and `...-antwoorden.json`; return both.

    rows: data lines including the defect lines (default: sized from the population).
    errors: {"elfproef": 10, "verplicht:bsn": 3, ...} or the same as text `elfproef=10,...`.
    basis: for `facultatief`, the basis file whose (bsn, productcategorie, begindatum) keys the
    amounts belong to; needed for `geen-basisrecord`. Without it the keys come from a basis drawn
    with the same seed (not written).
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
    if "geen-basisrecord" in {d.code for d in defects.rows} and basis is None:
        raise TestdataError("geen-basisrecord needs a basis file (--basis) to be relative to")

    basis_path = Path(basis.path if isinstance(basis, GeneratedFile) else basis) if basis else None
    if dataset == "basis" or not spec.foreign_keys:
        n = rows if rows is not None else default_rows(gm.inwoners, rng)
        frame = basis_records(n, gm.code, calendar.start, calendar.end, rng)
        taken_bsns: set[int] = set()
    else:
        if basis_path is not None:
            keys, basis_bsns = read_basis(basis_path, definition, gm.code)
        else:
            size = (
                default_rows(gm.inwoners, rng)
                if rows is None
                else int(rows / FACULTATIEF_SHARE) + 8
            )
            keys = basis_records(size, gm.code, calendar.start, calendar.end, rng)
            basis_bsns = set(keys["bsn"].cast(pl.Int64).to_list())
        n = rows if rows is not None else round(keys.height * FACULTATIEF_SHARE)
        if n > keys.height:
            raise TestdataError(
                f"{n} facultatief rows need as many distinct basis voorzieningen; "
                f"the basis has {keys.height}"
            )
        keys = keys.select("bsn", "productcategorie", "begindatum")
        picked = np.sort(rng.choice(keys.height, size=n, replace=False)) if n else np.zeros(0, int)
        frame = kosten_records(keys[picked], gm.code, rng)
        taken_bsns = basis_bsns
    frame = _conform(frame, definition, dataset)

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

    fresh = sum(d.code == "geen-basisrecord" for d in order)
    if fresh:  # BSNs that occur nowhere in the basis nor in this file
        used = set(taken_bsns) | set(
            frame["bsn"].drop_nulls().cast(pl.Int64, strict=False).drop_nulls().to_list()
        )
        extra = iter(synthetic_bsns(fresh, rng, used))
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
    copies = frame[originals.tolist()].to_dicts() if doubles else []
    for i, (row, defect) in enumerate(zip(source, order, strict=True)):
        if defect.code == "dubbel-record":
            row = dict(copies[i - len(row_defects)])
            if "leveringsvorm" in row and prng.random() < 0.5:  # same key, other details
                row["leveringsvorm"] = "PGB" if row["leveringsvorm"] == "ZIN" else "ZIN"
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
            delim = ";" if defects.file != "scheidingsteken" else None
            text_lines[pos] = _wrong_field_count(text_lines[pos], delim or ";", prng)
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
        basis=basis_path.name if basis_path else None,
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


def _conform(frame: pl.DataFrame, definition: Definition, dataset: str) -> pl.DataFrame:
    names = list(definition.dataset(dataset).field_names)
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise TestdataError(
            f"the generator makes GMSD records; {definition.statistic}/{dataset} has columns it "
            f"cannot fill: {', '.join(missing)}"
        )
    return frame.select(names)


def read_basis(path: Path, definition: Definition, gemeente: str) -> tuple[pl.DataFrame, set[int]]:
    """Distinct, well-formed (bsn, productcategorie, begindatum) keys of a basis file, and every
    numeric BSN that occurs in it (a geen-basisrecord line must use none of them)."""
    try:
        raw = pl.read_csv(
            path,
            separator=";",
            infer_schema=False,
            truncate_ragged_lines=True,
            encoding="utf8-lossy",
        )
    except (OSError, pl.exceptions.PolarsError) as e:
        raise TestdataError(f"cannot read basis file {path}: {e}") from None
    raw = raw.rename({c: c.strip().lower().lstrip("\ufeff") for c in raw.columns})
    need = ("gemeentecode", "bsn", "productcategorie", "begindatum")
    if any(c not in raw.columns for c in need):
        raise TestdataError(f"basis file {path} lacks one of the columns {', '.join(need)}")
    enum = definition.dataset("basis").field("productcategorie").enum or ()
    keys = raw.select([pl.col(c).str.strip_chars() for c in need]).filter(
        pl.col("gemeentecode") == gemeente,
        pl.col("bsn").str.contains(r"^\d{9}$"),
        pl.col("productcategorie").is_in(list(enum)),
        pl.col("begindatum").str.to_date("%Y-%m-%d", strict=False).is_not_null(),
    )
    keys = keys.filter(pl.struct("bsn", "productcategorie", "begindatum").is_unique())
    ok = (
        passes_elfproef(keys["bsn"].cast(pl.Int64).to_numpy()) if keys.height else np.zeros(0, bool)
    )
    every = raw["bsn"].str.strip_chars().cast(pl.Int64, strict=False).drop_nulls().to_list()
    return keys.filter(pl.Series(ok)), set(every)


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
    delim = {"scheidingsteken": prng.choice([",", "\t"])}.get(file_defect or "", ";")

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
                .then(pl.concat_str([pl.lit('"'), col, pl.lit('"')]))
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

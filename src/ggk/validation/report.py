"""The technisch controlerapport: one JSON shape (spec section 7), the findings CSV, masking."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from ggk.definitions import DatasetSpec
from ggk.validation.catalogue import DESCRIBED_VALUES, CheckType
from ggk.validation.reading import LINE

MAX_EXAMPLES = 5
MASK_KEEP = 5  # at most this many characters of a masked value are shown ...
MASK_HIDDEN = 4  # ... and at least this many are always hidden
MAX_VALUE_CHARS = 200  # longer values and column names are cut off in every report
CSV_HEADER = {LINE: "regel", "column": "kolom", "code": "code", "severity": "ernst",
              "value": "waarde", "message": "melding"}

_SEPARATOR = r"[ .\-]"
_GROUPS = [(a, b, 9 - a - b) for a in (2, 3, 4) for b in (2, 3, 4) if 2 <= 9 - a - b <= 4]
# Anything that could be a BSN, wherever it stands: 8 or more digits in a row (a spreadsheet
# drops the leading zero of 012345672), or 9 digits written in groups with spaces, dots or
# dashes (999 043 195, 999-04-3195, 1234.56.782). A date (2026-01-31, 8 digits in groups of
# 4-2-2) is not; a date written without dashes (20260131) is masked too.
BSN_LIKE = "|".join([
    r"\d{8}",
    *(rf"\d{{{a}}}{_SEPARATOR}\d{{{b}}}{_SEPARATOR}\d{{{c}}}" for a, b, c in _GROUPS),
    *(rf"\d{{{a}}}{_SEPARATOR}\d{{{9 - a}}}" for a in (3, 4, 5, 6)),
])
# A cell that a spreadsheet would run as a formula (OWASP "CSV injection"); such a cell gets a
# leading apostrophe, which Excel and LibreOffice show as "text".
FORMULA_START = r"^(?:[\t\r\n]|\s*[=+\-@])"


def mask(expr: pl.Expr) -> pl.Expr:
    """Show at most the first 5 characters of a personal value, and never the last 4
    (123456782 -> 12345****, 12345672 -> 1234****)."""
    length = expr.str.len_chars()
    keep = pl.min_horizontal(pl.lit(MASK_KEEP), length.cast(pl.Int64) - MASK_HIDDEN).clip(
        lower_bound=0)  # len_chars is unsigned: 3 - 4 would wrap around and show everything
    return expr.str.slice(0, keep).str.pad_end(length, "*")


def truncate(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.len_chars() > MAX_VALUE_CHARS).then(
        expr.str.slice(0, MAX_VALUE_CHARS - 1) + "…").otherwise(expr)


def _looks_personal(expr: pl.Expr, patterns: list[str]) -> pl.Expr:
    return pl.any_horizontal(
        [expr.str.contains(p) for p in (BSN_LIKE, *patterns)]).fill_null(False)


def _rewritten(frame: pl.DataFrame, name: str, needs: pl.Expr,
               how: Callable[[pl.Expr], pl.Expr]) -> pl.DataFrame:
    """`frame` with `how` applied to column `name` only on the rows where `needs` holds (a file
    can have millions of findings; rewriting all of them would copy every value)."""
    rows = frame.select(needs.fill_null(False).arg_true().alias("__i"))["__i"]
    if not rows.len():
        return frame
    changed = frame[name].gather(rows).to_frame().select(how(pl.col(name)).alias(name))[name]
    return frame.with_columns(frame[name].clone().scatter(rows, changed))


def safe_texts(texts: list[str], spec: DatasetSpec | None = None) -> list[str]:
    """Texts from a delivery (names, a file name, free text) as a report may show them: anything
    that could be a BSN (BSN_LIKE) or, given `spec`, is shaped like one of its personal fields
    masked, then cut off at MAX_VALUE_CHARS."""
    patterns = [f.pattern for f in spec.fields if f.personal and f.pattern] if spec else []
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.String})
    frame = _rewritten(frame, "text", _looks_personal(pl.col("text"), patterns), mask)
    return frame.select(truncate(pl.col("text")))["text"].to_list()


def mask_personal(findings: pl.DataFrame, spec: DatasetSpec) -> pl.DataFrame:
    """Mask values of personal fields, and any value or unknown column name that contains
    something that could be a BSN (BSN_LIKE) or is shaped like a personal field (its pattern,
    unanchored): a BSN that landed in another column (columns swapped in the export) or in the
    header (a file without header line) must not show in full either. Then cut off values and
    names longer than MAX_VALUE_CHARS. Values the validator wrote itself (DESCRIBED_VALUES) are
    left as they are.

    Only the rows that need it are rewritten (a file can have millions of findings)."""
    if findings.height == 0:
        return findings
    personal = [f.name for f in spec.fields if f.personal]
    patterns = [f.pattern for f in spec.fields if f.personal and f.pattern]
    from_file = ~pl.col("code").is_in(list(DESCRIBED_VALUES))
    needs_mask = (pl.col("column").is_in(personal).fill_null(False)
                  | _looks_personal(pl.col("value"), patterns)) & from_file
    findings = _rewritten(findings, "value", needs_mask, mask)
    findings = _rewritten(findings, "value", pl.col("value").str.len_chars() > MAX_VALUE_CHARS,
                          truncate)
    names = findings["column"].unique().drop_nulls()
    names = names.filter(~names.is_in(list(spec.field_names)))
    if names.len():
        shown = pl.Series(safe_texts(names.to_list(), spec), dtype=pl.String)
        changed = names != shown
        if changed.any():
            findings = findings.with_columns(
                pl.col("column").replace(names.filter(changed), shown.filter(changed))
            )
    return findings


def finding_entries(findings: pl.DataFrame, checks: dict[str, CheckType],
                    order: dict[tuple[str, str | None], int]) -> list[dict[str, Any]]:
    """One entry per (code, column) with count and the first examples by line."""
    if findings.height == 0:
        return []
    # Count per (code, column) and the first lines; only those few rows are then looked up
    # (sorting or gathering all findings would copy millions of values). maintain_order: entries
    # that tie in the report order (two unknown columns) keep their header order, not a random one.
    counts = findings.group_by("code", "column", maintain_order=True).agg(
        pl.len().alias("count"), pl.col(LINE).bottom_k(MAX_EXAMPLES).alias("__lines")
    )
    first = counts.select("code", "column", pl.col("__lines").alias(LINE)).explode(LINE)
    examples = (
        findings.select(LINE, "code", "column", "value")
        .join(first, on=[LINE, "code", "column"], how="semi", nulls_equal=True)
        .unique(subset=[LINE, "code", "column", "value"], maintain_order=True)
        .sort(LINE, nulls_last=False)
        .group_by("code", "column", maintain_order=True)
        .agg(pl.struct(pl.col(LINE).alias("line"), "value").head(MAX_EXAMPLES).alias("examples"))
    )
    grouped = counts.drop("__lines").join(examples, on=["code", "column"], how="left",
                                          nulls_equal=True)
    entries = []
    for row in grouped.iter_rows(named=True):
        check = checks[row["code"]]
        entries.append({
            "code": row["code"],
            "severity": check.severity,
            "column": row["column"],
            "count": row["count"],
            "message": check.message_for(row["column"]),
            "examples": [e for e in row["examples"]
                         if e["line"] is not None or e["value"] is not None],
        })
    entries.sort(key=lambda e: (e["severity"] != "error",
                                order.get((e["code"], e["column"]), 10**6)))
    return entries


SEVERITY = pl.Enum(["error", "warning"])
MAX_BRANCHES = 64  # (code, column) pairs; beyond this (a header full of unknown names) join instead


def with_messages(findings: pl.DataFrame, checks: dict[str, CheckType]) -> pl.DataFrame:
    """Add severity and Dutch message per finding. Both are Enum columns: a file can have
    millions of findings but has few distinct texts, so each text is stored once (9 million
    findings: the former string join alone took about 1 GB)."""
    pairs = findings.select("code", "column").unique().sort("code", "column")
    messages = {(c, col): checks[c].message_for(col) for c, col in pairs.iter_rows()}
    message_enum = pl.Enum(sorted(set(messages.values())))
    if pairs.height > MAX_BRANCHES:
        texts = pl.DataFrame(
            {"code": pairs["code"], "column": pairs["column"],
             "severity": [checks[c].severity for c in pairs["code"]],
             "message": [messages[k] for k in pairs.iter_rows()]},
            schema={"code": pl.String, "column": pl.String, "severity": SEVERITY,
                    "message": message_enum},
        )
        return findings.join(texts, on=["code", "column"], how="left", nulls_equal=True)
    severity: pl.Expr = pl.lit(None, dtype=SEVERITY)
    message: pl.Expr = pl.lit(None, dtype=message_enum)
    for code in pairs["code"].unique().sort():
        severity = pl.when(pl.col("code") == code).then(
            pl.lit(checks[code].severity, dtype=SEVERITY)).otherwise(severity)
    for (code, column), text in messages.items():
        same_column = pl.col("column").is_null() if column is None else pl.col("column") == column
        message = pl.when((pl.col("code") == code) & same_column).then(
            pl.lit(text, dtype=message_enum)).otherwise(message)
    return findings.with_columns(severity.alias("severity"), message.alias("message"))


def write_findings_csv(findings: pl.DataFrame, path: Path) -> None:
    """Every finding, uncapped, sorted by line: regel;kolom;code;ernst;waarde;melding, UTF-8 with
    a byte-order mark (so that Excel reads it as UTF-8), cells that would start a formula
    neutralised (FORMULA_START)."""
    frame = findings.sort(LINE, "code", nulls_last=False).select(list(CSV_HEADER))
    for name in ("column", "value"):
        frame = _rewritten(frame, name, pl.col(name).str.contains(FORMULA_START), _neutralised)
    messages = frame["message"]
    texts = pl.Series(messages.dtype.categories) if messages.dtype == pl.Enum else messages
    if texts.str.contains(FORMULA_START).any():  # catalogue texts never do; kept safe anyway
        frame = frame.with_columns(_neutralised(pl.col("message").cast(pl.String)))
    frame.rename(CSV_HEADER).write_csv(Path(path), separator=";", include_bom=True)


def _neutralised(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.contains(FORMULA_START)).then(pl.lit("'") + expr).otherwise(expr)

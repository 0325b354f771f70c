"""The technisch controlerapport: one JSON shape (spec section 7), the findings CSV, masking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from ggk.definitions import DatasetSpec
from ggk.validation.catalogue import CheckType
from ggk.validation.reading import LINE

MAX_EXAMPLES = 5
MASK_KEEP = 5
CSV_HEADER = {LINE: "regel", "column": "kolom", "code": "code", "severity": "ernst",
              "value": "waarde", "message": "melding"}


def mask(expr: pl.Expr) -> pl.Expr:
    """Show at most the first 5 characters of a personal value (e.g. 12345****), never all."""
    keep = pl.min_horizontal(pl.lit(MASK_KEEP), expr.str.len_chars() - 1).clip(lower_bound=0)
    return expr.str.slice(0, keep).str.pad_end(expr.str.len_chars(), "*")


def _looks_personal(expr: pl.Expr, patterns: list[str]) -> pl.Expr:
    return pl.any_horizontal([expr.str.contains(p) for p in patterns]).fill_null(False)


def mask_personal(findings: pl.DataFrame, spec: DatasetSpec) -> pl.DataFrame:
    """Mask values of personal fields, and any value or unknown column name that contains
    something shaped like a personal field (its pattern, unanchored): a BSN that landed in
    another column (columns swapped in the export) or in the header (a file without header line)
    must not show in full either.

    Only the rows that need it are rewritten (a file can have millions of findings)."""
    personal = [f.name for f in spec.fields if f.personal]
    if not personal or findings.height == 0:
        return findings
    patterns = [f.pattern for f in spec.fields if f.personal and f.pattern]
    needs_mask = pl.col("column").is_in(personal).fill_null(False)
    if patterns:
        needs_mask = needs_mask | _looks_personal(pl.col("value"), patterns)
    rows = findings.select(needs_mask.arg_true().alias("i"))["i"]
    if rows.len():
        masked = findings["value"].gather(rows).to_frame().select(mask(pl.col("value")))["value"]
        findings = findings.with_columns(findings["value"].scatter(rows, masked))
    if patterns:
        names = findings["column"].unique().drop_nulls()
        hidden = names.filter(
            names.to_frame().select(
                _looks_personal(pl.col("column"), patterns)
                & ~pl.col("column").is_in(spec.field_names)
            )["column"]
        )
        if hidden.len():
            shown = hidden.to_frame().select(mask(pl.col("column")))["column"]
            findings = findings.with_columns(
                pl.col("column").replace(hidden.to_list(), shown.to_list())
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
    """Every finding, uncapped, sorted by line: regel;kolom;code;ernst;waarde;melding (UTF-8)."""
    (
        findings.sort(LINE, "code", nulls_last=False)
        .select(list(CSV_HEADER))
        .rename(CSV_HEADER)
        .write_csv(Path(path), separator=";")
    )

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
    return expr.str.slice(0, keep) + pl.lit("*").repeat_by(expr.str.len_chars() - keep).list.join("")


def _looks_personal(expr: pl.Expr, patterns: list[str]) -> pl.Expr:
    return pl.any_horizontal([expr.str.contains(p) for p in patterns]).fill_null(False)


def mask_personal(findings: pl.DataFrame, spec: DatasetSpec) -> pl.DataFrame:
    """Mask values of personal fields, and any value or unknown column name that contains
    something shaped like a personal field (its pattern, unanchored): a BSN that landed in
    another column (columns swapped in the export) or in the header (a file without header line)
    must not show in full either."""
    personal = [f.name for f in spec.fields if f.personal]
    if not personal:
        return findings
    patterns = [f.pattern for f in spec.fields if f.personal and f.pattern]
    value_personal = pl.col("column").is_in(personal).fill_null(False)
    column_personal = pl.lit(False)
    if patterns:
        value_personal = value_personal | _looks_personal(pl.col("value"), patterns)
        column_personal = _looks_personal(pl.col("column"), patterns) & ~pl.col("column").is_in(
            list(spec.field_names)
        ).fill_null(False)
    return findings.with_columns(
        pl.when(value_personal).then(mask(pl.col("value"))).otherwise(pl.col("value"))
        .alias("value"),
        pl.when(column_personal).then(mask(pl.col("column"))).otherwise(pl.col("column"))
        .alias("column"),
    )


def finding_entries(findings: pl.DataFrame, checks: dict[str, CheckType],
                    order: dict[tuple[str, str | None], int]) -> list[dict[str, Any]]:
    """One entry per (code, column) with count and the first examples by line."""
    if findings.height == 0:
        return []
    grouped = (
        findings.sort(LINE, nulls_last=False)
        .group_by("code", "column", maintain_order=True)
        .agg(pl.len().alias("count"),
             pl.struct(pl.col(LINE).alias("line"), "value").head(MAX_EXAMPLES).alias("examples"))
    )
    entries = []
    for row in grouped.iter_rows(named=True):
        check = checks[row["code"]]
        entries.append({
            "code": row["code"],
            "severity": check.severity,
            "column": row["column"],
            "count": row["count"],
            "message": check.message_for(row["column"]),
            "examples": [e for e in row["examples"] if e["line"] is not None or e["value"] is not None],
        })
    entries.sort(key=lambda e: (e["severity"] != "error", order.get((e["code"], e["column"]), 10**6)))
    return entries


def with_messages(findings: pl.DataFrame, checks: dict[str, CheckType]) -> pl.DataFrame:
    pairs = findings.select("code", "column").unique()
    texts = pl.DataFrame(
        {
            "code": pairs["code"],
            "column": pairs["column"],
            "severity": [checks[c].severity for c in pairs["code"]],
            "message": [checks[c].message_for(col) for c, col in pairs.iter_rows()],
        },
        schema={"code": pl.String, "column": pl.String, "severity": pl.String, "message": pl.String},
    )
    return findings.join(texts, on=["code", "column"], how="left", nulls_equal=True)


def write_findings_csv(findings: pl.DataFrame, path: Path) -> None:
    """Every finding, uncapped, sorted by line: regel;kolom;code;ernst;waarde;melding (UTF-8)."""
    (
        findings.sort(LINE, "code", nulls_last=False)
        .select(list(CSV_HEADER))
        .rename(CSV_HEADER)
        .write_csv(Path(path), separator=";")
    )

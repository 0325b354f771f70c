"""Helpers to hold a technical control report (spec section 7) against an answer key."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ggk.testdata import AnswerKey


def report_counts(report: dict[str, Any]) -> dict[tuple[str, str | None], int]:
    counts: Counter[tuple[str, str | None]] = Counter()
    for f in report["findings"]:
        counts[(f["code"], f["column"])] += f["count"]
    return dict(counts)


def mismatches(report: dict[str, Any], key: AnswerKey, *, rows: bool = True) -> list[str]:
    """Every way the report differs from the key, as readable lines (empty list: they agree)."""
    problems = []
    got, want = report_counts(report), key.counts()
    for k in sorted(set(got) | set(want), key=lambda k: (k[0], k[1] or "")):
        if got.get(k, 0) != want.get(k, 0):
            lines = next((f.lines for f in key.findings if (f.code, f.column) == k), ())
            problems.append(
                f"{k}: report {got.get(k, 0)}, key {want.get(k, 0)} (key lines {list(lines)[:10]})"
            )
    if report["verdict"] != key.verdict:
        problems.append(f"verdict: report {report['verdict']}, key {key.verdict}")
    summary = report["summary"]
    checks = {"errors": key.errors, "warnings": key.warnings}
    if rows:
        checks |= {"rows": key.rows, "rows_with_errors": key.rows_with_errors}
    for name, value in checks.items():
        if summary.get(name) != value:
            problems.append(f"summary.{name}: report {summary.get(name)}, key {value}")
    keyed = {(f.code, f.column): set(f.lines) for f in key.findings}
    for f in report["findings"]:
        lines = keyed.get((f["code"], f["column"]), set())
        for ex in f.get("examples", []):
            line = ex.get("line")
            if lines and line not in lines:
                problems.append(
                    f"{f['code']}/{f['column']}: example line {line} "
                    f"not in key {sorted(lines)[:10]}"
                )
    return problems

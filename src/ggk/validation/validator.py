"""validate_file: one delivered file against its definition, giving the technisch
controlerapport."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ggk.definitions import DatasetSpec, Definition, UnknownPeriod, shipped
from ggk.validation.catalogue import CheckType, checks_for
from ggk.validation.checks import (
    FINDING_SCHEMA,
    code_column,
    field_count_findings,
    field_findings,
    row_findings,
    typed,
    with_field_codes,
)
from ggk.validation.interfaces import KeyTransform, ValidationInputError, Verdict
from ggk.validation.reading import LINE, N_FIELDS, FileFinding, ParsedFile, read_delivery
from ggk.validation.report import (
    finding_entries,
    mask_personal,
    safe_texts,
    with_messages,
    write_findings_csv,
)

GEMEENTECODE = re.compile(r"^GM\d{4}$")


@dataclass
class CheckedFile:
    """The outcome of validate_file (satisfies interfaces.ValidationResult)."""

    report: dict[str, Any]
    findings: pl.DataFrame  # line, column, code, value (masked), severity, message
    definition: Definition
    dataset: DatasetSpec
    checks: dict[str, CheckType] = field(repr=False)

    @property
    def verdict(self) -> Verdict:
        return self.report["verdict"]

    @property
    def accepted(self) -> bool:
        return self.verdict == "goedgekeurd"

    def write_findings_csv(self, path: Path) -> None:
        write_findings_csv(self.findings, path)

    def render_html(self) -> str:
        from ggk.validation.html import render_report

        return render_report(self.report, self.checks, self.definition, self.dataset)


def resolve_definition(definition: Definition | None, statistic: str | None, period: str,
                       dataset: str) -> tuple[Definition, DatasetSpec]:
    """The given definition, or the shipped one of `statistic` (default: the first) for
    `period`."""
    statistic = definition.statistic if definition else statistic or shipped().default_statistic()
    try:
        definition = definition or shipped().for_period(statistic, period)
        definition.calendar(period)
    except UnknownPeriod:
        known = ", ".join(definition.periods) if definition else ""
        raise ValidationInputError(
            f"onbekende periode {period!r} voor {statistic}"
            + (f" (bekend: {known})" if known else "")
        ) from None
    try:
        return definition, definition.dataset(dataset)
    except KeyError:
        raise ValidationInputError(
            f"onbekende dataset {dataset!r}; kies uit: {', '.join(definition.dataset_names)}"
        ) from None


def _read(path: Path) -> bytes:
    """The bytes of a regular file. Anything else is refused before a byte is read: /dev/zero
    never ends, a FIFO waits for a writer (opening it does not, with O_NONBLOCK; the type is
    checked on the opened descriptor, so a path swapped in between cannot slip through)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ValidationInputError(f"bestand niet gevonden: {path}") from None
    except OSError as e:
        raise ValidationInputError(f"bestand {path} is niet te lezen: {e.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise ValidationInputError(f"{path} is een map, geen bestand")
        raise ValidationInputError(
            f"{path} is geen gewoon bestand (maar bijvoorbeeld een apparaat of pipe)")
    with os.fdopen(fd, "rb") as file:
        try:
            return file.read()
        except OSError as e:
            raise ValidationInputError(f"bestand {path} is niet te lezen: {e.strerror}") from None


def _typed_rows(parsed: ParsedFile, spec: DatasetSpec) -> pl.DataFrame:
    assert parsed.records is not None
    return parsed.records.filter(pl.col(N_FIELDS) == len(parsed.columns)).select(
        LINE, *(typed(f) for f in spec.fields)
    )


def read_rows(path: Path, *, definition: Definition, dataset: str) -> pl.DataFrame:
    """The records of a (validated) file with typed columns per the schema, plus `line`."""
    spec = definition.dataset(dataset)
    parsed = read_delivery(_read(path), spec)
    if parsed.records is None:
        codes = ", ".join(f.code for f in parsed.file_findings)
        raise ValidationInputError(f"bestand {path} is niet leesbaar ({codes})")
    return _typed_rows(parsed, spec)


def _referenced_keys_from_file(path: Path, definition: Definition, spec: DatasetSpec
                               ) -> pl.DataFrame:
    frames = []
    for fk in spec.foreign_keys:
        reference = definition.dataset(fk.resource)
        rows = read_rows(path, definition=definition, dataset=reference.name)
        frames.append(rows.select(fk.reference_fields))
    return frames[0] if frames else pl.DataFrame()


def validate_file(
    path: Path,
    *,
    dataset: str,
    gemeente: str,
    period: str,
    definition: Definition | None = None,
    statistic: str | None = None,
    referenced: Path | None = None,
    referenced_keys: pl.DataFrame | None = None,
    key_transform: KeyTransform | None = None,
) -> CheckedFile:
    """Validate one file; raises ValidationInputError only when validation cannot start."""
    definition, spec = resolve_definition(definition, statistic, period, dataset)
    if not GEMEENTECODE.match(gemeente):
        raise ValidationInputError(
            f"ongeldige gemeentecode {gemeente!r}: verwacht GM gevolgd door 4 cijfers, bijv. GM0363"
        )
    raw = _read(path)
    notes: list[str] = []
    if spec.foreign_keys and referenced_keys is None:
        if referenced is not None:
            referenced_keys = _referenced_keys_from_file(referenced, definition, spec)
        else:
            notes.append(
                "De controle geen-basisrecord is niet uitgevoerd: er is geen goedgekeurde "
                "basisaanlevering opgegeven om mee te vergelijken."
            )
    file_info = {
        "name": safe_texts([Path(path).name], spec)[0],
        "sha256": hashlib.sha256(raw).hexdigest(),
        "bytes": len(raw),
    }
    parsed = read_delivery(raw, spec)
    del raw
    file_info["lines"] = parsed.physical_lines
    checks = checks_for(definition, dataset)

    if parsed.file_findings:
        findings = pl.DataFrame(
            {
                LINE: [f.line for f in parsed.file_findings],
                "column": [f.column for f in parsed.file_findings],
                "code": [f.code for f in parsed.file_findings],
                "value": [_described(f, spec) for f in parsed.file_findings],
            },
            schema=FINDING_SCHEMA,
        )
    else:
        assert parsed.records is not None
        n = len(parsed.columns)
        records = parsed.records
        open_quote = pl.DataFrame(schema=FINDING_SCHEMA)
        if parsed.open_quote is not None:  # the last record: checking it would be guesswork
            assert records[LINE][-1] == parsed.open_quote.line
            records = records.slice(0, records.height - 1)
            open_quote = pl.DataFrame(
                {LINE: [parsed.open_quote.line], "column": [None],
                 "code": ["aanhalingsteken-open"], "value": [parsed.open_quote.unchecked]},
                schema=FINDING_SCHEMA)
        counted = records
        if records.select((pl.col(N_FIELDS) != n).any()).item():
            records = records.filter(pl.col(N_FIELDS) == n)
        good = with_field_codes(records, spec)
        del records
        findings = pl.concat([
            open_quote,
            field_count_findings(counted, n),
            field_findings(good, spec),
            row_findings(good, spec, definition, gemeente, period, referenced_keys, key_transform),
        ])
        del good, counted
    findings = with_messages(mask_personal(findings, spec), checks)
    order = _report_order(spec, checks)
    entries = finding_entries(findings, checks, order)
    errors = sum(e["count"] for e in entries if e["severity"] == "error")
    warnings = sum(e["count"] for e in entries if e["severity"] == "warning")
    rows_with_errors = (
        findings.filter((pl.col("severity") == "error") & pl.col(LINE).is_not_null()
                        & (pl.col(LINE) != (parsed.header_line or 0)))[LINE].n_unique()
        if not parsed.file_findings else 0
    )
    report: dict[str, Any] = {
        "report": "technisch-controlerapport",
        "statistic": definition.statistic,
        "edition": definition.edition,
        "dataset": dataset,
        "period": period,
        "gemeente": gemeente,
        "file": file_info,
        "verdict": "afgekeurd" if errors else "goedgekeurd",
        "summary": {
            "rows": parsed.data_lines,
            "errors": errors,
            "warnings": warnings,
            "rows_with_errors": rows_with_errors,
        },
        "findings": entries,
    }
    if notes:
        report["notes"] = notes
    return CheckedFile(report,
                       findings.select(LINE, "column", "code", "severity", "value", "message"),
                       definition, spec, checks)


def _described(finding: FileFinding, spec: DatasetSpec) -> str | None:
    """The value of a file finding; kolommen-onbekend: how many and the first names (masked)."""
    if finding.code != "kolommen-onbekend":
        return finding.value
    names = ", ".join(f"'{name[:40]}{'…' if len(name) > 40 else ''}'"
                      for name in safe_texts(list(finding.names), spec))
    return f"{finding.value} kolommen, waaronder {names}"


def _report_order(spec: DatasetSpec, checks: dict[str, CheckType]
                  ) -> dict[tuple[str, str | None], int]:
    """Report order: file level, field count, then per column in schema order, then row rules."""
    columns: list[str | None] = [None, *spec.field_names]
    order: dict[tuple[str, str | None], int] = {}
    for i, code in enumerate(checks):
        for j, column in enumerate(columns):
            order[(code, column)] = i * 100 + j
    return order


__all__ = ["CheckedFile", "code_column", "read_rows", "validate_file"]

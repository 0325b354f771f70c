"""Contract of the testdata package: synthetic delivery files with an exact answer key.

`generate(...)` (in `ggk.testdata.generator`) writes one CSV in the format of the definition
(spec section 3) and an answer key (JSON) that lists exactly the findings a correct validator must
report for that file: one entry per (code, column) with its count and the physical line numbers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning"]

ANSWER_KEY_FORMAT = "ggk-antwoorden/1"


class TestdataError(ValueError):
    """A request the generator cannot fulfil; the message says what and why."""

    __test__ = False  # not a pytest test class despite the name


class UnknownDefect(TestdataError):
    """A defect code (or code:column) that the spec does not define for this dataset."""


@dataclass(frozen=True, slots=True)
class ExpectedFinding:
    """One (code, column) entry of the answer key: `count` findings on these `lines`."""

    code: str
    severity: Severity
    column: str | None
    count: int
    lines: tuple[int, ...] = ()  # physical line numbers (header = 1); empty for file-level codes


@dataclass(frozen=True, slots=True)
class FileStyle:
    """How the CSV is written; every variation is allowed by spec section 3 (clean stays clean)."""

    line_end: Literal["\n", "\r\n"] = "\n"
    bom: bool = False
    quote: Literal["none", "strings", "all"] = "none"  # quote non-empty fields with "
    pad_spaces: bool = False  # spaces around unquoted non-empty values (trimmed by the reader)
    header_case: Literal["lower", "title", "upper"] = "lower"
    shuffle_columns: bool = False
    blank_lines: int = 0  # blank lines scattered between data lines (not counted as rows)

    @classmethod
    def varied(cls, seed: int) -> FileStyle:
        """A random but valid style, reproducible from `seed`."""
        import random

        r = random.Random(seed)
        return cls(
            line_end=r.choice(["\n", "\r\n"]),
            bom=r.random() < 0.3,
            quote=r.choice(["none", "none", "strings", "all"]),
            pad_spaces=r.random() < 0.3,
            header_case=r.choice(["lower", "lower", "title", "upper"]),
            shuffle_columns=r.random() < 0.3,
            blank_lines=r.choice([0, 0, 1, 3]),
        )


@dataclass(frozen=True, slots=True)
class AnswerKey:
    """What a correct validator must report for the generated file (spec section 7 terms)."""

    statistic: str
    edition: str
    dataset: str
    gemeente: str
    period: str
    seed: int
    file: str
    rows: int  # data lines (blank lines not counted)
    lines: int  # physical lines including the header and blank lines
    verdict: Literal["goedgekeurd", "afgekeurd"]
    errors: int  # sum of counts of severity error
    warnings: int
    rows_with_errors: int
    findings: tuple[ExpectedFinding, ...]
    requested: dict[str, int] = field(default_factory=dict)  # the defects asked for
    file_level: bool = False  # a file-level finding stops the row checks
    referenced: str | None = None  # the file of the dataset this one's foreign keys refer to
    style: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[tuple[str, str | None], int]:
        """{(code, column): count}: the form tests compare with a report's findings."""
        return {(f.code, f.column): f.count for f in self.findings}

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d = {"format": ANSWER_KEY_FORMAT, **d}
        d["findings"] = [{**asdict(f), "lines": list(f.lines)} for f in self.findings]
        d["summary"] = {
            "rows": self.rows,
            "errors": self.errors,
            "warnings": self.warnings,
            "rows_with_errors": self.rows_with_errors,
        }
        return d

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")

    @classmethod
    def read(cls, path: Path) -> AnswerKey:
        d = json.loads(Path(path).read_text("utf-8"))
        if d.get("format") != ANSWER_KEY_FORMAT:
            raise TestdataError(f"{path}: not an answer key of format {ANSWER_KEY_FORMAT}")
        d.pop("format")
        d.pop("summary", None)
        d["findings"] = tuple(
            ExpectedFinding(**{**f, "lines": tuple(f["lines"])}) for f in d["findings"]
        )
        return cls(**d)


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """A generated CSV, its answer key and where both were written."""

    path: Path
    key_path: Path
    key: AnswerKey

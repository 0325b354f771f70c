"""Contract of the validation package: check one delivered file against its definition.

The validator is generic: everything specific to a statistic comes from its Definition (field specs,
primary and foreign keys, SQL rules). Its findings are catalogued check types (see catalogue.py);
its report has one JSON shape (spec section 7, `technisch-controlerapport`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

import polars as pl

from ggk.definitions import Definition

Verdict = Literal["goedgekeurd", "afgekeurd"]
KeyTransform = dict[str, Callable[[pl.Expr], pl.Expr]]


class ValidationInputError(ValueError):
    """The validation could not start (missing file, unknown dataset, period or gemeente).

    Not a finding about the file's content: the CLI answers it with exit code 2 and this message,
    which is Dutch because municipalities read it.
    """


class ValidationResult(Protocol):
    report: dict[str, Any]
    findings: pl.DataFrame

    @property
    def verdict(self) -> Verdict:
        """`goedgekeurd` when there is no finding of severity error, else `afgekeurd`."""

    @property
    def accepted(self) -> bool:
        """True when the verdict is goedgekeurd."""

    def write_findings_csv(self, path: Path) -> None:
        """Write every finding (uncapped, BSNs masked) as `;`-separated UTF-8 CSV."""

    def render_html(self) -> str:
        """The technisch controlerapport as one self-contained Dutch HTML page."""


class Validator(Protocol):
    def __call__(
        self,
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
    ) -> ValidationResult:
        """Validate one file of `dataset` delivered by `gemeente` for `period`."""

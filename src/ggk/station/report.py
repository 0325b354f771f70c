"""The technisch controlerapport as the station sends it: the validator's report plus what only
the station knows (the delivery's message id, its version, the changes against the previous
accepted version). One typed object; its files are report.json, report.html and findings.csv."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ggk.station.diff import Changes
from ggk.validation.interfaces import ValidationResult


@dataclass
class TechnischControlerapport:
    result: ValidationResult
    aanlevering: str  # the delivery's message id
    file_name: str
    versie: int | None = None
    wijzigingen: Changes | None = None  # only for an accepted correction

    @property
    def accepted(self) -> bool:
        return self.result.accepted

    @property
    def summary(self) -> dict[str, Any]:
        return dict(self.result.report.get("summary", {}))

    def as_json(self) -> dict[str, Any]:
        """report.json: spec section 7 plus `aanlevering`, `versie` and `wijzigingen`."""
        report: dict[str, Any] = dict(self.result.report)
        report["file"] = {**report.get("file", {}), "name": self.file_name}
        report["aanlevering"] = self.aanlevering
        if self.versie is not None:
            report["versie"] = self.versie
        if self.wijzigingen is not None:
            report["wijzigingen"] = self.wijzigingen.dutch()
        return report

    def write(self, directory: Path) -> None:
        """The three files; the HTML page shows the changes inside its own layout."""
        report = self.as_json()
        (directory / "report.json").write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
        self.result.report = report  # the page renders what report.json says
        (directory / "report.html").write_text(self.result.render_html(), "utf-8")
        self.result.write_findings_csv(directory / "findings.csv")

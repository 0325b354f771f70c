"""The technisch controlerapport as one self-contained Dutch HTML page (Jinja2 template)."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from ggk.definitions import DatasetSpec, Definition
from ggk.validation.catalogue import DESCRIBED_VALUES, CheckType

MAX_CARDS = 100  # entries are per (code, column), so a report rarely has more than a few dozen


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ggk.validation", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def render_report(report: dict[str, Any], checks: dict[str, CheckType], definition: Definition,
                  dataset: DatasetSpec) -> str:
    titles = {f.name: f.title for f in dataset.fields}
    findings = []
    for entry in report["findings"]:
        check = checks[entry["code"]]
        findings.append({
            **entry,
            "title": check.title,
            "description": check.description,
            "fix": check.fix_for(entry["column"]),
            "column_title": titles.get(entry["column"] or "", entry["column"]),
            "file_level": check.level == "file",
            "show_values": (bool(entry["column"]) and check.level != "file")
            or entry["code"] in DESCRIBED_VALUES,
        })
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        findings=findings[:MAX_CARDS],
        hidden_findings=findings[MAX_CARDS:],
        definition=definition,
        dataset=dataset,
        calendar=definition.calendar(report["period"]),
        number=_number,
    )

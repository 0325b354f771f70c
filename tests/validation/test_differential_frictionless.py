"""Differential check of the field-level checks against frictionless-py on the same Table Schema.

The generated files carry random mixes of `verplicht`, `type`, `patroon`, `codelijst`, `minimum`
(and `dubbel-record`, which frictionless reports as a `primary-key` error). Frictionless reads the
file with the schema and dialect of the shipped definition; its errors are mapped to our codes:

    constraint-error "required" -> verplicht     constraint-error "pattern" -> patroon
    constraint-error "enum"     -> codelijst     constraint-error "minimum" -> minimum
    type-error                  -> type          primary-key                -> dubbel-record

Known semantic differences, kept out of the comparison on purpose:
- `elfproef`, `gemeentecode-afzender`, the cross-field rules and `geen-basisrecord` are ggk's own
  checks: not injected here; the facultatief foreign key (= geen-basisrecord) is left out of the
  schema frictionless gets, since it needs the basis of another delivery.
- Trimming: the spec trims spaces around unquoted values, frictionless does not: no padded styles.
- Header names: the spec matches them case-insensitively and in any order; frictionless compares
  labels literally and by position: files keep the spec's lower-case names in schema order.
- Blank lines: the spec ignores them, frictionless reports `blank-row`: none are written.
- `aantal-velden`: frictionless reports extra-cell/missing-cell per cell and then also checks the
  remaining cells, the spec checks nothing else on that line: not injected.
What stays in common: decimal comma (`decimalChar: ","`), `%Y-%m-%d` dates, anchored patterns,
enums, minimum, required, quoting, CRLF and BOM.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ggk.definitions import shipped
from ggk.testdata import FileStyle, generate

DEFINITION = shipped().for_period("gmsd", "2026-H1")
CONSTRAINTS = {
    "required": "verplicht",
    "pattern": "patroon",
    "enum": "codelijst",
    "minimum": "minimum",
}
FIELD_LEVEL = {"verplicht", "type", "patroon", "codelijst", "minimum"}
CASES = [
    ("basis", 1, "verplicht=6,type=6,patroon=4,codelijst=6,minimum=3,dubbel-record=3"),
    ("basis", 2, "codelijst:productcategorie=5,codelijst:reden_beeindiging=3,type:einddatum=4"),
    ("basis", 3, "type:intensiteit=6,minimum=4,verplicht:leveringsvorm=2,patroon:bsn=5"),
    ("basis", 4, "verplicht=3,type=3,patroon=3,codelijst=3,minimum=3"),
    ("facultatief", 5, "verplicht=5,type=4,patroon=3,codelijst=3,minimum=3"),
    ("facultatief", 6, "type:betaald_bedrag=6,minimum:betaald_bedrag=4,patroon:gemeentecode=2"),
]


def frictionless_triples(path: Path, dataset: str) -> tuple[set[tuple[str, str | None, int]], list]:
    """Our (code, column, line) for every frictionless error it can map, plus the unmapped ones."""
    from frictionless import Resource, Schema, formats

    raw = next(r for r in DEFINITION.raw["resources"] if r["name"] == dataset)
    # the foreign key is geen-basisrecord (ours, checked against a separate basis delivery)
    schema = {k: v for k, v in raw["schema"].items() if k != "foreignKeys"}
    resource = Resource(
        path=path.name,
        basepath=str(path.parent),
        schema=Schema.from_descriptor(schema),
        control=formats.CsvControl(delimiter=raw["dialect"]["delimiter"]),
    )
    report = resource.validate(limit_errors=1_000_000)
    found, unmapped = set(), []
    for line, column, kind, note in report.flatten(["rowNumber", "fieldName", "type", "note"]):
        if kind == "type-error":
            found.add(("type", column, line))
        elif kind == "constraint-error":
            constraint = note.split('"')[1]
            found.add((CONSTRAINTS[constraint], column, line))
        elif kind == "primary-key":
            found.add(("dubbel-record", None, line))
        else:
            unmapped.append((line, column, kind, note))
    return found, unmapped


def _style(seed: int) -> FileStyle:
    """Varied in what both readers agree on: line ends, BOM, quoting."""
    return FileStyle(
        line_end=("\n", "\r\n")[seed % 2],
        bom=seed % 3 == 0,
        quote=("none", "strings", "all")[seed % 3],
    )


@pytest.mark.parametrize(("dataset", "seed", "errors"), CASES)
def test_frictionless_finds_exactly_the_keyed_field_findings(tmp_path: Path, dataset, seed, errors):
    basis = None
    if dataset == "facultatief":
        basis = generate(
            DEFINITION, "basis", "GM0363", "2026-H1", rows=300, seed=seed, out=tmp_path
        )
    g = generate(
        DEFINITION,
        dataset,
        "GM0363",
        "2026-H1",
        rows=250,
        errors=errors,
        seed=seed,
        referenced=basis,
        out=tmp_path,
        style=_style(seed),
    )
    found, unmapped = frictionless_triples(g.path, dataset)
    keyed = {(f.code, f.column, line) for f in g.key.findings for line in f.lines}
    assert unmapped == []
    assert found == keyed


@pytest.mark.parametrize(("dataset", "seed", "errors"), CASES)
def test_validator_agrees_with_frictionless(tmp_path: Path, dataset, seed, errors):
    from ggk.validation import validate_file

    basis = None
    if dataset == "facultatief":
        basis = generate(
            DEFINITION, "basis", "GM0363", "2026-H1", rows=300, seed=seed, out=tmp_path
        )
    g = generate(
        DEFINITION,
        dataset,
        "GM0363",
        "2026-H1",
        rows=250,
        errors=errors,
        seed=seed,
        referenced=basis,
        out=tmp_path,
        style=_style(seed),
    )
    found, _ = frictionless_triples(g.path, dataset)
    theirs = Counter((code, column) for code, column, _ in found)
    report = validate_file(
        g.path,
        dataset=dataset,
        gemeente="GM0363",
        period="2026-H1",
        referenced=basis.path if basis else None,
    ).report
    ours = Counter()
    for f in report["findings"]:
        if f["code"] in FIELD_LEVEL | {"dubbel-record"}:
            ours[(f["code"], f["column"])] += f["count"]
    assert ours == theirs
    # line numbers: every example the report shows is a line frictionless flags with that code
    for f in report["findings"]:
        for ex in f.get("examples", []):
            if f["code"] in FIELD_LEVEL | {"dubbel-record"}:
                assert (f["code"], f["column"], ex["line"]) in found

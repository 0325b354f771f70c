"""Property: for random mixes of defects, seeds, sizes and (valid) file styles, the validator
reports exactly the findings of the generator's answer key: counts per (code, column), summary
and verdict."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ggk.definitions import shipped
from ggk.testdata import FileStyle, generate
from ggk.validation import validate_file
from tests.testdata.reports import mismatches
from tests.testdata.strategies import defect_mix

DEFINITION = shipped().for_period("gmsd", "2026-H1")
PERIODS = ("2026-H1", "2026-H2")
GEMEENTEN = ("GM0363", "GM0014", "GM0037")
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False
)


def _style(seed: int | None) -> FileStyle:
    return FileStyle.varied(seed) if seed is not None else FileStyle()


def _check(generated, **kw) -> None:
    result = validate_file(
        generated.path,
        dataset=generated.key.dataset,
        gemeente=generated.key.gemeente,
        period=generated.key.period,
        **kw,
    )
    report = result.report
    problems = mismatches(report, generated.key, rows=not generated.key.file_level)
    if not generated.key.file_level and generated.key.style.get("blank_lines") == 0:
        if report.get("file", {}).get("lines") not in (None, generated.key.lines):
            problems.append(
                f"file.lines: report {report['file']['lines']}, key {generated.key.lines}"
            )
    assert not problems, (
        f"{generated.path.name} {generated.key.requested} seed={generated.key.seed}\n"
        + "\n".join(problems)
    )


@SETTINGS
@given(
    errors=defect_mix("basis"),
    rows=st.integers(60, 400),
    seed=st.integers(0, 2**31 - 1),
    style=st.one_of(st.none(), st.integers(0, 10_000)),
    period=st.sampled_from(PERIODS),
    gemeente=st.sampled_from(GEMEENTEN),
)
def test_basis_findings_match_the_answer_key(errors, rows, seed, style, period, gemeente) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        g = generate(
            DEFINITION,
            "basis",
            gemeente,
            period,
            rows=rows,
            errors=errors,
            seed=seed,
            out=Path(tmp),
            style=_style(style),
        )
        _check(g)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    errors=defect_mix("facultatief", with_basis=True),
    seed=st.integers(0, 2**31 - 1),
    style=st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_facultatief_findings_match_the_answer_key(errors, seed, style) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        basis = generate(
            DEFINITION, "basis", "GM0363", "2026-H1", rows=200, seed=seed, out=Path(tmp)
        )
        g = generate(
            DEFINITION,
            "facultatief",
            "GM0363",
            "2026-H1",
            errors=errors,
            seed=seed,
            referenced=basis,
            out=Path(tmp),
            style=_style(style),
        )
        _check(g, referenced=basis.path)


FILE_LEVEL = st.one_of(
    st.sampled_from([{"bestand-leeg": 1}, {"codering": 1}, {"scheidingsteken": 1}]),
    st.fixed_dictionaries(
        {},
        optional={
            "kolom-ontbreekt": st.integers(1, 3),
            "kolom-onbekend": st.integers(1, 2),
            "kolom-dubbel": st.integers(1, 2),
            "elfproef": st.integers(1, 3),  # row defects must not be reported next to header ones
            "dubbel-record": st.integers(1, 2),
        },
    ).filter(lambda d: any(k.startswith("kolom-") for k in d)),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    errors=FILE_LEVEL,
    seed=st.integers(0, 2**31 - 1),
    style=st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_file_level_findings_match_the_answer_key(errors, seed, style) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        g = generate(
            DEFINITION,
            "basis",
            "GM0363",
            "2026-H1",
            rows=50,
            errors=errors,
            seed=seed,
            out=Path(tmp),
            style=_style(style),
        )
        _check(g)


def test_clean_default_size_file_is_goedgekeurd(tmp_path: Path) -> None:
    g = generate(DEFINITION, "basis", "GM0037", "2026-H1", seed=1, out=tmp_path)
    _check(g)
    assert g.key.verdict == "goedgekeurd" and g.key.rows > 2000

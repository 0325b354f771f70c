"""Property: for random defect mixes and styles, the independent oracle finds exactly the keyed
(code, column, line) triples: the answer key is exact before any validator is involved."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ggk.definitions import shipped
from ggk.testdata import FileStyle, generate
from tests.testdata.oracle import findings_per_line, keys_of
from tests.testdata.strategies import defect_mix

DEFINITION = shipped().for_period("gmsd", "2026-H1")


def _triples(per_line: dict[int, list[tuple[str, str | None]]]) -> set[tuple[str, str | None, int]]:
    return {(code, column, line) for line, found in per_line.items() for code, column in found}


def _keyed(key) -> set[tuple[str, str | None, int]]:
    return {(f.code, f.column, line) for f in key.findings for line in f.lines}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    errors=defect_mix("basis"),
    rows=st.integers(60, 300),
    seed=st.integers(0, 2**31 - 1),
    style=st.one_of(st.none(), st.integers(0, 10_000)),
    period=st.sampled_from(["2026-H1", "2026-H2"]),
)
def test_basis_key_is_exact(errors, rows, seed, style, period) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        style_ = FileStyle.varied(style) if style is not None else FileStyle()
        g = generate(
            DEFINITION,
            "basis",
            "GM0363",
            period,
            rows=rows,
            errors=errors,
            seed=seed,
            out=Path(tmp),
            style=style_,
        )
        per_line = findings_per_line(g.path.read_bytes(), DEFINITION, "basis", "GM0363", period)
        assert _triples(per_line) == _keyed(g.key)
        assert all(len(found) == 1 for found in per_line.values())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(errors=defect_mix("facultatief", with_basis=True), seed=st.integers(0, 2**31 - 1))
def test_facultatief_key_is_exact(errors, seed) -> None:
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
            style=FileStyle.varied(seed),
        )
        per_line = findings_per_line(
            g.path.read_bytes(),
            DEFINITION,
            "facultatief",
            "GM0363",
            "2026-H1",
            basis_keys=keys_of(basis.path.read_bytes()),
        )
        assert _triples(per_line) == _keyed(g.key)

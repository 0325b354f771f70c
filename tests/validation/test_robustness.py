"""No byte sequence crashes the validator: every input gives a report."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ggk.validation import validate_file

HEADER = (b"gemeentecode;bsn;productcategorie;leveringsvorm;begindatum;einddatum;intensiteit;"
          b"eenheid;reden_beeindiging\n")
ROW = b"GM0363;123456782;01;ZIN;2026-01-10;;2,5;uur;\n"
ALPHABET = b';"\r\n \t,GM0123456789-\xef\xbb\xbf\xff\x00\x1fabc'


def _check(data: bytes, dataset: str = "basis") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.csv"
        path.write_bytes(data)
        report = validate_file(path, dataset=dataset, gemeente="GM0363", period="2026-H1").report
    assert report["verdict"] in {"goedgekeurd", "afgekeurd"}
    assert report["summary"]["errors"] == sum(
        f["count"] for f in report["findings"] if f["severity"] == "error")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    _check(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([bytes([b]) for b in ALPHABET]), max_size=120),
       st.integers(0, 200), st.sampled_from(["basis", "facultatief"]))
def test_mutated_valid_file(noise: list[bytes], position: int, dataset: str) -> None:
    body = HEADER + ROW * 3
    position = min(position, len(body))
    _check(body[:position] + b"".join(noise) + body[position:], dataset)

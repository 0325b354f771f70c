"""Synthetic delivery files of any defined statistic, with an exact answer key (see
docs/testdata.md)."""

from __future__ import annotations

from ggk.lazy_exports import lazy_exports

_EXPORTS = {
    "AnswerKey": "ggk.testdata.interfaces",
    "ExpectedFinding": "ggk.testdata.interfaces",
    "FileStyle": "ggk.testdata.interfaces",
    "GeneratedFile": "ggk.testdata.interfaces",
    "TestdataError": "ggk.testdata.interfaces",
    "UnknownDefect": "ggk.testdata.interfaces",
    "draw_accepted": "ggk.testdata.generator",
    "generate": "ggk.testdata.generator",
    "parse_errors": "ggk.testdata.defects",
    "read_referenced": "ggk.testdata.generator",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports("ggk.testdata", _EXPORTS)

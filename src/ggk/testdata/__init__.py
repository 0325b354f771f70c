"""Synthetic GMSD delivery files with an exact answer key (see docs/testdata.md)."""

from ggk.testdata.defects import parse_errors
from ggk.testdata.generator import generate, read_basis
from ggk.testdata.interfaces import (
    AnswerKey,
    ExpectedFinding,
    FileStyle,
    GeneratedFile,
    TestdataError,
    UnknownDefect,
)

__all__ = [
    "AnswerKey",
    "ExpectedFinding",
    "FileStyle",
    "GeneratedFile",
    "TestdataError",
    "UnknownDefect",
    "generate",
    "parse_errors",
    "read_basis",
]

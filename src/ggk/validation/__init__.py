"""Validation of delivered files against a statistic's definition (the technisch controlerapport)."""

from ggk.validation.catalogue import CheckType, checks_for
from ggk.validation.interfaces import ValidationInputError, ValidationResult, Validator
from ggk.validation.validator import CheckedFile, read_rows, validate_file

__all__ = [
    "CheckType",
    "CheckedFile",
    "ValidationInputError",
    "ValidationResult",
    "Validator",
    "checks_for",
    "read_rows",
    "validate_file",
]

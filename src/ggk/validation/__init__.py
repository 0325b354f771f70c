"""Validation of delivered files against a statistic's definition (technisch controlerapport).

Names are imported lazily so that `ggk --help` does not pay for Polars.
"""

from __future__ import annotations

from ggk.lazy_exports import lazy_exports

_EXPORTS = {
    "CheckType": "ggk.validation.catalogue",
    "checks_for": "ggk.validation.catalogue",
    "ValidationInputError": "ggk.validation.interfaces",
    "ValidationResult": "ggk.validation.interfaces",
    "Validator": "ggk.validation.interfaces",
    "CheckedFile": "ggk.validation.validator",
    "read_rows": "ggk.validation.validator",
    "safe_texts": "ggk.validation.report",
    "validate_file": "ggk.validation.validator",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports("ggk.validation", _EXPORTS)

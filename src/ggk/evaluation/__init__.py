"""The pilot evaluation for VWS (`ggk evaluatie`): how the channel did in a period, in Dutch, as
JSON, HTML and PDF, with figures of municipalities only as the disclosure rules allow
(docs/evaluation.md)."""

from __future__ import annotations

from ggk.lazy_exports import lazy_exports

_EXPORTS = {
    "DecisionFact": "ggk.evaluation.interfaces",
    "DeliveryFact": "ggk.evaluation.interfaces",
    "EvaluationError": "ggk.evaluation.interfaces",
    "EvaluationRecords": "ggk.evaluation.interfaces",
    "EvaluationReport": "ggk.evaluation.report",
    "IncidentFact": "ggk.evaluation.interfaces",
    "RefusalFact": "ggk.evaluation.interfaces",
    "build_evaluation": "ggk.evaluation.report",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports("ggk.evaluation", _EXPORTS)

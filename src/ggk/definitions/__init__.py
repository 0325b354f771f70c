"""Statistics as data: Table Schemas, SQL rules and period calendars (see interfaces)."""

from ggk.definitions.interfaces import (
    DatasetSpec,
    Definition,
    DefinitionError,
    DefinitionRegistry,
    FieldSpec,
    ForeignKey,
    InvalidPeriod,
    PeriodCalendar,
    Rule,
    UnknownPeriod,
)
from ggk.definitions.loader import load_definition, substitute_period
from ggk.definitions.periods import Period, period_bounds, previous_period
from ggk.definitions.registry import FolderRegistry, registry, shipped

__all__ = [
    "DatasetSpec",
    "Definition",
    "DefinitionError",
    "DefinitionRegistry",
    "FieldSpec",
    "FolderRegistry",
    "ForeignKey",
    "InvalidPeriod",
    "Period",
    "PeriodCalendar",
    "Rule",
    "UnknownPeriod",
    "load_definition",
    "period_bounds",
    "previous_period",
    "registry",
    "shipped",
    "substitute_period",
]

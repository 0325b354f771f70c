"""Contract of the definitions package: a statistic described as data.

A definition is a folder `<statistic>/<edition>/` holding a Frictionless-style `datapackage.json`
(one Table Schema per dataset), `rules.toml` (cross-field rules as SQL boolean expressions),
`calendar.toml` (the period calendar) and optionally `indicators.toml` (mirror-report indicators).
Nothing about a particular statistic lives in code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

FieldType = Literal["string", "date", "number", "integer"]
Severity = Literal["error", "warning"]


class DefinitionError(ValueError):
    """A definition folder that is broken; the message names the file and the problem."""


class UnknownPeriod(LookupError):
    """No definition covers this statistic and period."""


class InvalidPeriod(ValueError):
    """A period that is not written as 2026, 2026-H1, 2026-Q1 or 2026-01."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: FieldType
    title: str
    description: str
    required: bool = False
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    labels: dict[str, str] | None = None
    minimum: float | None = None
    date_format: str = "%Y-%m-%d"
    decimal_char: str = "."
    is_sender: bool = False  # must equal the delivering municipality (gemeentecode-afzender)
    elfproef: bool = False  # Dutch BSN eleven test
    personal: bool = False  # identifies a person: masked in reports, pseudonymised in storage


@dataclass(frozen=True, slots=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Dialect:
    delimiter: str = ";"
    quote_char: str = '"'


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    name: str
    title: str
    description: str
    required: bool
    dialect: Dialect
    fields: tuple[FieldSpec, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Rule:
    """A cross-field rule: `violation` is a SQL boolean expression over one row."""

    code: str
    dataset: str
    severity: Severity
    column: str | None
    requires: tuple[str, ...]
    violation: str
    title: str
    message: str
    description: str
    fix: str


@dataclass(frozen=True, slots=True)
class PeriodCalendar:
    period: str
    start: dt.date
    end: dt.date
    events: dict[str, dt.date]  # e.g. aanlevering_open, aanlevering_sluit, correctie_sluit, ...
    titles: dict[str, str]
    kind: str = "half-year"  # year | half-year | quarter | month (ggk.definitions.periods)


@dataclass(frozen=True, slots=True)
class Definition:
    statistic: str
    edition: str
    title: str
    description: str
    root: Path
    datasets: tuple[DatasetSpec, ...]
    rules: tuple[Rule, ...]
    periods: tuple[str, ...]
    timezone: str
    calendars: dict[str, PeriodCalendar] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)  # the datapackage.json as loaded
    period_kind: str = "half-year"  # year | half-year | quarter | month

    def file(self, key: str, default: str) -> Path:
        """A file of the folder named by datapackage key `ggk:<key>` (or its default name)."""
        return self.root / str(self.raw.get(f"ggk:{key}", default))

    def dataset(self, name: str) -> DatasetSpec:
        """The dataset spec by name; raises KeyError with the known names."""
        for d in self.datasets:
            if d.name == name:
                return d
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(self.dataset_names)}")

    @property
    def dataset_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.datasets)

    @property
    def required_dataset(self) -> str:
        """The dataset the others build on: the first one marked required (else the first)."""
        return next((d.name for d in self.datasets if d.required), self.datasets[0].name)

    def rules_for(self, dataset: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.dataset == dataset)

    def current_period(self, today: dt.date) -> str:
        """The period open for deliveries or corrections on `today` (from aanlevering_open to
        the last event), else the first period of this edition."""
        for period in self.periods:
            events = self.calendars[period].events
            opens = events.get("aanlevering_open", self.calendars[period].end)
            if opens <= today <= max(events.values(), default=opens):
                return period
        return self.periods[0]

    def calendar(self, period: str) -> PeriodCalendar:
        """The calendar of one period of this edition; raises UnknownPeriod."""
        try:
            return self.calendars[period]
        except KeyError:
            raise UnknownPeriod(
                f"period {period!r} is not in {self.statistic} {self.edition} "
                f"(known: {', '.join(self.periods)})"
            ) from None


class DefinitionRegistry(Protocol):
    def statistics(self) -> list[str]:
        """Names of the statistics that have at least one definition."""

    def for_period(self, statistic: str, period: str) -> Definition:
        """The definition that covers this period; raises UnknownPeriod."""

    def all(self) -> list[Definition]:
        """Every loaded definition."""

    def default_statistic(self) -> str:
        """The statistic used when none is named: the only one, or the first loaded."""

    def latest(self, statistic: str) -> Definition:
        """The last loaded edition of a statistic; raises UnknownPeriod when there is none."""

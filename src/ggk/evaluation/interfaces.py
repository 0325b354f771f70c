"""Contract of the evaluation package: what it needs to know of a period, as plain facts.

The evaluation never reads another package's tables. The station implements `EvaluationRecords`
over its own records (`ggk.station.evaluation_records.StationEvaluationRecords`); a test or another
source can implement it too. All moments are timezone-aware; the report shows them in
Europe/Amsterdam.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol


class EvaluationError(ValueError):
    """An evaluation that cannot be made (unknown period, no records); English, for operators."""


@dataclass(frozen=True, slots=True)
class DeliveryFact:
    """One validated delivery (a version of a dataset of one municipality)."""

    gemeente: str
    dataset: str
    version: int
    accepted: bool
    received_at: dt.datetime  # when the station recorded its verdict
    sent_at: dt.datetime | None  # when the municipality sent it (None: not recorded)
    technical_report_at: dt.datetime | None  # technical report sent and delivery acknowledged
    # spiegelrapport sent for this version (an accepted delivery of the required dataset)
    mirror_report_at: dt.datetime | None
    finding_codes: dict[str, int] = field(default_factory=dict)  # error code -> findings


@dataclass(frozen=True, slots=True)
class DecisionFact:
    """A besluit the station recorded (one per besluit message, whatever the datasets)."""

    gemeente: str
    besluit: str  # opt-in | intrekken
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class RefusalFact:
    """A message the station refused (weigering), with its reason code."""

    gemeente: str | None
    code: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class IncidentFact:
    """A channel incident as the station saw it: from the first failed poll of the hub to the
    first successful one after it (None while it lasts)."""

    started_at: dt.datetime
    ended_at: dt.datetime | None
    detail: str


class EvaluationRecords(Protocol):
    def deliveries(self, statistic: str, period: str) -> list[DeliveryFact]:
        """Every validated delivery of the period (all datasets, all versions), oldest first."""

    def decisions(self, statistic: str, period: str) -> list[DecisionFact]:
        """Every besluit recorded for the period, oldest first."""

    def final_states(self, statistic: str, period: str, dataset: str) -> dict[str, str]:
        """gemeentecode -> the workflow state of `dataset` now (only municipalities with one)."""

    def refusals(self, statistic: str, period: str) -> list[RefusalFact]:
        """Every refused delivery or besluit of the period, oldest first."""

    def extensions(self, statistic: str, period: str) -> dict[str, dt.date]:
        """gemeentecode -> the last day of its extension for the period."""

    def incidents(self, start: dt.datetime, end: dt.datetime) -> list[IncidentFact]:
        """Channel incidents that overlap [start, end], oldest first."""

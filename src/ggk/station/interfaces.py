"""The station's contract with the code around it: the handler of one message kind, and the
events a metrics or monitoring layer can follow (`Station(..., events=...)`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ggk.client.interfaces import Message
from ggk.station.outcomes import Outcome


class Decide(Protocol):
    def __call__(self, message: Message) -> Outcome:
        """Decide about one message and record the outcome with its replies (in one transaction
        with its effects); raises only when it could not decide (then it is tried again)."""


class StationEvents(Protocol):
    """What happens in the station, as it happens (for metrics). Must be quick and never raise."""

    def message_handled(self, message_type: str, outcome: str, seconds: float) -> None:
        """A message was decided, answered and acknowledged (pings: outcome `pong`)."""

    def message_failed(self, message_type: str, attempts: int, dead: bool) -> None:
        """Handling a message failed; `dead` when it is now a dead letter."""

    def mirror_sent(self, statistic: str, seconds: float) -> None:
        """A spiegelrapport was sent (`seconds` from claim to sent)."""

    def mailbox_read(self, messages: Sequence[Message]) -> None:
        """A page of the CBS mailbox was read (empty when nothing waits)."""

    def mailbox_failed(self, error: BaseException) -> None:
        """Reading the mailbox (or answering on it) failed: the hub is away or refuses."""


class NoEvents:
    """The default: nobody listens."""

    def message_handled(self, message_type: str, outcome: str, seconds: float) -> None:
        pass

    def message_failed(self, message_type: str, attempts: int, dead: bool) -> None:
        pass

    def mirror_sent(self, statistic: str, seconds: float) -> None:
        pass

    def mailbox_read(self, messages: Sequence[Message]) -> None:
        pass

    def mailbox_failed(self, error: BaseException) -> None:
        pass


# -- what the CBS dashboard reads and asks (implemented by ggk.station.period_records) -----------


class DashboardError(ValueError):
    """A dashboard request the station cannot do (unknown period, a date before the deadline);
    the message is Dutch, for the collection manager."""


@dataclass(frozen=True, slots=True)
class DatasetState:
    """One municipality x statistic x dataset of a period."""

    statistic: str
    period: str
    gemeente: str
    naam: str
    dataset: str
    required: bool
    state: str  # ggk.station.workflow.State value
    accepted_version: int | None
    versions: int
    last_delivery_at: dt.datetime | None
    deadline: dt.date | None  # the delivery deadline for this municipality (extension included)
    overdue: bool
    rejected: bool  # the newest version was rejected
    extension_until: dt.date | None
    flags: int  # spiegelrapport flags of the newest report (0 when none yet)
    comments: int  # toelichtingen and uitstelverzoeken from the municipality this period
    besluit: str | None  # opt-in | intrekken | None


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One validated delivery, for the chart of deliveries and acceptances."""

    at: dt.datetime
    gemeente: str
    dataset: str
    version: int
    accepted: bool


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of a municipality's history (the station's audit trail)."""

    at: dt.datetime
    event: str
    dataset: str | None
    from_state: str | None
    to_state: str | None
    message_id: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class DeliveryVersion:
    message_id: str
    dataset: str
    version: int
    file_name: str
    received_at: dt.datetime
    verdict: str
    rows: int
    errors: int
    warnings: int


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A report the station sent (technisch controlerapport, spiegelrapport) and its files."""

    reply_id: str
    type: str
    dataset: str | None
    version: int | None
    sent_at: dt.datetime | None
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Comment:
    """A toelichting (on a spiegelrapport flag) or uitstelverzoek the municipality sent."""

    at: dt.datetime
    kind: str  # toelichting | uitstelverzoek
    message_id: str | None
    fields: dict[str, str]  # what the municipality wrote (indicator, signaal, toelichting, ...)


@dataclass(frozen=True, slots=True)
class GemeenteFile:
    """Everything the dashboard shows about one municipality in one period of a statistic."""

    statistic: str
    period: str
    gemeente: str
    naam: str
    states: tuple[DatasetState, ...]
    versions: tuple[DeliveryVersion, ...]
    reports: tuple[StoredReport, ...]
    comments: tuple[Comment, ...]
    history: tuple[HistoryEntry, ...]
    flags: tuple[dict[str, Any], ...]  # the newest spiegelrapport's flags as it sent them


class PeriodRecords(Protocol):
    """The station's records as the CBS dashboard reads them, and the two things it may ask of
    the station: an extension and a reminder (both told to the municipality by the running
    station through the channel)."""

    def statistics(self) -> list[str]:
        """The statistics the station knows (from its definitions)."""

    def periods(self, statistic: str) -> list[str]:
        """Periods of a statistic with a calendar or with records, oldest first."""

    def calendar(self, statistic: str, period: str) -> dict[str, dt.date]:
        """The period's calendar events (name -> day); empty when the period has no calendar."""

    def states(self, statistic: str, period: str) -> list[DatasetState]:
        """Every municipality x dataset of the period, by gemeentecode and dataset."""

    def timeline(self, statistic: str, period: str) -> list[TimelineEvent]:
        """Every validated delivery of the period, oldest first."""

    def gemeente_file(self, statistic: str, period: str, gemeente: str) -> GemeenteFile:
        """One municipality's period; DashboardError for an unknown gemeentecode."""

    def report_file(self, reply_id: str, name: str) -> bytes:
        """A file of a report the station sent (its bytes; the station's files may be in object
        storage); DashboardError when there is no such file."""

    def grant_extension(self, statistic: str, period: str, gemeente: str, until: dt.date,
                        reason: str | None) -> None:
        """Record an extension (audited); the running station sends `<statistic>.uitstel`.
        DashboardError for a day not after the deadline or an unknown period."""

    def request_reminders(self, statistic: str, period: str, gemeenten: Sequence[str],
                          text: str) -> list[str]:
        """Queue a reminder (`<statistic>.herinnering`) to each of `gemeenten`; the running
        station sends them at its next poll. Returns the message ids."""

    def channel_failures(self) -> list[dict[str, Any]]:
        """Messages whose handling failed (dead letters included), newest first."""

"""Contract of ggk.portal: the municipality portal run by the hub operator.

The portal acts on the hub for a gemeente with that gemeente's own party certificate, which the
operator configures per gemeente (`ggk portal gemeente add`): to the hub and CBS the portal is the
gemeente, exactly like `ggk gemeente` on the command line, so the hub stays payload-blind and
unchanged. Which person did it is recorded in the portal's audit trail (ggk.web) and in the
message metadata (`namens`). The portal is that gemeente's mailbox: it fetches, saves and
acknowledges the reports CBS sends, so a gemeente uses either the portal or the CLI for them.

Texts for municipalities are Dutch (PortalError); errors at operators are English.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ggk.conversation import Kind, kind_of

UploadState = Literal["uploaden", "controleren", "gecontroleerd", "versturen", "verstuurd",
                      "mislukt"]


class PortalError(Exception):
    """Something the user can fix or should know (Dutch message, shown in the page)."""


class PortalSetupError(Exception):
    """The operator's configuration is wrong (English; `ggk portal` exits with code 2)."""


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current moment, timezone-aware (simulated in the demo and tests)."""


@dataclass(frozen=True, slots=True)
class GemeenteConnection:
    """How the portal reaches the hub for one gemeente."""

    code: str  # GM0363
    name: str  # Gemeente Amsterdam
    oin: str
    cert: Path  # PEM with certificate and unencrypted key, readable by the portal only


@dataclass(frozen=True, slots=True)
class CalendarLine:
    name: str
    title: str
    date: dt.date
    days_left: int  # negative: passed


@dataclass(frozen=True, slots=True)
class DatasetLine:
    """The state of one dataset (or the besluit) in a period, in Dutch, with the next step."""

    onderwerp: str
    title: str
    required: bool
    status: str
    tone: Literal["ok", "warn", "error", "neutral"]
    detail: str
    next_step: str


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A report from CBS the portal fetched and saved (folder under the gemeente's reports)."""

    key: str  # "<period>/<dataset>/<folder>", the URL part
    type: str  # <statistic>.technisch-controlerapport, <statistic>.spiegelrapport, ...
    message_id: str
    in_reply_to: str | None
    period: str
    onderwerp: str
    created_at: dt.datetime | None
    metadata: dict[str, Any]
    directory: Path
    files: tuple[str, ...]

    @property
    def kind(self) -> Kind | None:
        """What the report is, whatever the statistic (ggk.conversation)."""
        return kind_of(self.type)

    @property
    def title(self) -> str:
        return REPORT_TITLES.get(self.kind, self.type) if self.kind else self.type


REPORT_TITLES = {
    Kind.TECHNISCH_CONTROLERAPPORT: "Technisch controlerapport",
    Kind.SPIEGELRAPPORT: "Spiegelrapport",
    Kind.BEVESTIGING: "Bevestiging van CBS",
    Kind.WEIGERING: "Weigering door CBS",
    Kind.UITSTEL: "Uitstel toegekend",
}


@dataclass
class Upload:
    id: str
    gemeente: str
    period: str
    dataset: str
    file_name: str
    size: int
    offset: int
    state: UploadState
    created_by: str
    created_at: dt.datetime
    verdict: str | None = None
    report: dict[str, Any] | None = None  # the local check's technisch controlerapport
    message_id: str | None = None
    sent_bytes: int = 0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class GemeenteDesk(Protocol):
    """What the portal does for one gemeente (implemented by ggk.portal.service.Desk)."""

    def calendar(self, period: str) -> list[CalendarLine]:
        """The period's dates (deadlines) with the days left from the portal's clock."""

    def datasets(self, period: str) -> list[DatasetLine]:
        """Per dataset and the besluit: state, detail and the next step (Dutch)."""

    def reports(self, period: str | None = None) -> list[StoredReport]:
        """Every saved report of this gemeente (of `period`), newest first."""

    def collect(self) -> list[StoredReport]:
        """Fetch, save and acknowledge what CBS sent since the last time; returns what is new."""

    def send_upload(self, upload: Upload, namens: str) -> str:
        """Send a checked upload to CBS as <statistic>.aanlevering; returns the message id."""

    def send_besluit(self, period: str, besluit: str, toelichting: str, namens: str) -> str:
        """Send a besluit (opt-in / intrekken) to CBS; returns the message id."""

    def send_flag_comment(self, report: StoredReport, indicator: str, soort: str, text: str,
                          namens: str) -> str:
        """Send a toelichting on one spiegelrapport flag to CBS; returns the message id."""

    def request_extension(self, period: str, dataset: str, until: dt.date, reason: str,
                          namens: str) -> str:
        """Ask CBS for more time (<statistic>.uitstelverzoek); returns the message id."""

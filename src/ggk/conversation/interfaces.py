"""The conversation between a municipality and CBS, in one place: message kinds, the metadata of
every kind, and conversation ids. The gemeente side (ggk.gemeente), the station (ggk.station)
and the tests all build and read messages through these types, never through string literals.

A message type is `<family>.<kind>` (the family is the statistic, e.g.
`<statistic>.aanlevering`); the statistic a message is about is in its metadata. A reply is in
the family of the message it answers.
`ggk.ping`/`ggk.pong` belong to the channel (ggk.client), not to this conversation.

TEST: an aanlevering or besluit with `test: true` in its metadata is test traffic (the ketentest
and the burentest send it). CBS answers it like any other message (reports, spiegelrapport,
bevestiging, each with `test: true`), but it never counts as the municipality's accepted data,
in figures of others or publications, nor as its besluit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any, Self

PING = "ggk.ping"
PONG = "ggk.pong"
PING_TYPES = (PING, PONG)


class Kind(StrEnum):
    """What a message is, whatever the statistic."""

    AANLEVERING = "aanlevering"  # gemeente -> CBS: one dataset file of a period
    BESLUIT = "besluit"  # gemeente -> CBS: opt-in or intrekken for a period
    TECHNISCH_CONTROLERAPPORT = "technisch-controlerapport"  # CBS: validation of a delivery
    SPIEGELRAPPORT = "spiegelrapport"  # CBS: mirror report after an accepted dataset
    BEVESTIGING = "bevestiging"  # CBS: a besluit was recorded
    WEIGERING = "weigering"  # CBS: a message could not be taken, with the reason
    UITSTEL = "uitstel"  # CBS: an extension granted; the period's deadlines move later
    HERINNERING = "herinnering"  # CBS: a reminder that a period's delivery is still missing
    TOELICHTING = "toelichting"  # gemeente -> CBS: an explanation of a spiegelrapport flag
    UITSTELVERZOEK = "uitstelverzoek"  # gemeente -> CBS: a request for more time


TO_CBS = (Kind.AANLEVERING, Kind.BESLUIT)
FROM_CBS = (Kind.TECHNISCH_CONTROLERAPPORT, Kind.SPIEGELRAPPORT, Kind.BEVESTIGING,
            Kind.WEIGERING, Kind.UITSTEL, Kind.HERINNERING)
BESLUITEN = ("opt-in", "intrekken")
# The first answer CBS gives to a message of each kind (a spiegelrapport follows later).
ANSWERS = {Kind.AANLEVERING: (Kind.TECHNISCH_CONTROLERAPPORT, Kind.WEIGERING),
           Kind.BESLUIT: (Kind.BEVESTIGING, Kind.WEIGERING),
           Kind.TOELICHTING: (Kind.BEVESTIGING, Kind.WEIGERING),
           Kind.UITSTELVERZOEK: (Kind.BEVESTIGING, Kind.WEIGERING)}
# Notices change no state at CBS: the station keeps them for the collection manager and confirms.
NOTICES = (Kind.TOELICHTING, Kind.UITSTELVERZOEK)


class MissingMetadata(ValueError):
    """A message lacks metadata its kind needs; `missing` names the fields."""

    def __init__(self, kind: Kind, missing: list[str]) -> None:
        super().__init__(f"{kind.value} metadata lacks {', '.join(missing)}")
        self.kind = kind
        self.missing = missing


@dataclass(frozen=True, slots=True)
class MessageType:
    """`<family>.<kind>` of a conversation message."""

    family: str
    kind: Kind

    def __str__(self) -> str:
        return f"{self.family}.{self.kind.value}"

    @classmethod
    def parse(cls, text: str) -> MessageType | None:
        """The type of a conversation message, or None for any other type (pings, unknown)."""
        family, _, kind = text.rpartition(".")
        if not family or kind not in Kind._value2member_map_:
            return None
        return cls(family, Kind(kind))

    @staticmethod
    def family_of(text: str) -> str:
        """The family of any message type, also one this protocol does not know."""
        return text.rpartition(".")[0] or text

    def reply(self, kind: Kind) -> MessageType:
        """The type of a reply of `kind` to a message of this type (same family)."""
        return MessageType(self.family, kind)


def message_type(statistic: str, kind: Kind) -> str:
    """The message type of `kind` about `statistic` (e.g. `<statistic>.aanlevering`)."""
    return str(MessageType(statistic, kind))


def kind_of(text: str) -> Kind | None:
    """The kind of a message type, or None when it is not a conversation message."""
    parsed = MessageType.parse(text)
    return parsed.kind if parsed else None


@dataclass(frozen=True, slots=True)
class ConversationId:
    """`statistic/period/gemeente/topic`: topic is a dataset, `besluit` or `spiegelrapport`."""

    statistic: str
    period: str
    gemeente: str
    topic: str

    BESLUIT = "besluit"
    SPIEGELRAPPORT = "spiegelrapport"
    UITSTEL = "uitstel"
    HERINNERING = "herinnering"

    def __str__(self) -> str:
        return f"{self.statistic}/{self.period}/{self.gemeente}/{self.topic}"

    @classmethod
    def parse(cls, text: str | None) -> ConversationId | None:
        parts = (text or "").split("/")
        return cls(*parts) if len(parts) == 4 else None


def conversation_id(statistic: str, period: str, gemeente: str, topic: str) -> str:
    """The conversation of one dataset (or the besluit, or the mirror report) of a period."""
    return str(ConversationId(statistic, period, gemeente, topic))


class _Metadata:
    """Metadata of one kind: `as_metadata()` for sending, `from_metadata()` for reading."""

    KIND: Kind
    REQUIRED: tuple[str, ...] = ()

    def as_metadata(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}  # type: ignore[call-overload]

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any] | None) -> Self:
        """Read a message's metadata; MissingMetadata names the required fields that are empty.
        Unknown keys are ignored, so either side can add a field first."""
        metadata = metadata or {}
        missing = [name for name in cls.REQUIRED if metadata.get(name) in (None, "")]
        if missing:
            raise MissingMetadata(cls.KIND, missing)
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in metadata.items() if k in names})


@dataclass(frozen=True, slots=True)
class AanleveringMetadata(_Metadata):
    statistic: str
    period: str
    dataset: str
    gemeente: str
    file_name: str | None = None
    test: bool | None = None  # sent by the ketentest/burentest: never counts (TEST below)

    KIND = Kind.AANLEVERING
    REQUIRED = ("statistic", "period", "dataset", "gemeente")

    @property
    def conversation(self) -> str:
        return conversation_id(self.statistic, self.period, self.gemeente, self.dataset)


@dataclass(frozen=True, slots=True)
class BesluitMetadata(_Metadata):
    statistic: str
    period: str
    besluit: str  # one of BESLUITEN
    toelichting: str | None = None
    gemeente: str | None = None  # optional: the station takes it from the sender's certificate
    test: bool | None = None  # about the test deliveries only (TEST below)

    KIND = Kind.BESLUIT
    REQUIRED = ("statistic", "period", "besluit")


@dataclass(frozen=True, slots=True)
class RapportMetadata(_Metadata):
    """Of a technisch controlerapport (the files are report.json, report.html, findings.csv)."""

    statistic: str
    period: str
    gemeente: str
    dataset: str
    verdict: str  # goedgekeurd | afgekeurd
    versie: int
    rows: int | None
    errors: int | None
    warnings: int | None
    toestand: str  # the workflow state after this delivery
    test: bool | None = None  # the delivery was test traffic

    KIND = Kind.TECHNISCH_CONTROLERAPPORT


@dataclass(frozen=True, slots=True)
class SpiegelrapportMetadata(_Metadata):
    statistic: str
    period: str
    gemeente: str
    versie: int  # the version of `dataset` whose acceptance this report follows
    dataset: str | None = None  # the accepted dataset it follows (any of the statistic)
    test: bool | None = None  # built on the gemeente's test deliveries (TEST below)

    KIND = Kind.SPIEGELRAPPORT


@dataclass(frozen=True, slots=True)
class BevestigingMetadata(_Metadata):
    statistic: str
    period: str
    gemeente: str
    besluit: str
    datasets: list[str] = field(default_factory=list)
    bericht: str = ""
    test: bool | None = None  # a besluit about test deliveries: recorded for the test only

    KIND = Kind.BEVESTIGING


@dataclass(frozen=True, slots=True)
class WeigeringMetadata(_Metadata):
    """`reden` is a stable code, `bericht` Dutch text that says what is possible instead; the
    other fields repeat what the refused message said, when it said it."""

    reden: str
    bericht: str
    statistic: str | None = None
    period: str | None = None
    dataset: str | None = None
    gemeente: str | None = None
    besluit: str | None = None

    KIND = Kind.WEIGERING


@dataclass(frozen=True, slots=True)
class UitstelMetadata(_Metadata):
    """An extension CBS granted (`ggk station extend`): `tot` is its last day (ISO date), `bericht`
    Dutch text naming which deadlines move to which day, `reden` the operator's explanation."""

    statistic: str
    period: str
    gemeente: str
    tot: str
    bericht: str
    reden: str | None = None

    KIND = Kind.UITSTEL
    REQUIRED = ("statistic", "period", "gemeente", "tot")


@dataclass(frozen=True, slots=True)
class HerinneringMetadata(_Metadata):
    """A reminder from CBS (sent from the CBS dashboard): `bericht` is the Dutch text, `deadline`
    the day the delivery closes for this municipality (ISO date, extension included)."""

    statistic: str
    period: str
    gemeente: str
    bericht: str
    deadline: str | None = None

    KIND = Kind.HERINNERING
    REQUIRED = ("statistic", "period", "gemeente", "bericht")

"""The delivery workflow: ONE state machine per (statistic, period, gemeente, dataset).

Everything about which event may happen in which state, and under which calendar condition, lives in
this module: the states, the events, the transition table `TRANSITIONS` and the guards. The station
service only asks `decide(...)` and stores what comes back; docs/workflow.md is drawn from the table
by `mermaid_diagram()` (a test keeps the two equal).

Besides the state, a workflow record carries `accepted_version`: the version of the accepted data
that counts. No transition ever clears it; a rejected correction leaves it in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from zoneinfo import ZoneInfo

from ggk.definitions import Definition, DefinitionError, PeriodCalendar

# The calendar events this workflow reads: a statistic the station handles must date all four.
CALENDAR_EVENTS = ("aanlevering_open", "aanlevering_sluit", "correctie_sluit", "besluit_deadline")


def check_calendars(definition: Definition) -> None:
    """Refuse (DefinitionError) a definition whose calendar lacks an event this workflow reads,
    before any message of it arrives."""
    for period, calendar in definition.calendars.items():
        missing = [e for e in CALENDAR_EVENTS if e not in calendar.events]
        if missing:
            raise DefinitionError(
                f"{definition.root}: the calendar of {definition.statistic} {period} lacks "
                f"{', '.join(missing)}; the delivery workflow needs {', '.join(CALENDAR_EVENTS)}")


class State(StrEnum):
    GEEN_AANLEVERING = "geen-aanlevering"
    ONTVANGEN = "ontvangen"  # first delivery received, being validated
    AFGEKEURD = "afgekeurd"  # rejected, no accepted data
    GOEDGEKEURD = "goedgekeurd"
    SPIEGELRAPPORT_VERZONDEN = "spiegelrapport-verzonden"
    CORRECTIE_ONTVANGEN = "correctie-ontvangen"  # later delivery, being validated
    CORRECTIE_AFGEKEURD = "correctie-afgekeurd"  # rejected correction; earlier accepted data stands
    OPT_IN = "opt-in"  # consented to publication
    INGETROKKEN = "ingetrokken"  # withdrawn: excluded from every aggregate


class Event(StrEnum):
    AANLEVERING = "aanlevering"  # a delivery arrives (first or correction)
    GOEDGEKEURD = "goedgekeurd"  # validation without errors
    AFGEKEURD = "afgekeurd"  # validation with errors
    SPIEGELRAPPORT = "spiegelrapport"  # mirror report sent
    OPT_IN = "opt-in"
    INTREKKEN = "intrekken"


# States that hold accepted data (accepted_version is not None).
WITH_ACCEPTED_DATA = frozenset({
    State.GOEDGEKEURD, State.SPIEGELRAPPORT_VERZONDEN, State.CORRECTIE_AFGEKEURD, State.OPT_IN,
    State.INGETROKKEN,
})
# Transient states: only inside the station's processing of one delivery.
IN_PROGRESS = frozenset({State.ONTVANGEN, State.CORRECTIE_ONTVANGEN})
DECIDED = frozenset({State.OPT_IN, State.INGETROKKEN})


@dataclass(frozen=True, slots=True)
class Transition:
    source: State
    event: Event
    target: State
    guard: str  # name in GUARDS; "altijd" = no condition
    label: str  # Dutch, shown in the diagram


# The transition table. Order matters when two rows share (source, event): the first whose guard
# passes wins (only AFGEKEURD from CORRECTIE_ONTVANGEN uses that).
TRANSITIONS: tuple[Transition, ...] = (
    Transition(State.GEEN_AANLEVERING, Event.AANLEVERING, State.ONTVANGEN, "aanleverperiode",
               "eerste aanlevering"),
    Transition(State.ONTVANGEN, Event.GOEDGEKEURD, State.GOEDGEKEURD, "altijd", "goedgekeurd"),
    Transition(State.ONTVANGEN, Event.AFGEKEURD, State.AFGEKEURD, "altijd", "afgekeurd"),
    *(Transition(s, Event.AANLEVERING, State.CORRECTIE_ONTVANGEN, "correctieperiode",
                 "correctielevering")
      for s in (State.AFGEKEURD, State.GOEDGEKEURD, State.SPIEGELRAPPORT_VERZONDEN,
                State.CORRECTIE_AFGEKEURD, State.OPT_IN, State.INGETROKKEN)),
    Transition(State.CORRECTIE_ONTVANGEN, Event.GOEDGEKEURD, State.GOEDGEKEURD, "altijd",
               "goedgekeurd (vervangt vorige)"),
    Transition(State.CORRECTIE_ONTVANGEN, Event.AFGEKEURD, State.CORRECTIE_AFGEKEURD,
               "heeft_goedgekeurde_data", "afgekeurd (vorige blijft)"),
    Transition(State.CORRECTIE_ONTVANGEN, Event.AFGEKEURD, State.AFGEKEURD, "altijd", "afgekeurd"),
    Transition(State.GOEDGEKEURD, Event.SPIEGELRAPPORT, State.SPIEGELRAPPORT_VERZONDEN, "altijd",
               "spiegelrapport verzonden"),
    *(Transition(s, Event.OPT_IN, State.OPT_IN, "besluitperiode", "opt-in")
      for s in (State.GOEDGEKEURD, State.SPIEGELRAPPORT_VERZONDEN, State.CORRECTIE_AFGEKEURD,
                State.OPT_IN, State.INGETROKKEN)),
    *(Transition(s, Event.INTREKKEN, State.INGETROKKEN, "besluitperiode", "intrekken")
      for s in (State.GOEDGEKEURD, State.SPIEGELRAPPORT_VERZONDEN, State.CORRECTIE_AFGEKEURD,
                State.OPT_IN, State.INGETROKKEN)),
)


@dataclass(frozen=True, slots=True)
class Record:
    """The workflow state of one (statistic, period, gemeente, dataset)."""

    state: State = State.GEEN_AANLEVERING
    accepted_version: int | None = None  # the accepted data that counts (never lost)
    versions: int = 0  # deliveries that were validated (accepted or rejected)


@dataclass(frozen=True, slots=True)
class Context:
    """What the guards look at besides the record: the clock and the calendar."""

    now: dt.datetime
    calendar: PeriodCalendar
    timezone: str = "Europe/Amsterdam"
    extension_until: dt.date | None = None  # operator extension for this gemeente
    dataset: str = ""  # the dataset of this record; empty: the required one
    required_accepted: bool = True  # the required dataset is accepted: matters for the others
    required_dataset: str = ""  # the dataset the others build on (Definition.required_dataset)

    @property
    def today(self) -> dt.date:
        """The calendar date at `now` in the definition's timezone (calendar dates are local)."""
        return self.now.astimezone(ZoneInfo(self.timezone)).date()

    def closes(self, event: str) -> dt.date:
        """The last allowed day of a window; an operator extension moves it later, never earlier."""
        day = self.calendar.events[event]
        if self.extension_until is not None and self.extension_until > day:
            return self.extension_until
        return day


class Refused(Exception):
    """An event the workflow does not allow now; `message` is Dutch and says what is possible."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _nl(day: dt.date) -> str:
    months = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
              "september", "oktober", "november", "december")
    return f"{day.day} {months[day.month - 1]} {day.year}"


dutch_date = _nl  # a calendar day in Dutch (30 september 2026), also for the extension notice


def _guard_aanleverperiode(record: Record, ctx: Context) -> None:
    opens, closes = ctx.calendar.events["aanlevering_open"], ctx.closes("aanlevering_sluit")
    if ctx.today < opens:
        raise Refused("te-vroeg", (
            f"De aanleverperiode voor {ctx.calendar.period} is nog niet open. U kunt aanleveren "
            f"van {_nl(opens)} tot en met {_nl(closes)}."))
    if ctx.today > closes:
        raise Refused("aanleverperiode-gesloten", (
            f"De aanleverperiode voor {ctx.calendar.period} is gesloten op {_nl(closes)}. Een "
            "eerste aanlevering is niet meer mogelijk; vraag CBS om uitstel als u nog wilt "
            "aanleveren."))


def _guard_correctieperiode(record: Record, ctx: Context) -> None:
    opens, closes = ctx.calendar.events["aanlevering_open"], ctx.closes("correctie_sluit")
    if ctx.today < opens:  # cannot happen with an earlier delivery, but keep the window closed
        raise Refused("te-vroeg", (
            f"De aanleverperiode voor {ctx.calendar.period} is nog niet open. U kunt aanleveren "
            f"vanaf {_nl(opens)}."))
    if ctx.today > closes:
        raise Refused("correctieperiode-gesloten", (
            f"De correctieperiode voor {ctx.calendar.period} is gesloten op {_nl(closes)}. Een "
            "correctielevering is niet meer mogelijk; uw eerder goedgekeurde levering blijft "
            "staan. Vraag CBS om uitstel als een correctie echt nodig is."))


def _guard_besluitperiode(record: Record, ctx: Context) -> None:
    closes = ctx.closes("besluit_deadline")
    if ctx.today > closes:
        raise Refused("besluitperiode-gesloten", (
            f"De uiterste datum voor een besluit over {ctx.calendar.period} was {_nl(closes)}. "
            "Uw laatst vastgelegde besluit blijft gelden; neem contact op met CBS als u het wilt "
            "wijzigen."))


def _guard_heeft_goedgekeurde_data(record: Record, ctx: Context) -> None:
    if record.accepted_version is None:
        raise Refused("geen-goedgekeurde-levering", "er is geen goedgekeurde levering")


def _guard_altijd(record: Record, ctx: Context) -> None:
    return None


GUARDS: dict[str, Callable[[Record, Context], None]] = {
    "aanleverperiode": _guard_aanleverperiode,
    "correctieperiode": _guard_correctieperiode,
    "besluitperiode": _guard_besluitperiode,
    "heeft_goedgekeurde_data": _guard_heeft_goedgekeurde_data,
    "altijd": _guard_altijd,
}


def _refusal_without_row(record: Record, event: Event, ctx: Context) -> Refused:
    """The Dutch refusal for an event that has no row from this state."""
    period = ctx.calendar.period
    if event in (Event.OPT_IN, Event.INTREKKEN):
        return Refused("geen-goedgekeurde-levering", (
            f"Een besluit ({event.value}) over {period} kan pas na een goedgekeurde aanlevering. "
            f"Lever eerst de dataset {ctx.required_dataset} aan; na goedkeuring kunt u opt-in "
            "geven of intrekken."))
    if event is Event.AANLEVERING and record.state in IN_PROGRESS:
        return Refused("in-behandeling", (
            f"Er is al een aanlevering voor {period} in behandeling. Wacht op het technisch "
            "controlerapport en lever daarna zo nodig een correctie aan."))
    return Refused("ongeldige-overgang", (
        f"'{event.value}' is niet mogelijk in de toestand '{record.state.value}'."))


def decide(record: Record, event: Event, ctx: Context, *, version: int | None = None) -> Record:
    """The record after `event`, or Refused (Dutch message) when it is not allowed now.

    `version` is the delivery version that the event concerns (for GOEDGEKEURD: the version that
    becomes the accepted data).
    """
    needs_required = ctx.dataset != ctx.required_dataset and not ctx.required_accepted
    if event is Event.AANLEVERING and needs_required:
        raise Refused("verplichte-dataset-ontbreekt", (
            f"Een aanlevering van '{ctx.dataset}' voor {ctx.calendar.period} kan pas als er een "
            f"goedgekeurde aanlevering van '{ctx.required_dataset}' is (die niet is ingetrokken). "
            f"Lever eerst '{ctx.required_dataset}' aan."))
    rows = [t for t in TRANSITIONS if t.source is record.state and t.event is event]
    if not rows:
        raise _refusal_without_row(record, event, ctx)
    last: Refused | None = None
    for row in rows:
        try:
            GUARDS[row.guard](record, ctx)
        except Refused as refused:
            last = refused
            continue
        return _apply(record, row, version)
    assert last is not None
    raise last


def _apply(record: Record, row: Transition, version: int | None) -> Record:
    if row.event is Event.GOEDGEKEURD:
        if version is None:
            raise ValueError("GOEDGEKEURD needs the accepted version")
        return replace(record, state=row.target, accepted_version=version,
                       versions=record.versions + 1)
    if row.event is Event.AFGEKEURD:
        return replace(record, state=row.target, versions=record.versions + 1)
    return replace(record, state=row.target)


def is_valid(record: Record) -> bool:
    """The invariant: accepted data exactly in the states that hold it (or while validating one)."""
    if record.state in WITH_ACCEPTED_DATA:
        return record.accepted_version is not None
    if record.state in (State.GEEN_AANLEVERING, State.ONTVANGEN, State.AFGEKEURD):
        return record.accepted_version is None
    return True  # CORRECTIE_ONTVANGEN: with or without earlier accepted data


def is_overdue(record: Record, ctx: Context) -> bool:
    """Te laat: past the delivery deadline (with extension) and still no accepted data.

    Only the required dataset can be overdue; the others are optional.
    """
    if ctx.dataset != ctx.required_dataset:
        return False
    return record.accepted_version is None and ctx.today > ctx.closes("aanlevering_sluit")


def counts_in_aggregates(record: Record) -> bool:
    """Whether the accepted data of this record is used by aggregates (mirror, publication)."""
    return record.accepted_version is not None and record.state is not State.INGETROKKEN


def mermaid_diagram() -> str:
    """The state diagram (Mermaid stateDiagram-v2) drawn from TRANSITIONS."""
    ids = {s: s.name.lower() for s in State}
    lines = ["stateDiagram-v2"]
    for s in State:
        lines.append(f'    state "{s.value}" as {ids[s]}')
    lines.append(f"    [*] --> {ids[State.GEEN_AANLEVERING]}")
    for t in TRANSITIONS:
        guard = "" if t.guard == "altijd" else f" [{t.guard}]"
        lines.append(f"    {ids[t.source]} --> {ids[t.target]}: {t.label}{guard}")
    return "\n".join(lines) + "\n"

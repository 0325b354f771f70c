"""The workflow state machine: guards from the calendar, refusals in Dutch, the drawn diagram, and
a hypothesis state machine that throws random event sequences at it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import hypothesis.strategies as st
import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ggk.definitions import shipped
from ggk.station.workflow import (
    TRANSITIONS,
    Context,
    Event,
    Record,
    Refused,
    State,
    counts_in_aggregates,
    decide,
    is_overdue,
    is_valid,
    mermaid_diagram,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "workflow.md"
CALENDAR = shipped().for_period("gmsd", "2026-H1").calendar("2026-H1")
AMS = ZoneInfo("Europe/Amsterdam")


def at(day: str, hour: int = 12) -> dt.datetime:
    d = dt.date.fromisoformat(day)
    return dt.datetime(d.year, d.month, d.day, hour, tzinfo=AMS)


def ctx(day: str, **kw: object) -> Context:
    kw.setdefault("required_dataset", "basis")  # GMSD's; the station takes it from the definition
    kw.setdefault("dataset", "basis")
    return Context(now=at(day), calendar=CALENDAR, **kw)  # type: ignore[arg-type]


def test_first_delivery_only_inside_the_aanleverperiode() -> None:
    assert decide(Record(), Event.AANLEVERING, ctx("2026-08-15")).state is State.ONTVANGEN
    assert decide(Record(), Event.AANLEVERING, ctx("2026-09-30")).state is State.ONTVANGEN
    with pytest.raises(Refused) as early:
        decide(Record(), Event.AANLEVERING, ctx("2026-08-14"))
    assert early.value.code == "te-vroeg" and "15 augustus 2026" in early.value.message
    with pytest.raises(Refused) as late:
        decide(Record(), Event.AANLEVERING, ctx("2026-10-01"))
    assert late.value.code == "aanleverperiode-gesloten"
    assert "uitstel" in late.value.message  # says what is possible instead


def test_calendar_dates_are_local_amsterdam_days() -> None:
    # 30 Sep 23:30 in Amsterdam is 21:30 UTC: still inside; 1 Oct 00:30 local is 30 Sep UTC: out
    inside = Context(now=dt.datetime(2026, 9, 30, 21, 30, tzinfo=dt.UTC), calendar=CALENDAR)
    assert decide(Record(), Event.AANLEVERING, inside).state is State.ONTVANGEN
    outside = Context(now=dt.datetime(2026, 9, 30, 22, 30, tzinfo=dt.UTC), calendar=CALENDAR)
    with pytest.raises(Refused):
        decide(Record(), Event.AANLEVERING, outside)


def test_extension_moves_deadlines_later_only() -> None:
    late = ctx("2026-10-05", extension_until=dt.date(2026, 10, 10))
    assert decide(Record(), Event.AANLEVERING, late).state is State.ONTVANGEN
    earlier = ctx("2026-09-20", extension_until=dt.date(2026, 9, 1))
    assert decide(Record(), Event.AANLEVERING, earlier).state is State.ONTVANGEN


def test_correction_until_correctie_sluit_and_rejected_correction_keeps_data() -> None:
    accepted = Record(State.GOEDGEKEURD, accepted_version=1, versions=1)
    received = decide(accepted, Event.AANLEVERING, ctx("2026-10-15"))
    assert received.state is State.CORRECTIE_ONTVANGEN
    rejected = decide(received, Event.AFGEKEURD, ctx("2026-10-15"), version=2)
    assert rejected == Record(State.CORRECTIE_AFGEKEURD, accepted_version=1, versions=2)
    with pytest.raises(Refused) as closed:
        decide(accepted, Event.AANLEVERING, ctx("2026-10-16"))
    assert closed.value.code == "correctieperiode-gesloten"
    assert "blijft staan" in closed.value.message


def test_facultatief_without_accepted_basis_refused() -> None:
    with pytest.raises(Refused) as refused:
        decide(Record(), Event.AANLEVERING,
               ctx("2026-09-01", dataset="facultatief", required_accepted=False))
    assert refused.value.code == "verplichte-dataset-ontbreekt"
    assert "Lever eerst 'basis' aan" in refused.value.message
    ok = ctx("2026-09-01", dataset="facultatief", required_accepted=True)
    assert decide(Record(), Event.AANLEVERING, ok).state is State.ONTVANGEN


def test_besluit_before_accepted_delivery_refused_and_until_deadline() -> None:
    for state in (State.GEEN_AANLEVERING, State.AFGEKEURD):
        with pytest.raises(Refused) as refused:
            decide(Record(state), Event.OPT_IN, ctx("2026-09-01"))
        assert refused.value.code == "geen-goedgekeurde-levering"
        assert "Lever eerst" in refused.value.message
    accepted = Record(State.SPIEGELRAPPORT_VERZONDEN, 1, 1)
    withdrawn = decide(accepted, Event.INTREKKEN, ctx("2026-10-20"))
    assert withdrawn.state is State.INGETROKKEN and not counts_in_aggregates(withdrawn)
    restored = decide(withdrawn, Event.OPT_IN, ctx("2026-10-31"))
    assert restored.state is State.OPT_IN and counts_in_aggregates(restored)
    with pytest.raises(Refused) as late:
        decide(withdrawn, Event.OPT_IN, ctx("2026-11-01"))
    assert late.value.code == "besluitperiode-gesloten"


def test_overdue_is_derived_for_the_required_dataset_only() -> None:
    assert not is_overdue(Record(), ctx("2026-09-30"))
    assert is_overdue(Record(), ctx("2026-10-01"))
    assert is_overdue(Record(State.AFGEKEURD, None, 1), ctx("2026-10-01"))
    assert not is_overdue(Record(State.GOEDGEKEURD, 1, 1), ctx("2026-10-01"))
    assert not is_overdue(Record(), ctx("2026-10-01", dataset="facultatief"))
    assert not is_overdue(Record(), ctx("2026-10-01", extension_until=dt.date(2026, 10, 5)))


def test_every_guard_and_state_of_the_table_exists() -> None:
    from ggk.station.workflow import GUARDS

    assert {t.guard for t in TRANSITIONS} <= set(GUARDS)
    reachable = {State.GEEN_AANLEVERING} | {t.target for t in TRANSITIONS}
    assert reachable == set(State)


def test_docs_diagram_matches_the_transition_table() -> None:
    text = DOCS.read_text("utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    assert blocks, "docs/workflow.md has no mermaid block"
    assert blocks[0] == mermaid_diagram(), (
        "docs/workflow.md is out of date: paste ggk.station.workflow.mermaid_diagram()")


DAYS = st.dates(min_value=dt.date(2026, 8, 1), max_value=dt.date(2026, 11, 15))


class WorkflowMachine(RuleBasedStateMachine):
    """Random events at random days: the record always satisfies the invariant, accepted data is
    only ever replaced by a newer accepted version, and refusals change nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.record = Record()
        self.accepted_history: list[int] = []

    def _try(self, event: Event, day: dt.date, **kw: object) -> None:
        before = self.record
        context = Context(now=dt.datetime(day.year, day.month, day.day, 12, tzinfo=AMS),
                          calendar=CALENDAR, **kw)  # type: ignore[arg-type]
        try:
            self.record = decide(before, event, context, version=before.versions + 1)
        except Refused as refused:
            assert refused.message and refused.code
            assert self.record == before
            return
        if self.record.accepted_version != before.accepted_version:
            assert event is Event.GOEDGEKEURD
            assert self.record.accepted_version == before.versions + 1
            self.accepted_history.append(self.record.accepted_version)

    @rule(day=DAYS, extension=st.none() | DAYS)
    def aanlevering(self, day: dt.date, extension: dt.date | None) -> None:
        self._try(Event.AANLEVERING, day, extension_until=extension)

    @rule(day=DAYS, accepted=st.booleans())
    def validated(self, day: dt.date, accepted: bool) -> None:
        self._try(Event.GOEDGEKEURD if accepted else Event.AFGEKEURD, day)

    @rule(day=DAYS)
    def spiegelrapport(self, day: dt.date) -> None:
        self._try(Event.SPIEGELRAPPORT, day)

    @rule(day=DAYS, event=st.sampled_from([Event.OPT_IN, Event.INTREKKEN]))
    def besluit(self, day: dt.date, event: Event) -> None:
        self._try(event, day)

    @invariant()
    def valid(self) -> None:
        assert is_valid(self.record), self.record

    @invariant()
    def accepted_data_never_lost(self) -> None:
        if self.accepted_history:
            assert self.record.accepted_version == self.accepted_history[-1]
        else:
            assert self.record.accepted_version is None


TestWorkflowMachine = WorkflowMachine.TestCase
TestWorkflowMachine.settings = settings(max_examples=300, stateful_step_count=30, deadline=None)

"""The operator view: every gemeente x dataset of a period with its state and the totals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from ggk.clock import Clock
from ggk.definitions import Definition
from ggk.station import tables as t
from ggk.station.database import as_utc
from ggk.station.workflow import Context, Record, State, counts_in_aggregates, is_overdue


@dataclass(frozen=True, slots=True)
class StatusRow:
    gemeente: str
    naam: str
    dataset: str
    state: State
    accepted_version: int | None
    versions: int
    last_delivery_at: dt.datetime | None
    deadline: dt.date
    overdue: bool
    extension_until: dt.date | None


@dataclass
class PeriodStatus:
    statistic: str
    period: str
    now: dt.datetime
    rows: list[StatusRow]
    totals: dict[str, int] = field(default_factory=dict)

    def active(self) -> list[StatusRow]:
        """Rows with any activity (a delivery or an extension)."""
        return [r for r in self.rows if r.versions or r.extension_until]


TOTAL_NAMES = ("gemeenten", "aangeleverd", "goedgekeurd", "afgekeurd", "opt-in", "ingetrokken",
               "te laat", "geweigerd")


def period_status(engine: sa.Engine, definition: Definition, period: str, clock: Clock,
                  gemeenten: list[tuple[str, str]]) -> PeriodStatus:
    """`gemeenten` is [(code, naam)] of every municipality to show (e.g. the refdata register)."""
    statistic = definition.statistic
    calendar = definition.calendar(period)
    required = definition.required_dataset
    with engine.connect() as conn:
        flows = {(r.gemeente, r.dataset): r for r in conn.execute(sa.select(t.workflow).where(
            t.workflow.c.statistic == statistic, t.workflow.c.period == period))}
        extensions = dict(conn.execute(sa.select(t.extensions.c.gemeente, t.extensions.c.until)
                                       .where(t.extensions.c.statistic == statistic,
                                              t.extensions.c.period == period)).all())
        refused = conn.execute(sa.select(sa.func.count()).select_from(t.audit).where(
            t.audit.c.statistic == statistic, t.audit.c.period == period,
            t.audit.c.event == "geweigerd")).scalar() or 0
    known = {code for code, _ in gemeenten}
    names = dict(gemeenten) | {g: g for g, _ in flows if g not in known}
    rows: list[StatusRow] = []
    now = clock.now()
    for code in sorted(names):
        for spec in definition.datasets:
            flow = flows.get((code, spec.name))
            record = Record(State(flow.state), flow.accepted_version, flow.versions) if flow \
                else Record()
            ctx = Context(now=now, calendar=calendar, timezone=definition.timezone,
                          extension_until=extensions.get(code), dataset=spec.name,
                          required_dataset=required)
            rows.append(StatusRow(
                code, names[code], spec.name, record.state, record.accepted_version,
                record.versions, as_utc(flow.last_delivery_at) if flow else None,
                ctx.closes("aanlevering_sluit"), is_overdue(record, ctx), extensions.get(code)))
    status = PeriodStatus(statistic, period, now, rows)
    status.totals = {
        "gemeenten": len(names),
        "aangeleverd": sum(1 for r in rows if r.versions),
        "goedgekeurd": sum(1 for r in rows if r.accepted_version is not None),
        "afgekeurd": sum(1 for r in rows if r.state in (State.AFGEKEURD,
                                                         State.CORRECTIE_AFGEKEURD)),
        "opt-in": sum(1 for r in rows if r.state is State.OPT_IN),
        "ingetrokken": sum(1 for r in rows if r.state is State.INGETROKKEN),
        "te laat": sum(1 for r in rows if r.overdue),
        "geweigerd": int(refused),
        "in aggregaten": sum(1 for r in rows if counts_in_aggregates(
            Record(r.state, r.accepted_version, r.versions))),
    }
    return status

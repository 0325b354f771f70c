"""Reading and writing workflow records, deliveries, extensions and the audit trail (one place for
the station's SQL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ggk.conversation import conversation_id
from ggk.definitions import Definition
from ggk.station import tables as t
from ggk.station.workflow import Context, Record, State

TEST_TRACK = "+test"


def stored_statistic(statistic: str, test: bool) -> str:
    """The statistic key in the station's tables and store. Test traffic (ketentest, burentest:
    `test` in the conversation metadata) has a track of its own, `<statistic>+test`: every
    question asked by statistic (accepted data, mirror figures of others, publication, status,
    decisions) leaves it out by construction, while the test itself gets versions, corrections,
    reports and a bevestiging like a real delivery."""
    return statistic + TEST_TRACK if test else statistic


def track_of(stored: str) -> tuple[str, bool]:
    """(statistic, test) of a statistic key read from the tables."""
    if stored.endswith(TEST_TRACK):
        return stored.removesuffix(TEST_TRACK), True
    return stored, False


@dataclass(frozen=True, slots=True)
class WorkflowKey:
    statistic: str
    period: str
    gemeente: str
    dataset: str
    test: bool = False  # the test track (see stored_statistic)

    @property
    def stored_statistic(self) -> str:
        return stored_statistic(self.statistic, self.test)

    def sibling(self, dataset: str) -> WorkflowKey:
        """Another dataset of the same statistic, period, gemeente and track."""
        return WorkflowKey(self.statistic, self.period, self.gemeente, dataset, self.test)

    def where(self, table: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(table.c.statistic == self.stored_statistic, table.c.period == self.period,
                       table.c.gemeente == self.gemeente, table.c.dataset == self.dataset)

    @property
    def conversation_id(self) -> str:
        return conversation_id(self.statistic, self.period, self.gemeente, self.dataset)


def lock_record(conn: sa.Connection, key: WorkflowKey, now: dt.datetime) -> Record:
    """The record, locked until the transaction ends (created first if missing, so that two
    stations handling two deliveries of one dataset queue on the same row)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # BEGIN IMMEDIATE serialises writers
    conn.execute(insert(t.workflow).values(
        statistic=key.stored_statistic, period=key.period, gemeente=key.gemeente,
        dataset=key.dataset, state=State.GEEN_AANLEVERING.value, accepted_version=None,
        versions=0, updated_at=now,
    ).on_conflict_do_nothing())
    return load_record(conn, key, for_update=True)


def load_record(conn: sa.Connection, key: WorkflowKey, *, for_update: bool = False) -> Record:
    query = sa.select(t.workflow).where(key.where(t.workflow))
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        return Record()
    return Record(State(row["state"]), row["accepted_version"], row["versions"])


def save_record(conn: sa.Connection, key: WorkflowKey, record: Record, now: dt.datetime,
                *, delivered: bool = False) -> None:
    values: dict[str, Any] = {"state": record.state.value,
                              "accepted_version": record.accepted_version,
                              "versions": record.versions, "updated_at": now}
    if delivered:
        values["last_delivery_at"] = now
    updated = conn.execute(sa.update(t.workflow).where(key.where(t.workflow)).values(**values))
    if updated.rowcount == 0:
        conn.execute(sa.insert(t.workflow).values(
            statistic=key.stored_statistic, period=key.period, gemeente=key.gemeente,
            dataset=key.dataset, **values))


def write_audit(conn: sa.Connection, now: dt.datetime, event: str, *,
                key: WorkflowKey | None = None,
                gemeente: str | None = None, period: str | None = None,
                statistic: str | None = None, from_state: State | None = None,
                to_state: State | None = None, message_id: str | None = None,
                detail: str | None = None) -> None:
    conn.execute(sa.insert(t.audit).values(
        at=now, event=event,
        statistic=key.stored_statistic if key else statistic, period=key.period if key else period,
        gemeente=key.gemeente if key else gemeente, dataset=key.dataset if key else None,
        from_state=from_state.value if from_state else None,
        to_state=to_state.value if to_state else None, message_id=message_id, detail=detail))


def extension_until(conn: sa.Connection, statistic: str, period: str,
                    gemeente: str) -> dt.date | None:
    return conn.execute(sa.select(t.extensions.c.until).where(
        t.extensions.c.statistic == statistic, t.extensions.c.period == period,
        t.extensions.c.gemeente == gemeente)).scalar()


def grant_extension(conn: sa.Connection, statistic: str, period: str, gemeente: str,
                    until: dt.date, now: dt.datetime, reason: str | None) -> None:
    updated = conn.execute(sa.update(t.extensions).where(
        t.extensions.c.statistic == statistic, t.extensions.c.period == period,
        t.extensions.c.gemeente == gemeente).values(until=until, granted_at=now, reason=reason))
    if updated.rowcount == 0:
        conn.execute(sa.insert(t.extensions).values(
            statistic=statistic, period=period, gemeente=gemeente, until=until, granted_at=now,
            reason=reason))
    write_audit(conn, now, "uitstel", statistic=statistic, period=period, gemeente=gemeente,
                detail=f"until {until.isoformat()}" + (f": {reason}" if reason else ""))


def accepted_delivery(conn: sa.Connection, key: WorkflowKey, version: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(t.deliveries).where(
        key.where(t.deliveries), t.deliveries.c.version == version)).mappings().first()
    return dict(row) if row else None


def processed(conn: sa.Connection, message_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(t.processed_messages).where(
        t.processed_messages.c.message_id == message_id)).mappings().first()
    return dict(row) if row else None


def required_dataset(definition: Definition) -> str:
    """The dataset every other one builds on (the definition's required dataset)."""
    return definition.required_dataset


def workflow_context(conn: sa.Connection, definition: Definition, key: WorkflowKey,
                     now: dt.datetime) -> Context:
    """What the workflow's guards need to know about one record at `now`."""
    required = required_dataset(definition)
    required_record = load_record(conn, key.sibling(required))
    return Context(
        now=now, calendar=definition.calendar(key.period), timezone=definition.timezone,
        extension_until=extension_until(conn, key.statistic, key.period, key.gemeente),
        dataset=key.dataset, required_accepted=required_record.accepted_version is not None
        and required_record.state is not State.INGETROKKEN, required_dataset=required)

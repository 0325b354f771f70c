"""The station's records as `ggk.evaluation.EvaluationRecords`: the one place the evaluation's
facts are read from the station's tables and stored technical reports."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from ggk.conversation import Kind, kind_of
from ggk.evaluation.interfaces import DecisionFact, DeliveryFact, IncidentFact, RefusalFact
from ggk.station import tables as t
from ggk.station.metrics import CHANNEL_DOWN, CHANNEL_UP
from ggk.station.storage import FileStore

BESLUIT_OUTCOMES = ("opt-in", "intrekken")


class StationEvaluationRecords:
    """`EvaluationRecords` over one station database and its file store."""

    def __init__(self, engine: sa.Engine, store: FileStore) -> None:
        self.engine = engine
        self.store = store

    def deliveries(self, statistic: str, period: str) -> list[DeliveryFact]:
        d, p = t.deliveries, t.processed_messages
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(d, p.c.acked_at, p.c.reply_metadata)
                .join(p, p.c.message_id == d.c.message_id, isouter=True)
                .where(d.c.statistic == statistic, d.c.period == period)
                .order_by(d.c.received_at, d.c.version)).mappings().all()
            mirrors = {(r.gemeente, r.dataset, r.detail): r.at for r in conn.execute(
                sa.select(t.audit.c.gemeente, t.audit.c.dataset, t.audit.c.detail, t.audit.c.at)
                .where(t.audit.c.event == "spiegelrapport", t.audit.c.statistic == statistic,
                       t.audit.c.period == period))}
        facts = []
        for row in rows:
            facts.append(DeliveryFact(
                gemeente=row["gemeente"], dataset=row["dataset"], version=row["version"],
                accepted=row["verdict"] == "goedgekeurd", received_at=row["received_at"],
                sent_at=row["sent_at"], technical_report_at=row["acked_at"],
                mirror_report_at=mirrors.get((row["gemeente"], row["dataset"],
                                              f"versie {row['version']}")),
                finding_codes={} if row["verdict"] == "goedgekeurd"
                else self._error_codes(row["reply_metadata"])))
        return facts

    def _error_codes(self, replies: list[dict[str, Any]] | None) -> dict[str, int]:
        """Error codes and their counts from the stored technical report (report.json)."""
        rapport = next((r for r in replies or []
                        if kind_of(r.get("type") or "") is Kind.TECHNISCH_CONTROLERAPPORT), None)
        if rapport is None or not rapport.get("directory"):
            return {}
        data = self.store.reply_file(rapport["directory"], "report.json")
        if data is None:
            return {}
        codes: dict[str, int] = {}
        for finding in json.loads(data.decode("utf-8")).get("findings", []):
            if finding.get("severity") == "error":
                codes[finding["code"]] = codes.get(finding["code"], 0) + int(finding["count"])
        return codes

    def _replies(self, outcomes: tuple[str, ...], period: str) -> list[tuple[Any, dict]]:
        p = t.processed_messages
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(p.c.decided_at, p.c.reply_metadata)
                                .where(p.c.outcome.in_(outcomes))
                                .order_by(p.c.decided_at)).all()
        found = []
        for decided_at, replies in rows:
            metadata = dict((replies or [{}])[0].get("metadata") or {})
            if metadata.get("period") == period:
                found.append((decided_at, metadata))
        return found

    def decisions(self, statistic: str, period: str) -> list[DecisionFact]:
        return [DecisionFact(str(m.get("gemeente")), str(m.get("besluit")), at)
                for at, m in self._replies(BESLUIT_OUTCOMES, period)
                if m.get("statistic", statistic) == statistic and not m.get("test")]

    def final_states(self, statistic: str, period: str, dataset: str) -> dict[str, str]:
        w = t.workflow
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(w.c.gemeente, w.c.state).where(
                w.c.statistic == statistic, w.c.period == period, w.c.dataset == dataset)).all())

    def refusals(self, statistic: str, period: str) -> list[RefusalFact]:
        return [RefusalFact(m.get("gemeente"), str(m.get("reden")), at)
                for at, m in self._replies(("geweigerd",), period)
                if m.get("statistic", statistic) == statistic]

    def extensions(self, statistic: str, period: str) -> dict[str, dt.date]:
        e = t.extensions
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(e.c.gemeente, e.c.until).where(
                e.c.statistic == statistic, e.c.period == period)).all())

    def incidents(self, start: dt.datetime, end: dt.datetime) -> list[IncidentFact]:
        a = t.audit
        with self.engine.connect() as conn:
            events = conn.execute(sa.select(a.c.event, a.c.at, a.c.detail).where(
                a.c.event.in_((CHANNEL_DOWN, CHANNEL_UP))).order_by(a.c.at, a.c.id)).all()
        incidents: list[IncidentFact] = []
        open_since: tuple[dt.datetime, str] | None = None
        for event, at, detail in events:
            if event == CHANNEL_DOWN and open_since is None:
                open_since = (at, detail or "")
            elif event == CHANNEL_UP and open_since is not None:
                incidents.append(IncidentFact(open_since[0], at, open_since[1]))
                open_since = None
        if open_since is not None:
            incidents.append(IncidentFact(open_since[0], None, open_since[1]))
        return [i for i in incidents if i.started_at <= end and (i.ended_at or end) >= start]

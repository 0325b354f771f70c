"""The station's records as the CBS dashboard reads them (`PeriodRecords`), on SQLite and
PostgreSQL: states with deadlines, extensions and overdue flags, comments and besluit, the
timeline, a municipality's file, and the two requests (extension, reminders) with their errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from ggk.clock import SimulatedClock
from ggk.definitions import shipped
from ggk.station import records as station_records
from ggk.station import tables as t
from ggk.station.database import create_engine, migrate
from ggk.station.interfaces import DashboardError
from ggk.station.period_records import REMINDER_REQUESTED, StationPeriodRecords
from ggk.station.storage import FileStore

PERIOD = "2026-H1"
AFTER_DEADLINE = dt.datetime(2026, 10, 2, 10, tzinfo=dt.UTC)


@pytest.fixture
def period_records(database_url: str, tmp_path: Path) -> StationPeriodRecords:
    engine = create_engine(database_url)
    migrate(engine)
    received = dt.datetime(2026, 9, 1, 10, tzinfo=dt.UTC)
    with engine.begin() as conn:
        for code, state, accepted in (("GM0363", "opt-in", 1), ("GM0599", "afgekeurd", None)):
            conn.execute(sa.insert(t.workflow).values(
                statistic="gmsd", period=PERIOD, gemeente=code, dataset="basis", state=state,
                accepted_version=accepted, versions=1, last_delivery_at=received,
                updated_at=received))
            conn.execute(sa.insert(t.deliveries).values(
                message_id=f"m-{code}", statistic="gmsd", period=PERIOD, gemeente=code,
                dataset="basis", version=1, sender="0" * 20, file_name=f"{code}.csv",
                sha256="0" * 64, bytes=10, verdict="goedgekeurd" if accepted else "afgekeurd",
                rows=5, errors=0 if accepted else 2, warnings=0, received_at=received))
        station_records.write_audit(
            conn, received, "toelichting", statistic="gmsd", period=PERIOD, gemeente="GM0363",
            message_id="n1", detail=json.dumps({"indicator": "I1", "toelichting": "klopt"},
                                               indent=2))
    return StationPeriodRecords(engine, FileStore(tmp_path / "store"), shipped(),
                                SimulatedClock(AFTER_DEADLINE),
                                [("GM0363", "Amsterdam"), ("GM0599", "Rotterdam"),
                                 ("GM0014", "Groningen")])


def test_states_timeline_and_a_municipality(period_records: StationPeriodRecords) -> None:
    states = {(s.gemeente, s.dataset): s for s in period_records.states("gmsd", PERIOD)}
    assert len(states) == 3 * 2  # every municipality x dataset, also without records
    amsterdam, rotterdam = states[("GM0363", "basis")], states[("GM0599", "basis")]
    assert amsterdam.besluit == "opt-in" and amsterdam.comments == 1 and not amsterdam.overdue
    assert rotterdam.rejected and rotterdam.overdue and rotterdam.deadline == dt.date(2026, 9, 30)
    assert states[("GM0014", "basis")].overdue and not states[("GM0014", "facultatief")].overdue
    assert [(e.gemeente, e.accepted) for e in period_records.timeline("gmsd", PERIOD)] == [
        ("GM0363", True), ("GM0599", False)]
    file = period_records.gemeente_file("gmsd", PERIOD, "GM0363")
    assert [v.file_name for v in file.versions] == ["GM0363.csv"]
    assert file.comments[0].fields == {"indicator": "I1", "toelichting": "klopt"}
    with pytest.raises(DashboardError):
        period_records.gemeente_file("gmsd", PERIOD, "GM9999")
    with pytest.raises(DashboardError):
        period_records.report_file("../../etc", "passwd")


def test_extension_and_reminders_are_recorded(period_records: StationPeriodRecords) -> None:
    with pytest.raises(DashboardError, match="na de deadline"):
        period_records.grant_extension("gmsd", PERIOD, "GM0599", dt.date(2026, 9, 30), None)
    period_records.grant_extension("gmsd", PERIOD, "GM0599", dt.date(2026, 10, 20), "storing")
    rotterdam = next(s for s in period_records.states("gmsd", PERIOD)
                     if s.gemeente == "GM0599" and s.required)
    assert rotterdam.extension_until == dt.date(2026, 10, 20) and not rotterdam.overdue
    with pytest.raises(DashboardError, match="tekst"):
        period_records.request_reminders("gmsd", PERIOD, ["GM0014"], "  ")
    ids = period_records.request_reminders("gmsd", PERIOD, ["GM0014", "GM0599"], "Graag!")
    with period_records.engine.connect() as conn:
        queued = conn.execute(sa.select(t.audit.c.gemeente, t.audit.c.message_id).where(
            t.audit.c.event == REMINDER_REQUESTED).order_by(t.audit.c.id)).all()
    assert [tuple(r) for r in queued] == list(zip(["GM0014", "GM0599"], ids, strict=True))


def test_flags_of_the_newest_spiegelrapport(period_records: StationPeriodRecords) -> None:
    reply_id = "5b0e1c52-7a0e-4d4b-9a57-2b1f0c8e5a11"
    folder = period_records.store.reply_dir(reply_id)
    flags = [{"indicator": "I1", "soort": "verandering"}, {"indicator": "I2", "soort": "peers"}]
    (folder / "spiegelrapport.json").write_text(json.dumps({"flags": flags}), "utf-8")
    (folder / "spiegelrapport.html").write_text("<p>GM0363</p>", "utf-8")
    with period_records.engine.begin() as conn:
        station_records.write_audit(conn, AFTER_DEADLINE, "spiegelrapport", statistic="gmsd",
                                    period=PERIOD, gemeente="GM0363", message_id=reply_id,
                                    detail="versie 1")
    basis = next(s for s in period_records.states("gmsd", PERIOD)
                 if s.gemeente == "GM0363" and s.required)
    assert basis.flags == 2
    file = period_records.gemeente_file("gmsd", PERIOD, "GM0363")
    assert list(file.flags) == flags
    mirror = next(r for r in file.reports if r.type == "gmsd.spiegelrapport")
    assert mirror.version == 1 and mirror.files == ("spiegelrapport.html", "spiegelrapport.json")
    assert period_records.report_file(reply_id, "spiegelrapport.html").decode() == \
        "<p>GM0363</p>"

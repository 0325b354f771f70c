"""`ggk evaluatie`: after a real chain run (deliveries through a real hub, a rejection and its
repair, a refusal, an extension, a channel incident, besluiten), every figure of the report is
checked against the station's own records, on SQLite and PostgreSQL; no figure of a single
municipality leaves CBS; the HTML and PDF are written, times in Europe/Amsterdam."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import statistics
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from typer.testing import CliRunner

from ggk.cli import app
from ggk.evaluation import build_evaluation
from ggk.station import grant_extension
from ggk.station import tables as t
from ggk.station.evaluation_records import StationEvaluationRecords
from tests.station.conftest import StationWorld, gen

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def mirror_stand_in(definition, period, gemeente, source, directory: Path) -> list[Path]:  # noqa: ANN001
    """A spiegelrapport with the MirrorHook contract (the real one is tested in tests/mirror)."""
    path = directory / "spiegelrapport.json"
    path.write_text(json.dumps({"gemeente": gemeente}))
    return [path]


def play_period(world: StationWorld) -> None:
    station, d, tmp = world.station, world.definition, world.tmp
    station.mirror = mirror_stand_in
    world.clock.set(dt.datetime(2026, 9, 1, 10, tzinfo=AMSTERDAM))
    bad = world.deliver("gemeente_a", gen(d, tmp, "GM0363", 120, errors={"elfproef": 3}, seed=1,
                                         name="bad"))
    station.run_once()
    assert world.report("gemeente_a", bad)["verdict"] == "afgekeurd"
    good = world.deliver("gemeente_a", gen(d, tmp, "GM0363", 120, seed=2, name="good"))
    world.deliver("gemeente_b", gen(d, tmp, "GM0599", 80, seed=3, name="b"))
    world.deliver("gemeente_b", gen(d, tmp, "GM0599", 10, seed=4, name="x"), dataset="onbekend")
    station.run_once()
    assert world.report("gemeente_a", good)["verdict"] == "goedgekeurd"
    grant_extension(station.engine, world.clock, "gmsd", "2026-H1", "GM0599",
                    dt.date(2026, 10, 10))
    # the hub away for two hours, as the station's loop reports it
    world.clock.set(dt.datetime(2026, 9, 15, 3, tzinfo=AMSTERDAM))
    station.metrics.mailbox_failed(ConnectionError("hub niet bereikbaar"))
    world.clock.set(dt.datetime(2026, 9, 15, 5, tzinfo=AMSTERDAM))
    station.metrics.mailbox_read([])
    world.clock.set(dt.datetime(2026, 10, 20, 10, tzinfo=AMSTERDAM))
    world.besluit("gemeente_a", "opt-in")
    world.besluit("gemeente_b", "intrekken")
    station.run_once()


def test_every_figure_matches_the_station_records(world: StationWorld, tmp_path: Path) -> None:
    play_period(world)
    now = dt.datetime(2026, 11, 1, 12, tzinfo=AMSTERDAM)
    records = StationEvaluationRecords(world.station.engine, world.station.store)
    report = build_evaluation(records, world.definition, "2026-H1", now=now)
    r = report.data

    with world.station.engine.connect() as conn:
        rows = conn.execute(sa.select(t.deliveries).order_by(t.deliveries.c.version)
                            ).mappings().all()
        acked = dict(conn.execute(sa.select(t.processed_messages.c.message_id,
                                            t.processed_messages.c.acked_at)).all())
        final = dict(conn.execute(sa.select(t.workflow.c.gemeente, t.workflow.c.state).where(
            t.workflow.c.dataset == "basis")).all())
        refused = conn.execute(sa.select(sa.func.count()).select_from(t.processed_messages)
                               .where(t.processed_messages.c.outcome == "geweigerd")).scalar()
    assert r["aanleveringen"]["totaal"] == len(rows) == 3
    assert r["aanleveringen"]["afgekeurd"] == sum(x["verdict"] == "afgekeurd" for x in rows) == 1
    first = {}
    for x in rows:
        first.setdefault(x["gemeente"], x["verdict"])
    assert r["gemeenten"]["met_aanlevering"] == len(first) == 2
    assert r["eerste_keer_goed"] == {"gemeenten": 2, "eerste_keer_goed": 1, "procent": 50.0}
    assert list(first.values()).count("goedgekeurd") == 1
    assert r["correctierondes"] == {"geen": 1, "een": 1, "twee_of_meer": 0, "gemiddeld": 0.5}

    # the rejected delivery's stored technical report: 3 elfproef errors -> one file, '.' findings
    assert r["afkeuringen_per_code"] == [{"code": "elfproef", "aanleveringen": 1,
                                          "bevindingen": "."}]
    durations = [(acked[x["message_id"]] - x["sent_at"]).total_seconds() for x in rows]
    assert all(x["sent_at"] is not None for x in rows) and min(durations) >= 0
    assert r["doorlooptijd"]["technisch_controlerapport"]["gemeten"] == 3
    assert r["doorlooptijd"]["technisch_controlerapport"]["mediaan_seconden"] == round(
        statistics.median(durations), 1)
    assert r["doorlooptijd"]["spiegelrapport"]["gemeten"] == 2  # both accepted basis versions

    assert r["op_tijd"] == {"sluitingsdatum": "2026-09-30", "gemeenten": 2, "op_tijd": 2,
                            "procent": 100.0, "met_uitstel": 2, "procent_met_uitstel": 100.0,
                            "uitstel_verleend": 1}
    assert final == {"GM0363": "opt-in", "GM0599": "ingetrokken"}
    assert r["besluiten"] == {"opt_in": 1, "ingetrokken": 1, "zonder_besluit": 0,
                              "berichten": {"intrekken": 1, "opt-in": 1}}
    assert r["weigeringen"] == {"onbekende-dataset": 1} and refused == 1

    kanaal = r["kanaal"]
    assert kanaal["storingen"] == 1 and kanaal["storingsduur_seconden"] == 7200.0
    window = (now - dt.datetime(2026, 8, 15, tzinfo=AMSTERDAM)).total_seconds()
    assert kanaal["beschikbaarheid_procent"] == round(100 * (1 - 7200 / window), 3)

    # disclosure: no single municipality in any format; groups under 5 municipalities suppressed
    paths = report.write(tmp_path / "evaluatie")
    assert [p.name for p in paths] == ["evaluatie-gmsd-2026-H1.json",
                                       "evaluatie-gmsd-2026-H1.html", "evaluatie-gmsd-2026-H1.pdf"]
    html = paths[1].read_text("utf-8")
    for text in (paths[0].read_text("utf-8"), html):
        assert "GM0363" not in text and "GM0599" not in text
    assert all(g["gemeenten"] == "." and g["eerste_keer_goed_procent"] == "."
               for g in r["gemeenten"]["per_grootteklasse"])
    assert "2026-09-15 03:00" in html and "2026-09-15 05:00" in html  # incident, Amsterdam time
    assert html.count("<svg") == 2  # deliveries per week, rejections by code
    assert paths[2].read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(paths[2]), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "Eerste keer goed" in text and "1 van 2 (50,0%)" in text


def test_ggk_evaluatie_writes_the_three_files(world: StationWorld, tmp_path: Path) -> None:
    play_period(world)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "evaluatie", "--period", "2026-H1", "--database-url", world.database_url,
        "--store-dir", str(world.settings.resolved_store_dir()), "--out", str(out),
        "--now", "2026-11-01"])
    assert result.exit_code == 0, result.output
    written = [Path(line) for line in result.output.split()]
    assert [p.suffix for p in written] == [".json", ".html", ".pdf"]
    assert json.loads(written[0].read_text("utf-8"))["aanleveringen"]["totaal"] == 3

    wrong = CliRunner().invoke(app, ["evaluatie", "--period", "2031-H1", "--database-url",
                                     world.database_url, "--store-dir", str(tmp_path)])
    assert wrong.exit_code == 2 and "2031-H1" in wrong.output

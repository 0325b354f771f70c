"""Station and hub metrics and the Prometheus alert rules (deploy/prometheus/).

The rules are checked with `promtool test rules` (Debian package prometheus; `make system-deps`),
and every ggk_* name they use must be exported by a real hub and a real station after a real
delivery, so a renamed metric cannot leave an alert silently watching nothing."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from ggk.station.metrics import serve_metrics
from tests.conftest import IN_CI
from tests.hub.conftest import HubPki, StartHub
from tests.station.conftest import StationWorld, gen
from tests.station.test_run_command import _wait_for_line

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = RULES_DIR / "ggk-alerts.yml"
GGK = Path(sys.executable).with_name("ggk")
# Suffixes Prometheus' exposition adds to a counter's or histogram's family name.
SUFFIXES = {"counter": ("_total",), "histogram": ("_count", "_sum", "_bucket")}
FROM_PROMETHEUS = {"up"}  # made by the Prometheus server itself for every scrape target


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if IN_CI:
            pytest.fail("promtool is missing (Debian package prometheus: make system-deps)")
        pytest.skip("promtool is missing (Debian package prometheus: make system-deps)")
    return path


def rule_metric_names() -> set[str]:
    rules = yaml.safe_load(RULES.read_text("utf-8"))
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    names = set()
    for expr in expressions:
        names |= set(re.findall(r"\b(ggk_[a-z0-9_]+|up)\b", expr))
    return names


def exported_names(text: str) -> set[str]:
    """Every name a PromQL expression may use for the families in this exposition."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names |= {family.name + s for s in SUFFIXES.get(family.type, ())}
        names |= {sample.name for sample in family.samples}
    return names


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_promtool_checks_and_tests_the_alert_rules() -> None:
    tool = promtool()
    checked = subprocess.run([tool, "check", "rules", str(RULES)], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([tool, "test", "rules", "ggk-alerts.test.yml"], cwd=RULES_DIR,
                            capture_output=True, text=True, timeout=120)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_the_rules_use_only_names_a_real_hub_and_station_export(world: StationWorld) -> None:
    world.station.mirror = None
    sent = world.deliver("gemeente_a", gen(world.definition, world.tmp, "GM0363", 50))
    assert world.station.run_once() == 1
    assert world.report("gemeente_a", sent)["verdict"] == "goedgekeurd"

    server = serve_metrics(world.station.metrics, 0)
    try:
        station_text = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics",
                                 timeout=10).text
    finally:
        server.shutdown()
        server.server_close()
    response = world.hub.client("operator").get("/metrics")
    assert response.status_code == 200, response.text
    hub_text = response.text

    used = rule_metric_names()
    assert {"ggk_hub_party_certificate_expiry_timestamp_seconds",
            "ggk_station_last_successful_poll_timestamp_seconds"} <= used
    missing = used - exported_names(station_text) - exported_names(hub_text) - FROM_PROMETHEUS
    assert not missing, f"alert rules refer to metrics nobody exports: {sorted(missing)}"

    station = samples(station_text)
    assert station[("ggk_station_deliveries_total", (("outcome", "goedgekeurd"),))] == 1
    assert station[("ggk_station_processing_seconds_count",
                    (("type", "gmsd.aanlevering"),))] == 1
    assert station[("ggk_station_last_successful_poll_timestamp_seconds", ())] > 0
    assert station[("ggk_station_store_free_bytes", ())] > 0

    from cryptography import x509

    pem = world.hub.pem["cbs"].read_bytes()
    expiry = x509.load_pem_x509_certificate(pem).not_valid_after_utc.timestamp()
    hub = samples(hub_text)
    assert hub[("ggk_hub_party_certificate_expiry_timestamp_seconds",
                (("oin", world.hub.oin["cbs"]), ("role", "cbs")))] == expiry
    assert hub[("ggk_hub_storage_size_bytes", ())] >= hub[("ggk_hub_storage_free_bytes", ())] > 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_station_run_serves_metrics_on_loopback(database_url: str, hub_pki: HubPki,
                                                start_hub: StartHub, tmp_path: Path) -> None:
    hub = start_hub(long_poll_interval=0.2)
    log = tmp_path / "station.log"
    with log.open("w") as out:
        station = subprocess.Popen(
            [str(GGK), "station", "run", "--hub", hub.base_url, "--cert", str(hub_pki.pem["cbs"]),
             "--ca", str(hub_pki.ca), "--data-dir", str(tmp_path / "station"), "--wait", "1",
             "--metrics-port", "0"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        content = _wait_for_line(log, "/metrics")
        url = re.search(r"metrics at (http://127\.0\.0\.1:\d+/metrics)", content)
        assert url, content
        _wait_for_line(log, "running against")
        for _ in range(100):  # the first poll ends within --wait 1 s
            text = httpx.get(url.group(1), timeout=10).text
            if samples(text)[("ggk_station_last_successful_poll_timestamp_seconds", ())] > 0:
                break
            import time

            time.sleep(0.1)
        assert samples(text)[("ggk_station_polls_total", (("result", "ok"),))] >= 1
    finally:
        station.send_signal(signal.SIGTERM)
        station.wait(timeout=60)
    assert station.returncode == 0, log.read_text()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_hub_outage_is_an_incident_in_the_audit_trail_and_the_metrics(
        database_url: str, hub_pki: HubPki, start_hub: StartHub, tmp_path: Path) -> None:
    import datetime as dt
    import threading
    import time

    import sqlalchemy as sa

    from ggk.client import HubClient
    from ggk.station import SimulatedClock, Station, StationSettings
    from ggk.station import tables as t
    from ggk.station.evaluation_records import StationEvaluationRecords

    hub = start_hub(long_poll_interval=0.2)
    port = int(hub.base_url.rsplit(":", 1)[1])
    clock = SimulatedClock(dt.datetime(2026, 9, 1, 10, tzinfo=dt.UTC))
    client = HubClient(hub.base_url, cert=hub_pki.pem["cbs"], ca=hub_pki.ca)
    station = Station(StationSettings(data_dir=tmp_path / "station", poll_wait=0.2), client,
                      clock)
    stop = threading.Event()
    thread = threading.Thread(target=station.run_forever, args=(stop,), daemon=True)

    def events() -> list[str]:
        with station.engine.connect() as conn:
            return list(conn.execute(sa.select(t.audit.c.event).where(
                t.audit.c.event.like("kanaal-%")).order_by(t.audit.c.id)).scalars())

    def polls(result: str) -> float:
        return station.metrics.registry.get_sample_value("ggk_station_polls_total",
                                                         {"result": result}) or 0.0

    def wait_for(condition: object, what: str) -> None:
        deadline = time.monotonic() + 60
        while not condition():  # type: ignore[operator]
            assert time.monotonic() < deadline, f"no {what} within 60 s: {events()}"
            time.sleep(0.1)

    thread.start()
    try:
        wait_for(lambda: polls("ok") >= 1, "first poll")
        hub.server.stop()
        wait_for(lambda: events() == ["kanaal-storing"], "incident")
        clock.advance(dt.timedelta(minutes=30))
        start_hub(port=port, long_poll_interval=0.2)
        wait_for(lambda: events() == ["kanaal-storing", "kanaal-hersteld"], "recovery")
    finally:
        stop.set()
        thread.join(timeout=30)
    try:
        assert polls("error") >= 1
        [incident] = StationEvaluationRecords(station.engine, station.store).incidents(
            clock.now() - dt.timedelta(days=1), clock.now())
        assert incident.ended_at - incident.started_at == dt.timedelta(minutes=30)
        assert incident.detail  # the error as the station saw it
    finally:
        station.close()
        client.close()


def test_a_dead_letter_in_the_database_is_counted(world: StationWorld) -> None:
    import datetime as dt

    world.station.mirror = None
    sent = world.deliver("gemeente_a", gen(world.definition, world.tmp, "GM0363", 20))
    metrics = world.station.metrics

    def dead() -> float | None:
        return metrics.registry.get_sample_value("ggk_station_dead_lettered_messages")

    assert dead() == 0
    for attempt in range(world.settings.max_attempts):  # what the worker books when one fails
        assert dead() == 0
        world.station.failures.failed(sent, RuntimeError("kapot"),
                                      dt.datetime.now(dt.UTC) + dt.timedelta(hours=attempt))
    assert dead() == 1  # read from the database: true for every station on it, after restarts

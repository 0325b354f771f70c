"""A station killed mid-message and restarted gives exactly one report and one version; two
stations on one PostgreSQL database never handle the same message twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from ggk.conversation import Kind, kind_of
from ggk.station import tables as t
from tests.station.conftest import StationWorld, gen

GGK = [str(Path(sys.executable).parent / "ggk")]


def station_command(world: StationWorld, *extra: str) -> list[str]:
    return [*GGK, "station", "run", "--hub", world.hub.base_url, "--cert",
            str(world.hub.pem["cbs"]), "--ca", str(world.hub.ca), "--database-url",
            world.database_url, "--store-dir", str(world.tmp / "station-store"),
            "--pseudonym-key", str(world.tmp / "keys" / "pseudonym.key"), "--now", "2026-09-01",
            "--wait", "1", *extra]


def wait_for_line(process: subprocess.Popen[str], marker: str, timeout: float) -> None:
    found = threading.Event()
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if marker in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(timeout):
        process.kill()
        pytest.fail(f"station never reached {marker!r}:\n{''.join(output)[-3000:]}")


@pytest.mark.parametrize("point", ["download", "decided", "replied"])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_station_killed_mid_message_then_restarted(world: StationWorld, point: str) -> None:
    world.station.close()  # the station runs as a separate process here
    clean = gen(world.definition, world.tmp, "GM0363", 300, seed=3)
    sent = world.deliver("gemeente_a", clean)
    env = {**os.environ, "GGK_STATION_CHECKPOINT": f"{point}:60"}
    # the mirror report follows the replies: only worth its time when killed at "replied"
    mirror = "--spiegelrapport" if point == "replied" else "--no-spiegelrapport"
    # the default claim lease (300 s): the restarted station must not wait it out
    process = subprocess.Popen(station_command(world, mirror), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_line(process, f"ggk-station-checkpoint {point}", 60)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(10)
    assert world.cbs.message(sent.id).state != "acknowledged"
    restarted = subprocess.run(station_command(world, "--once", mirror), capture_output=True,
                               text=True,
                               timeout=120, env={k: v for k, v in os.environ.items()
                                                 if k != "GGK_STATION_CHECKPOINT"})
    assert restarted.returncode == 0, restarted.stderr
    assert "handled 1 messages" in restarted.stdout, restarted.stderr[-3000:]
    assert world.cbs.message(sent.id).state == "acknowledged", restarted.stderr[-3000:]
    report = world.report("gemeente_a", sent)
    assert report["verdict"] == "goedgekeurd" and report["versie"] == 1
    replies = [kind_of(m.type) for m in world.replies("gemeente_a", sent)]
    assert replies.count(Kind.TECHNISCH_CONTROLERAPPORT) == 1  # exactly one report
    assert replies.count(Kind.SPIEGELRAPPORT) <= 1  # (when the mirror was built in time)
    assert set(replies) <= {Kind.TECHNISCH_CONTROLERAPPORT, Kind.SPIEGELRAPPORT}
    assert world.cbs.message(sent.id).state == "acknowledged"
    with world.station.engine.connect() as conn:
        versions = conn.execute(sa.select(t.deliveries.c.version)).scalars().all()
    assert versions == [1]
    parquet = list((world.tmp / "station-store" / "accepted").rglob("*.parquet"))
    assert len(parquet) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_stations_on_one_postgresql_handle_each_message_once(world: StationWorld) -> None:
    files = [gen(world.definition, world.tmp, "GM0363", 100, seed=s, name=f"a{s}")
             for s in range(3)]
    files_b = [gen(world.definition, world.tmp, "GM0599", 100, seed=s, name=f"b{s}")
               for s in range(3)]
    sent = [world.deliver("gemeente_a", f) for f in files]
    sent += [world.deliver("gemeente_b", f) for f in files_b]
    second = world.make_station()
    world.station.mirror = second.mirror = None  # not the point here; keeps the test short
    outcomes: dict[str, list[str]] = {"one": [], "two": []}
    errors: list[BaseException] = []

    def work(name: str, station) -> None:  # noqa: ANN001
        try:
            for _ in range(3):
                page = station.client.mailbox()
                for message in page.messages:
                    outcome = station.handle(message)
                    if outcome is not None:
                        outcomes[name].append(message.id)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    from ggk.client import HubClient

    second.client = HubClient(world.hub.base_url, cert=world.hub.pem["cbs"], ca=world.hub.ca)
    threads = [threading.Thread(target=work, args=("one", world.station)),
               threading.Thread(target=work, args=("two", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    second.client.close()
    second.close()
    assert not errors, errors
    handled = outcomes["one"] + outcomes["two"]
    assert sorted(handled) == sorted(m.id for m in sent)  # each exactly once, none lost
    with world.station.engine.connect() as conn:
        rows = conn.execute(sa.select(t.deliveries.c.gemeente, t.deliveries.c.version)).all()
    assert sorted(rows) == [("GM0363", 1), ("GM0363", 2), ("GM0363", 3),
                            ("GM0599", 1), ("GM0599", 2), ("GM0599", 3)]
    for message in sent[:3]:
        name = "gemeente_a"
        assert len([m for m in world.replies(name, message)
                    if kind_of(m.type) is Kind.TECHNISCH_CONTROLERAPPORT]) == 1

"""Issue 10 (1, 3): no other party can stop a gemeente's `ggk gemeente reports`, and only the
registered CBS party's reports are saved. Real hub (TLS, SQLite and PostgreSQL), the real CLI
in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ggk.client.hub_client import reply_id
from ggk.hub.database import create_engine
from ggk.hub.parties import PartyRegistry
from tests.hub.conftest import RunningHub
from tests.hub.helpers import message_body

GGK = str(Path(sys.executable).parent / "ggk")


def _reports(hub: RunningHub, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GGK, "gemeente", "reports", "--out", str(out), "--hub", hub.base_url,
         "--cert", str(hub.pem["gemeente_a"]), "--ca", str(hub.ca), *extra],
        capture_output=True, text=True, timeout=120, env={"COLUMNS": "200", "PATH": "/usr/bin"})


def _saved(out: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text("utf-8")) for p in sorted(out.rglob("bericht.json"))]


def _registry(hub: RunningHub) -> PartyRegistry:
    return PartyRegistry(create_engine(hub.settings.resolved_database_url()))


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_hostile_pings_do_not_block_reports(running_hub: RunningHub, tmp_path: Path) -> None:
    hub = running_hub
    gemeente_a = hub.oin["gemeente_a"]
    report = message_body(gemeente_a, type="gmsd.bevestiging")
    assert hub.client("cbs").post("/api/v1/messages", json=report).status_code == 201

    # 1. gemeente_b claims the id of gemeente_a's answer to a ping it is about to send
    hostile = hub.client("gemeente_b")
    ping_id = str(uuid.uuid4())
    claim = message_body(hub.oin["cbs"], type="ggk.ping")
    claim["id"] = reply_id("pong", ping_id)
    assert hostile.post("/api/v1/messages", json=claim).status_code == 201
    ping = message_body(gemeente_a, type="ggk.ping")
    ping["id"] = ping_id
    assert hostile.post("/api/v1/messages", json=ping).status_code == 201

    # 2. a party pings, then is revoked: its ping can no longer be answered
    registry = _registry(hub)
    registry.add(hub.pem["stranger"])
    assert hub.client("stranger").post(
        "/api/v1/messages", json=message_body(gemeente_a, type="ggk.ping")).status_code == 201
    registry.revoke(hub.oin["stranger"])
    registry.engine.dispose()

    out = tmp_path / "rapporten"
    first = _reports(hub, out)
    assert first.returncode == 0, first.stdout + first.stderr
    assert [m["id"] for m in _saved(out)] == [report["id"]]
    # everything was dealt with: nothing waits in gemeente_a's inbox, a second run is quiet
    inbox = hub.client("gemeente_a").get("/api/v1/messages").json()["messages"]
    assert inbox == []
    again = _reports(hub, out)
    assert again.returncode == 0 and "Geen nieuwe rapporten" in again.stdout
    # the hostile party's claim did not take the answer: gemeente_b got its pong all the same
    pongs = hostile.get("/api/v1/messages", params={"type": "ggk.pong"}).json()["messages"]
    assert [p["in_reply_to"] for p in pongs] == [ping_id]
    assert pongs[0]["id"] != claim["id"]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_reports_only_from_the_registered_cbs_party(running_hub: RunningHub,
                                                     tmp_path: Path) -> None:
    hub = running_hub
    gemeente_a = hub.oin["gemeente_a"]
    # a second party with the cbs role (an operator's mistake, or an old escalation)
    registry = _registry(hub)
    registry.add(hub.pem["stranger"], role="cbs")
    registry.engine.dispose()
    fake = message_body(gemeente_a, type="gmsd.weigering")
    fake["metadata"] = {"reden": "nep", "bericht": "stuur alles opnieuw naar ons"}
    assert hub.client("stranger").post("/api/v1/messages", json=fake).status_code == 201
    real = message_body(gemeente_a, type="gmsd.bevestiging")
    assert hub.client("cbs").post("/api/v1/messages", json=real).status_code == 201

    out = tmp_path / "rapporten"
    done = _reports(hub, out, "--cbs-oin", hub.oin["cbs"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert [m["id"] for m in _saved(out)] == [real["id"]]
    assert "niet de geregistreerde CBS-partij" in done.stdout
    assert hub.client("gemeente_a").get("/api/v1/messages").json()["messages"] == []

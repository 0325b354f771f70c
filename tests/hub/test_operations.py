"""Operations: audit log (append-only), metrics, monitoring, expiry, several hub processes on one
database, and the party/audit commands."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ggk.hub.database import create_engine
from tests.hub.conftest import HubPki, RunningHub, StartHub
from tests.hub.helpers import attachment, message_body, patch, send


def ggk(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real `ggk` command line in this process (subprocess start-up costs seconds)."""
    from typer.testing import CliRunner

    from ggk.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def test_audit_log_is_append_only_and_printed(running_hub: RunningHub) -> None:
    sent = send(running_hub.client("gemeente_a"), running_hub.oin["cbs"], {"a.csv": b"1;2\n"})
    cbs = running_hub.client("cbs")
    cbs.get(sent["attachments"][0]["download_url"])
    cbs.post(f"/api/v1/messages/{sent['id']}/ack")
    url = running_hub.settings.resolved_database_url()
    done = ggk("hub", "audit", "--message", sent["id"], "--database-url", url)
    assert done.returncode == 0, done.stderr
    actions = [line.split()[2] for line in done.stdout.splitlines()]
    assert actions == ["accepted", "attachment-complete", "available", "download", "fetched",
                       "acknowledged"]
    assert running_hub.oin["cbs"] in done.stdout.splitlines()[-1]
    missing = ggk("hub", "audit", "--message", "nope", "--database-url", url)
    assert missing.returncode == 2 and "no audit entries" in missing.stderr
    engine = create_engine(url)
    try:
        for statement in ("UPDATE hub_audit SET actor = 'x'", "DELETE FROM hub_audit"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(sa.text(statement))
        with engine.connect() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM hub_audit WHERE message_id = :m"),
                                 {"m": sent["id"]}).scalar_one()
        assert count == 6
    finally:
        engine.dispose()


def test_metrics_and_monitoring(running_hub: RunningHub) -> None:
    gemeente = running_hub.client("gemeente_a")
    send(gemeente, running_hub.oin["cbs"], {"a.csv": b"x" * 1000})
    bad = message_body(running_hub.oin["cbs"], attachments=[attachment("b.csv", b"y" * 10)])
    url = gemeente.post("/api/v1/messages", json=bad).json()["attachments"][0]["upload_url"]
    patch(gemeente, url, 0, b"z" * 10)  # checksum mismatch: refused
    text = running_hub.client("operator").get("/metrics").text
    assert 'ggk_hub_messages{state="available",type="gmsd.aanlevering"} 1.0' in text
    assert 'ggk_hub_messages{state="refused",type="gmsd.aanlevering"} 1.0' in text
    assert 'ggk_hub_refusals_total{reason="checksum-mismatch"} 1.0' in text
    assert "ggk_hub_bytes_in_total 1010.0" in text
    assert 'ggk_hub_upload_chunks_total{checksum="sha256"} 2.0' in text
    assert (f'ggk_hub_unacknowledged_messages{{oin="{running_hub.oin["cbs"]}",role="cbs"}} 1.0'
            in text)
    assert "ggk_hub_oldest_unacknowledged_seconds" in text
    assert ('ggk_hub_request_seconds_count{method="POST",route="/api/v1/messages",'
            'status="201"}') in text
    parties = {p["oin"]: p for p in running_hub.client("cbs").get(
        "/api/v1/monitoring/parties").json()}
    cbs = parties[running_hub.oin["cbs"]]
    assert cbs["unacknowledged"] == 1 and cbs["oldest_unacknowledged_seconds"] >= 0
    assert parties[running_hub.oin["gemeente_a"]]["bytes_in"] == 1000
    assert parties[running_hub.oin["gemeente_b"]]["unacknowledged"] == 0


def test_unacknowledged_messages_expire(start_hub: StartHub) -> None:
    hub = start_hub(message_ttl_seconds=1, expiry_sweep_seconds=0.2)
    gemeente = hub.client("gemeente_a")
    body = message_body(hub.oin["cbs"])
    gemeente.post("/api/v1/messages", json=body)
    state = None
    for _ in range(100):
        state = gemeente.get(f"/api/v1/messages/{body['id']}").json()["state"]
        if state == "expired":
            break
        time.sleep(0.1)
    assert state == "expired"
    assert hub.client("cbs").get("/api/v1/messages").json()["messages"] == []
    events = gemeente.get(f"/api/v1/messages/{body['id']}/receipt").json()["receipt"]["events"]
    assert [e["state"] for e in events] == ["accepted", "available", "expired"]
    assert hub.client("cbs").post(f"/api/v1/messages/{body['id']}/ack").status_code == 409


def test_two_hub_processes_share_one_database(start_hub: StartHub) -> None:
    """Long polling on one hub sees a message sent through another (database polling)."""
    first = start_hub(long_poll_interval=0.2)
    second = start_hub(long_poll_interval=0.2)
    got: dict[str, list[dict[str, object]]] = {}

    def wait() -> None:
        got["messages"] = second.client("cbs").get(
            "/api/v1/messages", params={"wait": 20}).json()["messages"]

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.3)
    sent = send(first.client("gemeente_a"), first.oin["cbs"], {"a.csv": b"1;2\n"})
    waiter.join(timeout=25)
    assert [m["id"] for m in got["messages"]] == [sent["id"]]
    assert second.client("cbs").get(got["messages"][0]["attachments"][0]["download_url"]  # type: ignore[index]
                                    ).content == b"1;2\n"


def test_concurrent_senders_get_distinct_increasing_cursors(start_hub: StartHub) -> None:
    """Two hubs (own engines and pools) on one database, two senders each, one reader."""
    hubs = [start_hub(), start_hub()]
    running_hub = hubs[0]
    errors: list[BaseException] = []
    seen: list[int] = []
    done = threading.Event()

    def burst(hub: RunningHub, party: str) -> None:
        try:
            client = hub.client(party)
            for _ in range(15):
                body = message_body(hub.oin["cbs"])
                assert client.post("/api/v1/messages", json=body).status_code == 201
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def read_while_sending() -> None:
        # a reader following the cursor during the bursts must never skip a message
        client = hubs[1].client("cbs")
        cursor = None
        while not done.is_set() or len(seen) < 60:
            page = client.get("/api/v1/messages", params={"limit": 7, "wait": 0.2}
                              | ({"after": cursor} if cursor is not None else {})).json()
            seen.extend(m["cursor"] for m in page["messages"])
            cursor = page["cursor"]
            if done.is_set() and not page["messages"]:
                break

    reader = threading.Thread(target=read_while_sending)
    reader.start()
    threads = [threading.Thread(target=burst, args=(hub, p))
               for hub in hubs for p in ("gemeente_a", "gemeente_b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reader.join(timeout=60)
    assert not errors
    cbs = running_hub.client("cbs")
    first = cbs.get("/api/v1/messages", params={"limit": 40}).json()
    rest = cbs.get("/api/v1/messages", params={"after": first["cursor"]}).json()
    cursors = [m["cursor"] for m in first["messages"] + rest["messages"]]
    assert len(cursors) == 60 and cursors == sorted(set(cursors))
    assert seen == cursors  # the live reader saw every message exactly once, in order


def test_party_commands(database_url: str, hub_pki: HubPki) -> None:
    assert ggk("hub", "migrate", "--database-url", database_url).returncode == 0
    added = ggk("party", "add", "--cert", str(hub_pki.pem["gemeente_a"]),
                "--database-url", database_url)
    assert added.returncode == 0, added.stderr
    assert "GM0363" in added.stdout
    again = ggk("party", "add", "--cert", str(hub_pki.pem["gemeente_a"]),
                "--database-url", database_url)
    assert again.returncode == 2 and "already registered" in again.stderr
    cbs = ggk("party", "add", "--cert", str(hub_pki.pem["cbs"]), "--database-url", database_url)
    assert cbs.returncode == 0
    listed = ggk("party", "list", "--database-url", database_url)
    assert hub_pki.oin["cbs"][:12] in listed.stdout and "Amsterdam" in listed.stdout
    revoked = ggk("party", "revoke", hub_pki.oin["gemeente_a"], "--database-url", database_url)
    assert revoked.returncode == 0
    assert "REVOKED" in ggk("party", "list", "--database-url", database_url).stdout
    unknown = ggk("party", "revoke", "00000099999999999999", "--database-url", database_url)
    assert unknown.returncode == 2 and "no party" in unknown.stderr


def test_outdated_schema_is_refused_and_embedding_can_migrate(database_url: str,
                                                              hub_pki: HubPki,
                                                              tmp_path: Path) -> None:
    from ggk.hub.interfaces import SchemaNotCurrent
    from ggk.hub.server import HubServer
    from ggk.hub.settings import HubSettings

    settings = HubSettings(ca_file=hub_pki.ca, server_cert=hub_pki.server_pem,
                           database_url=database_url, store_dir=tmp_path / "store", port=0)
    with pytest.raises(SchemaNotCurrent, match="no hub schema"):
        HubServer(settings).start()
    server = HubServer(settings, migrate=True)
    server.start()
    server.stop()
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version_hub SET version_num = '0000_older'"))
    engine.dispose()
    with pytest.raises(SchemaNotCurrent, match="0000_older"):
        HubServer(settings).start()

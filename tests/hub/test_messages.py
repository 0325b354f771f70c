"""Messages end to end over real TLS: send, upload, mailbox, download, ack, receipts."""

from __future__ import annotations

import base64
import hashlib
import threading
import time

from ggk.hub.receipts import verify_receipt
from tests.hub.conftest import RunningHub
from tests.hub.helpers import TUS, attachment, message_body, patch, send, upload


def test_message_life_cycle(running_hub: RunningHub) -> None:
    gemeente = running_hub.client("gemeente_a")
    cbs = running_hub.client("cbs")
    data = b"gemeentecode;periode\nGM0363;2026-H1\n" * 1000
    body = message_body(running_hub.oin["cbs"], attachments=[attachment("basis.csv", data)])
    created = gemeente.post("/api/v1/messages", json=body)
    assert created.status_code == 201
    message = created.json()
    assert message["state"] == "accepted" and message["sender"] == running_hub.oin["gemeente_a"]
    assert message["cursor"] is None
    # not visible to the receiver before the upload is complete
    assert cbs.get("/api/v1/messages").json()["messages"] == []
    assert cbs.get(f"/api/v1/messages/{body['id']}").status_code == 404
    upload(gemeente, message["attachments"][0]["upload_url"], data, chunk_size=10_000)

    inbox = cbs.get("/api/v1/messages", params={"box": "inbox"}).json()
    assert [m["id"] for m in inbox["messages"]] == [body["id"]]
    received = inbox["messages"][0]
    assert received["state"] == "available" and received["attachments"][0]["state"] == "complete"
    assert inbox["cursor"] == received["cursor"]
    download = cbs.get(received["attachments"][0]["download_url"])
    assert download.status_code == 200 and download.content == data
    assert download.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert cbs.get(f"/api/v1/messages/{body['id']}").json()["state"] == "fetched"
    # a cursor after the last one gives nothing new
    assert cbs.get("/api/v1/messages", params={"after": inbox["cursor"]}).json()["messages"] == []

    acked = cbs.post(f"/api/v1/messages/{body['id']}/ack")
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    assert cbs.post(f"/api/v1/messages/{body['id']}/ack").status_code == 200  # idempotent
    assert cbs.get("/api/v1/messages").json()["messages"] == []  # acknowledged leaves the inbox

    outbox = gemeente.get("/api/v1/messages", params={"box": "outbox"}).json()
    assert outbox["messages"][0]["state"] == "acknowledged"

    key = gemeente.get("/api/v1/hub-key").json()
    assert key["algorithm"] == "Ed25519"
    signed = gemeente.get(f"/api/v1/messages/{body['id']}/receipt").json()
    receipt = signed["receipt"]
    assert [e["state"] for e in receipt["events"]] == [
        "accepted", "available", "fetched", "acknowledged"]
    assert receipt["events"][-1]["by"] == running_hub.oin["cbs"]
    assert receipt["attachments"] == [{"name": "basis.csv", "size": len(data),
                                       "sha256": hashlib.sha256(data).hexdigest()}]
    assert receipt["hub_key_id"] == key["key_id"]
    jwks = gemeente.get("/api/v1/hub-keys").json()
    assert [k["kid"] for k in jwks["keys"]] == [key["key_id"]]
    assert verify_receipt(signed, jwks)
    tampered = {**signed, "receipt": {**receipt, "receiver": running_hub.oin["gemeente_b"]}}
    assert not verify_receipt(tampered, jwks)
    assert verify_receipt(cbs.get(f"/api/v1/messages/{body['id']}/receipt").json(), jwks)


def test_message_without_attachments_is_available_at_once(running_hub: RunningHub) -> None:
    cbs = running_hub.client("cbs")
    gemeente = running_hub.client("gemeente_b")
    body = message_body(running_hub.oin["gemeente_b"], type="gmsd.bevestiging")
    created = cbs.post("/api/v1/messages", json=body).json()
    assert created["state"] == "available" and created["cursor"] is not None
    assert [m["id"] for m in gemeente.get("/api/v1/messages").json()["messages"]] == [body["id"]]


def test_duplicate_ids(running_hub: RunningHub) -> None:
    gemeente = running_hub.client("gemeente_a")
    body = message_body(running_hub.oin["cbs"], attachments=[attachment("a.csv", b"x;y\n")])
    first = gemeente.post("/api/v1/messages", json=body)
    again = gemeente.post("/api/v1/messages", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    upload_url = first.json()["attachments"][0]["upload_url"]
    assert again.json()["attachments"][0]["upload_url"] == upload_url
    changed = gemeente.post("/api/v1/messages", json={**body, "metadata": {"other": True}})
    assert changed.status_code == 409 and changed.json()["code"] == "duplicate-id"
    # another party reusing the id never gets the original, and is not told it exists: its
    # message is stored under an id of its own (the same on a retry); see test_security.py
    other = running_hub.client("gemeente_b").post("/api/v1/messages", json=body)
    assert other.status_code == 201 and other.json()["id"] != body["id"]
    assert other.json()["sender"] == running_hub.oin["gemeente_b"]


def test_checksum_and_size_mismatch_refuse_the_message(running_hub: RunningHub) -> None:
    gemeente = running_hub.client("gemeente_a")
    cbs_oin = running_hub.oin["cbs"]
    declared = attachment("basis.csv", b"echte inhoud\n")
    body = message_body(cbs_oin, attachments=[declared])
    url = gemeente.post("/api/v1/messages", json=body).json()["attachments"][0]["upload_url"]
    assert patch(gemeente, url, 0, b"andere inhoud").status_code == 204  # same length
    refused = gemeente.get(f"/api/v1/messages/{body['id']}").json()
    assert refused["state"] == "refused" and refused["refusal_reason"] == "checksum-mismatch"
    assert refused["attachments"][0]["state"] == "refused"
    assert running_hub.client("cbs").get("/api/v1/messages").json()["messages"] == []

    # a chunk whose Upload-Checksum does not match is discarded (460), offset unchanged
    body = message_body(cbs_oin, attachments=[attachment("b.csv", b"0123456789")])
    url = gemeente.post("/api/v1/messages", json=body).json()["attachments"][0]["upload_url"]
    bad = gemeente.patch(url, content=b"01234", headers={
        **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
        "Upload-Checksum": "sha256 " + base64.b64encode(hashlib.sha256(b"x").digest()).decode()})
    assert bad.status_code == 460
    assert gemeente.head(url, headers=TUS).headers["Upload-Offset"] == "0"
    # more bytes than declared: refused, nothing written
    too_long = patch(gemeente, url, 0, b"0123456789ABC")
    assert too_long.status_code == 413
    assert gemeente.head(url, headers=TUS).headers["Upload-Offset"] == "0"


def test_size_limit_and_disk_guard(start_hub) -> None:  # type: ignore[no-untyped-def]
    hub = start_hub(max_message_bytes=1000)
    gemeente = hub.client("gemeente_a")
    big = {"name": "big.csv", "content_type": "text/csv", "size": 1001, "sha256": "0" * 64}
    response = gemeente.post("/api/v1/messages",
                             json=message_body(hub.oin["cbs"], attachments=[big]))
    assert response.status_code == 413 and response.json()["code"] == "message-too-large"
    hub.settings.min_free_bytes = 2**62  # more than any disk has
    small = attachment("small.csv", b"a;b\n")
    response = gemeente.post("/api/v1/messages",
                             json=message_body(hub.oin["cbs"], attachments=[small]))
    assert response.status_code == 507 and response.json()["code"] == "insufficient-storage"


def test_long_poll_wakes_up_on_a_new_message(running_hub: RunningHub) -> None:
    cbs = running_hub.client("cbs")
    gemeente = running_hub.client("gemeente_a")
    cursor = cbs.get("/api/v1/messages").json()["cursor"]
    result: dict[str, object] = {}

    def wait() -> None:
        response = cbs.get("/api/v1/messages", params={"wait": 20, "after": cursor or 0})
        result["messages"] = response.json()["messages"]

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive()  # really waiting
    sent = send(gemeente, running_hub.oin["cbs"], {"basis.csv": b"a;b\n1;2\n"})
    waiter.join(timeout=25)
    # the long poll answered with the message (an expired wait would answer empty)
    assert [m["id"] for m in result["messages"]] == [sent["id"]]  # type: ignore[union-attr]


def test_long_poll_times_out_empty(running_hub: RunningHub) -> None:
    response = running_hub.client("gemeente_b").get("/api/v1/messages", params={"wait": 0.5})
    assert response.status_code == 200 and response.json()["messages"] == []


def test_ping_between_any_parties(running_hub: RunningHub) -> None:
    operator = running_hub.client("operator")
    gemeente = running_hub.client("gemeente_a")
    ping = message_body(running_hub.oin["gemeente_a"], type="ggk.ping")
    assert operator.post("/api/v1/messages", json=ping).status_code == 201
    received = gemeente.get("/api/v1/messages", params={"type": "ggk.ping"}).json()["messages"]
    assert [m["id"] for m in received] == [ping["id"]]
    pong = message_body(running_hub.oin["operator"], type="ggk.pong", in_reply_to=ping["id"])
    assert gemeente.post("/api/v1/messages", json=pong).status_code == 201
    assert operator.get("/api/v1/messages").json()["messages"][0]["in_reply_to"] == ping["id"]


def test_acknowledging_several_messages_at_once(running_hub: RunningHub) -> None:
    """POST /messages/ack: one transaction, but every message gets its own state change (own
    change cursor), audit entry and receipt event; all or none; idempotent."""
    import sqlalchemy as sa

    from ggk.hub import audit
    from ggk.hub.database import create_engine

    cbs = running_hub.client("cbs")
    gemeente = running_hub.client("gemeente_a")
    sent = [send(gemeente, running_hub.oin["cbs"]) for _ in range(3)]
    ids = [m["id"] for m in sent]
    pending = send(gemeente, running_hub.oin["cbs"], {"a.csv": b"x"})  # available, not acked
    own = send(cbs, running_hub.oin["gemeente_a"], type="gmsd.bevestiging")  # cbs is sender
    unknown = "00000000-0000-4000-8000-000000000000"
    before = gemeente.get("/api/v1/messages", params={"box": "outbox"}).json()["cursor"]

    # all or none: one bad id (unknown 404, not the receiver 403) and nothing is acknowledged
    for bad, status, code in [(unknown, 404, "message-not-found"),
                              (own["id"], 403, "not-receiver")]:
        refused = cbs.post("/api/v1/messages/ack", json={"ids": [*ids, bad]})
        assert refused.status_code == status and refused.json()["code"] == code
    assert {m["id"] for m in cbs.get("/api/v1/messages").json()["messages"]} == {
        *ids, pending["id"]}
    assert gemeente.post("/api/v1/messages/ack", json={"ids": ids}).status_code == 403  # sender
    other = running_hub.client("gemeente_b").post("/api/v1/messages/ack", json={"ids": ids})
    assert other.status_code == 404  # someone else's messages do not exist for you
    assert cbs.post("/api/v1/messages/ack", json={"ids": []}).status_code == 422
    assert cbs.post("/api/v1/messages/ack", json={"ids": ["nope"]}).status_code == 422

    acked = cbs.post("/api/v1/messages/ack", json={"ids": [ids[1], ids[0], ids[1], ids[2]]})
    assert acked.status_code == 200
    answered = acked.json()["messages"]
    assert [m["id"] for m in answered] == [ids[1], ids[0], ids[2]]  # given order, once each
    assert {m["state"] for m in answered} == {"acknowledged"}
    assert [m["id"] for m in cbs.get("/api/v1/messages").json()["messages"]] == [pending["id"]]
    # idempotent, also mixed with a message still to acknowledge
    again = cbs.post("/api/v1/messages/ack", json={"ids": [*ids, pending["id"]]})
    assert again.status_code == 200
    assert [m["acknowledged_at"] for m in again.json()["messages"][:3]] == [
        m["acknowledged_at"] for m in sorted(answered, key=lambda m: ids.index(m["id"]))]

    # the sender sees every change, each with its own change cursor
    changed = gemeente.get("/api/v1/messages",
                           params={"box": "outbox", "after": before}).json()["messages"]
    assert sorted(m["id"] for m in changed) == sorted([*ids, pending["id"]])
    engine = create_engine(running_hub.settings.resolved_database_url())
    try:
        with engine.connect() as conn:
            cursors = conn.execute(sa.text(
                "SELECT change_cursor FROM hub_message WHERE id IN (:a, :b, :c, :d)"),
                dict(zip("abcd", [*ids, pending["id"]], strict=True))).scalars().all()
            entries = {i: [e for e in audit.entries(conn, i) if e.action == "acknowledged"]
                       for i in [*ids, pending["id"]]}
    finally:
        engine.dispose()
    assert len(set(cursors)) == 4
    assert all(len(found) == 1 and found[0].actor == running_hub.oin["cbs"]
               for found in entries.values())
    receipt = cbs.get(f"/api/v1/messages/{ids[2]}/receipt").json()["receipt"]
    assert [e["state"] for e in receipt["events"]] == ["accepted", "available", "acknowledged"]

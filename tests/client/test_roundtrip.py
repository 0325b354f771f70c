"""Send -> mailbox -> download -> ack -> receipt against a real hub, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest

from ggk.client import AttachmentSource, Conflict, Forbidden, HubClient, NotFound
from tests.client.conftest import CBS_OIN, GEMEENTE2_OIN, GEMEENTE_OIN, RunningHub


def test_roundtrip_send_receive_ack_receipt(
    hub_on_each_database: RunningHub, tmp_path: Path
) -> None:
    hub = hub_on_each_database
    basis = tmp_path / "basis.csv"
    basis.write_bytes(b"gemeentecode;bsn\n" + b"GM0363;123456782\n" * 5000)
    extra = tmp_path / "toelichting.bin"
    extra.write_bytes(os.urandom(300_000))
    with (
        HubClient(hub.url, hub.gemeente, hub.ca) as gemeente,
        HubClient(hub.url, hub.cbs, hub.ca) as cbs,
    ):
        assert gemeente.me().oin == GEMEENTE_OIN
        assert gemeente.me().gemeentecode == "GM0363"
        receiver = gemeente.find_party(role="cbs")
        assert receiver.oin == CBS_OIN
        progress: list[tuple[str, int, int]] = []
        sent = gemeente.send(
            receiver.oin,
            "gmsd.aanlevering",
            {"statistic": "gmsd", "period": "2026-H1"},
            [basis, AttachmentSource(extra, name="extra.bin", content_type="application/x-test")],
            conversation_id="gmsd-2026-H1-GM0363",
            progress=lambda *p: progress.append(p),
        )
        assert sent.state == "available"
        assert {a.state for a in sent.attachments} == {"complete"}
        assert progress[-1][1:] == (extra.stat().st_size, extra.stat().st_size)

        page = cbs.mailbox(wait=5)
        received = [m for m in page.messages if m.id == sent.id]
        assert received, "the message did not reach the CBS inbox"
        message = received[0]
        assert message.sender == GEMEENTE_OIN
        assert message.metadata == {"statistic": "gmsd", "period": "2026-H1"}
        assert message.conversation_id == "gmsd-2026-H1-GM0363"
        assert message.attachment("extra.bin").content_type == "application/x-test"

        out = tmp_path / "out"
        out.mkdir()
        first = cbs.download(sent.id, "basis.csv", out)
        second = cbs.download(sent.id, "extra.bin", out / "renamed.bin")
        assert first.path.read_bytes() == basis.read_bytes()
        assert second.path.read_bytes() == extra.read_bytes()
        assert second.sha256 == hashlib.sha256(extra.read_bytes()).hexdigest()
        assert cbs.message(sent.id).state == "fetched"

        acked = cbs.ack(sent.id)
        assert acked.state == "acknowledged"
        assert cbs.ack(sent.id).state == "acknowledged"  # idempotent
        assert sent.id not in {m.id for m in cbs.mailbox().messages}

        receipt = gemeente.receipt(sent.id)
        assert receipt.message_id == sent.id
        assert (receipt.sender, receipt.receiver) == (GEMEENTE_OIN, CBS_OIN)
        assert {a["name"] for a in receipt.attachments} == {"basis.csv", "extra.bin"}
        assert receipt.event("acknowledged") is not None
        assert receipt.event("available") is not None
        assert receipt.event("fetched") is not None
        assert cbs.receipt(sent.id).message_id == sent.id  # the receiver may read it too

        outbox = gemeente.mailbox(box="outbox").messages
        assert sent.id in {m.id for m in outbox}


def test_same_id_is_idempotent_and_different_content_conflicts(
    hub: RunningHub, tmp_path: Path
) -> None:
    data = tmp_path / "a.csv"
    data.write_text("x\n1\n")
    message_id = str(uuid.uuid4())
    with HubClient(hub.url, hub.gemeente, hub.ca) as gemeente:
        first = gemeente.send(CBS_OIN, "gmsd.aanlevering", {"p": "1"}, [data], id=message_id)
        again = gemeente.send(CBS_OIN, "gmsd.aanlevering", {"p": "1"}, [data], id=message_id)
        assert again.id == first.id and again.created_at == first.created_at
        with pytest.raises(Conflict) as caught:
            gemeente.send(CBS_OIN, "gmsd.aanlevering", {"p": "2"}, [data], id=message_id)
        assert caught.value.status == 409


def test_errors_are_typed(hub: RunningHub, tmp_path: Path) -> None:
    with (
        HubClient(hub.url, hub.gemeente, hub.ca) as gemeente,
        HubClient(hub.url, hub.gemeente2, hub.ca) as other,
    ):
        sent = gemeente.send(CBS_OIN, "gmsd.besluit", {"besluit": "opt-in"})
        with pytest.raises(NotFound) as caught:
            other.message(sent.id)  # another party's message: 404, existence not leaked
        assert caught.value.status == 404
        with pytest.raises(Forbidden) as refused:
            gemeente.send(GEMEENTE2_OIN, "gmsd.aanlevering", {})  # gemeente -> gemeente
        assert refused.value.code
        assert other.find_party(gemeentecode="gm0363").oin == GEMEENTE_OIN
        with pytest.raises(NotFound, match="no active party with gemeentecode=GM9999"):
            other.find_party(gemeentecode="GM9999")
        with pytest.raises(FileNotFoundError, match="attachment not found"):
            gemeente.send(CBS_OIN, "gmsd.aanlevering", {}, [tmp_path / "missing.csv"])


def test_iter_new_follows_pages_and_cursor(hub: RunningHub) -> None:
    with (
        HubClient(hub.url, hub.gemeente, hub.ca) as gemeente,
        HubClient(hub.url, hub.cbs, hub.ca) as cbs,
    ):
        ids = [gemeente.send(CBS_OIN, "gmsd.besluit", {"n": i}).id for i in range(5)]
        seen = list(cbs.iter_new(type="gmsd.besluit"))
        assert [m.id for m in seen] == ids
        last = seen[-1].cursor
        later = gemeente.send(CBS_OIN, "gmsd.besluit", {"n": 5})
        assert [m.id for m in cbs.iter_new(after=last, wait=5)] == [later.id]


def test_ack_many_acknowledges_a_page_in_one_request(hub_on_each_database: RunningHub) -> None:
    hub = hub_on_each_database
    with (
        HubClient(hub.url, hub.gemeente, hub.ca) as gemeente,
        HubClient(hub.url, hub.cbs, hub.ca) as cbs,
    ):
        ids = [gemeente.send(CBS_OIN, "gmsd.besluit", {"n": i}).id for i in range(4)]
        page = cbs.mailbox(type="gmsd.besluit")
        assert [m.id for m in page.messages] == ids
        acked = cbs.ack_many([m.id for m in page.messages] + [ids[0]])
        assert [m.id for m in acked] == ids and {m.state for m in acked} == {"acknowledged"}
        assert cbs.mailbox(type="gmsd.besluit").messages == ()
        assert [m.id for m in cbs.ack_many(ids[:2])] == ids[:2]  # idempotent
        assert cbs.ack_many([]) == []
        late = gemeente.send(CBS_OIN, "gmsd.besluit", {"n": 4}).id
        with pytest.raises(Forbidden):
            gemeente.ack_many([late])  # only the receiver acknowledges
        with pytest.raises(NotFound):  # all or none: the unknown id stops the whole request
            cbs.ack_many([late, str(uuid.uuid4())])
        assert [m.id for m in cbs.mailbox(type="gmsd.besluit").messages] == [late]
        assert [e.state for e in cbs.receipt(ids[3]).events] == [
            "accepted", "available", "acknowledged"]


def test_monitoring_for_cbs_and_not_for_a_gemeente(hub: RunningHub, tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_bytes(b"x\n" * 1000)
    with (
        HubClient(hub.url, hub.gemeente, hub.ca) as gemeente,
        HubClient(hub.url, hub.cbs, hub.ca) as cbs,
    ):
        gemeente.send(CBS_OIN, "gmsd.aanlevering", {}, [data])
        by_oin = {p.oin: p for p in cbs.monitoring()}
        assert by_oin[CBS_OIN].unacknowledged == 1
        assert by_oin[CBS_OIN].oldest_unacknowledged_seconds is not None
        assert by_oin[GEMEENTE_OIN].bytes_in >= 2000
        assert by_oin[GEMEENTE_OIN].name == "Gemeente Amsterdam"
        with pytest.raises(Forbidden):
            gemeente.monitoring()


def test_a_wrong_declared_checksum_is_refused_and_resending_does_not_upload_again(
    hub: RunningHub, tmp_path: Path
) -> None:
    data = tmp_path / "basis.csv"
    data.write_bytes(b"gemeentecode\nGM0363\n" * 100)
    wrong = AttachmentSource(data, sha256="0" * 64)
    message_id = str(uuid.uuid4())
    with HubClient(hub.url, hub.gemeente, hub.ca) as gemeente:
        refused = gemeente.send(CBS_OIN, "gmsd.aanlevering", {}, [wrong], id=message_id)
        assert (refused.state, refused.refusal_reason) == ("refused", "checksum-mismatch")
        again = gemeente.send(CBS_OIN, "gmsd.aanlevering", {}, [wrong], id=message_id)
        assert again.state == "refused"
    with HubClient(hub.url, hub.cbs, hub.ca) as cbs:
        assert message_id not in {m.id for m in cbs.mailbox().messages}


def _chunks_seen(cbs: HubClient) -> dict[str, float]:
    text = cbs.transport.request("GET", "/metrics").text
    seen = {"none": 0.0, "sha256": 0.0}
    for line in text.splitlines():
        if line.startswith("ggk_hub_upload_chunks_total{"):
            label = line.split('checksum="', 1)[1].split('"', 1)[0]
            seen[label] = float(line.rsplit(" ", 1)[1])
    return seen


def test_chunk_checksums_are_sent_only_when_asked(hub: RunningHub, tmp_path: Path) -> None:
    """By default a chunk goes without Upload-Checksum (TLS protects it, the hub checks the whole
    file's sha256); `chunk_checksums=True` adds a sha256 per chunk. Both uploads arrive whole."""
    mib = 1024 * 1024
    payload = tmp_path / "groot.bin"
    payload.write_bytes(os.urandom(3 * mib + 17))  # 4 chunks of at most 1 MiB
    with HubClient(hub.url, hub.cbs, hub.ca) as cbs:
        for checksums, expected in ((False, {"none": 4.0, "sha256": 0.0}),
                                    (True, {"none": 4.0, "sha256": 4.0})):
            with HubClient(
                hub.url, hub.gemeente, hub.ca, chunk_size=mib, chunk_checksums=checksums
            ) as gemeente:
                sent = gemeente.send(CBS_OIN, "gmsd.aanlevering", {}, [payload])
            assert sent.state == "available"
            assert _chunks_seen(cbs) == expected
            back = cbs.download(sent.id, payload.name, tmp_path / f"terug-{checksums}.bin")
            assert back.path.read_bytes() == payload.read_bytes()

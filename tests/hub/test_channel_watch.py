"""`ChannelWatch` (what the operator console reads) on SQLite and PostgreSQL against a live hub:
waiting messages and their age per receiver, last seen per party, certificate expiry, recent
messages and the audit trail of one message."""

from __future__ import annotations

import uuid

from ggk.hub.channel_watch import HubChannelWatch
from ggk.hub.database import create_engine
from tests.hub.conftest import RunningHub


def test_health_recent_and_trail(running_hub: RunningHub) -> None:
    sender = running_hub.client("gemeente_a")
    message_id = str(uuid.uuid4())
    sent = sender.post("/api/v1/messages", json={
        "id": message_id, "receiver": running_hub.oin["cbs"], "type": "gmsd.toelichting",
        "metadata": {}})
    assert sent.status_code == 201, sent.text
    engine = create_engine(running_hub.settings.database_url)
    try:
        watch = HubChannelWatch(engine)
        health = {p.oin: p for p in watch.health()}
        cbs, gemeente = health[running_hub.oin["cbs"]], health[running_hub.oin["gemeente_a"]]
        assert cbs.waiting == 1 and cbs.oldest_waiting_seconds is not None
        assert gemeente.waiting == 0 and gemeente.last_seen is not None
        assert cbs.cert_not_after is not None
        assert [m.id for m in watch.recent(10, running_hub.oin["gemeente_a"])] == [message_id]
        assert watch.messages(message_id)[0].state == "available"
        assert [e.action for e in watch.trail(message_id)][:2] == ["accepted", "available"]
        assert watch.trail("00000000-0000-4000-8000-000000000000") == []
    finally:
        engine.dispose()

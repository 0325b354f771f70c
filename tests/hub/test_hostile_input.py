"""Input that PostgreSQL or the file store cannot take gets a clear 4xx, never a 5xx."""

from __future__ import annotations

from tests.hub.conftest import RunningHub
from tests.hub.helpers import TUS, message_body


def test_hostile_identifiers_and_strings(running_hub: RunningHub) -> None:
    client = running_hub.client("gemeente_a")
    for path in ["/api/v1/messages/%00", "/api/v1/messages/not-a-uuid/receipt",
                 "/api/v1/messages/" + "9" * 500, "/api/v1/messages/%00/attachments/x"]:
        assert client.get(path).status_code == 404, path
    assert client.post("/api/v1/messages/%00/ack").status_code == 404
    for upload in ["%00", "..", "x" * 300]:
        assert client.head(f"/api/v1/uploads/{upload}", headers=TUS).status_code == 404
    assert client.get("/api/v1/messages", params={"type": "a\x00b"}).status_code == 422
    assert client.get("/api/v1/messages", params={"after": 2**70}).status_code == 422
    for field, value in [("conversation_id", "a\x00"), ("metadata", {"k\x00": 1}),
                         ("metadata", {"k": ["\x00"]})]:
        body = message_body(running_hub.oin["cbs"], **{field: value})
        response = client.post("/api/v1/messages", json=body)
        assert response.status_code == 422, (field, response.text)
    # an uppercase UUID is the same message
    body = message_body(running_hub.oin["cbs"])
    client.post("/api/v1/messages", json=body)
    assert client.get(f"/api/v1/messages/{body['id'].upper()}").status_code == 200

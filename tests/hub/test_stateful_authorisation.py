"""A Hypothesis state machine against the live hub (issue 10): random sequences of sends,
reads, acknowledgements and downloads by every role, each answer compared with a model of who
may see and do what (routing table, sender/receiver visibility, ids scoped per sender). Runs on
SQLite and PostgreSQL (`running_hub`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from ggk.hub.routing import route_allowed
from tests.hub.conftest import PARTIES, RunningHub
from tests.hub.helpers import message_body

ACTORS = ("gemeente_a", "gemeente_b", "cbs", "operator")
TYPES = ("gmsd.aanlevering", "gmsd.spiegelrapport", "ggk.ping")


@dataclass
class Sent:
    id: str
    sender: str
    receiver: str
    acknowledged: bool = False


def test_random_sequences_follow_the_authorisation_model(running_hub: RunningHub) -> None:
    hub = running_hub
    clients = {name: hub.client(name) for name in ACTORS}
    role = {name: PARTIES[name].role for name in ACTORS}
    seen_ids: set[str] = set()

    class Hub(RuleBasedStateMachine):
        messages = Bundle("messages")

        def __init__(self) -> None:
            super().__init__()
            self.sent: list[Sent] = []

        def _send(self, sender: str, receiver: str, type: str, message_id: str) -> Sent | None:
            body = message_body(hub.oin[receiver], type=type)
            body["id"] = message_id
            answer = clients[sender].post("/api/v1/messages", json=body)
            allowed = (type == "ggk.ping" or role[sender] != "operator") and route_allowed(
                role[sender], role[receiver], type)
            assert answer.status_code == (201 if allowed else 403), answer.text
            if not allowed:
                return None
            stored = answer.json()
            assert stored["sender"] == hub.oin[sender]
            # an id somebody else already used is never the other message, and never a 409
            assert (stored["id"] == message_id) == (message_id not in seen_ids)
            seen_ids.add(stored["id"])
            sent = Sent(stored["id"], sender, receiver)
            self.sent.append(sent)
            return sent

        @rule(target=messages, sender=st.sampled_from(ACTORS),
              receiver=st.sampled_from(ACTORS), type=st.sampled_from(TYPES))
        def send(self, sender: str, receiver: str, type: str) -> Sent | None:
            return self._send(sender, receiver, type, str(uuid.uuid4()))

        @rule(target=messages, other=messages, sender=st.sampled_from(ACTORS),
              receiver=st.sampled_from(ACTORS))
        def send_with_a_taken_id(self, other: Sent | None, sender: str,
                                 receiver: str) -> Sent | None:
            if other is None or other.sender == sender:
                return None
            return self._send(sender, receiver, "ggk.ping", other.id)

        @rule(message=messages, party=st.sampled_from(ACTORS))
        def read(self, message: Sent | None, party: str) -> None:
            if message is None:
                return
            answer = clients[party].get(f"/api/v1/messages/{message.id}")
            visible = party in (message.sender, message.receiver)
            assert answer.status_code == (200 if visible else 404)
            receipt = clients[party].get(f"/api/v1/messages/{message.id}/receipt")
            assert receipt.status_code == (200 if visible else 404)

        @rule(message=messages, party=st.sampled_from(ACTORS))
        def acknowledge(self, message: Sent | None, party: str) -> None:
            if message is None:
                return
            answer = clients[party].post(f"/api/v1/messages/{message.id}/ack")
            if party == message.receiver:
                assert answer.status_code == 200
                message.acknowledged = True
            elif party == message.sender:
                assert answer.status_code == 403
            else:
                assert answer.status_code == 404

        @rule(message=messages, party=st.sampled_from(ACTORS))
        def download_nothing(self, message: Sent | None, party: str) -> None:
            if message is None:
                return
            url = f"/api/v1/messages/{message.id}/attachments/basis.csv"
            visible = party in (message.sender, message.receiver)
            for method in ("GET", "HEAD"):
                answer = clients[party].request(method, url)
                assert answer.status_code == 404, (method, visible)
                if method == "GET":
                    expected = "attachment-not-found" if visible else "message-not-found"
                    assert answer.json()["code"] == expected

        @invariant()
        def inboxes_hold_exactly_what_was_sent_to_them(self) -> None:
            mine = {s.id for s in self.sent}
            for party in ACTORS:
                listed = clients[party].get("/api/v1/messages", params={"limit": 1000}).json()
                ids = {m["id"] for m in listed["messages"]} & mine
                assert ids == {s.id for s in self.sent
                               if s.receiver == party and not s.acknowledged}

    Hub.TestCase.settings = settings(max_examples=12, stateful_step_count=12, deadline=None,
                                     database=None, derandomize=True,
                                     suppress_health_check=list(HealthCheck))
    Hub.TestCase().runTest()

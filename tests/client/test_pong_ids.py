"""Pong ids nobody else can take (issue 10, finding 1): the client's own `answer_pings` names its
pong with an HMAC of the ping id under a secret from its certificate file. Before, the id was
uuid5 of the ping id in a public namespace: another party took it first and the pinged client
failed on that ping for ever."""

from __future__ import annotations

import time
import uuid

from ggk.client import HubClient
from ggk.client.hub_client import _PONG_NAMESPACE
from ggk.client.interfaces import PING_TYPE
from tests.client.conftest import CBS_OIN, GEMEENTE_OIN, RunningHub


def _client(hub: RunningHub, pem) -> HubClient:  # noqa: ANN001
    return HubClient(hub.url, cert=pem, ca=hub.ca)


def test_a_pong_id_cannot_be_taken_by_another_party(hub: RunningHub) -> None:
    with _client(hub, hub.gemeente) as gemeente, _client(hub, hub.gemeente2) as attacker, \
            _client(hub, hub.cbs) as cbs, _client(hub, hub.cbs) as cbs_again:
        ping_id = str(uuid.uuid4())
        # the attacker takes the id the pong used to have (public namespace) ...
        old = str(uuid.uuid5(_PONG_NAMESPACE, f"pong:{ping_id}"))
        attacker.send(CBS_OIN, PING_TYPE, {"sent_at": time.time(), "ping_back": False}, id=old)
        ping = gemeente.send(CBS_OIN, PING_TYPE, {"sent_at": time.time(), "ping_back": False},
                             id=ping_id)
        # ... and cannot compute the new one: it depends on the answering party's key
        assert attacker.pong_id(ping_id) != cbs.pong_id(ping_id) != old
        # every client with the same certificate computes the same id (idempotent answers)
        assert cbs_again.pong_id(ping_id) == cbs.pong_id(ping_id)
        inbox = [m for m in cbs.mailbox().messages if m.id == ping.id]
        answered = cbs.answer_pings(inbox)
        assert [p.id for p in answered.pongs] == [cbs.pong_id(ping_id)]
        assert answered.acknowledged == (ping.id,)
        again = cbs_again.answer_pings(inbox)  # answering twice is no error: the same pong
        assert [p.id for p in again.pongs] == [cbs.pong_id(ping_id)]
        pong = gemeente.message(cbs.pong_id(ping_id))
        assert pong.in_reply_to == ping.id and pong.receiver == GEMEENTE_OIN

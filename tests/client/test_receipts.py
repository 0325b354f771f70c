"""Receipts: a valid signature verifies; a tampered receipt or a wrong hub key is detected."""

from __future__ import annotations

import copy

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ggk.client import HubClient, ReceiptInvalid
from ggk.client.receipts import verify_receipt
from tests.client.conftest import CBS_OIN, RunningHub


def _other_key_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_tampered_receipt_and_wrong_hub_key_are_refused(hub: RunningHub) -> None:
    with HubClient(hub.url, hub.gemeente, hub.ca) as gemeente:
        sent = gemeente.send(CBS_OIN, "gmsd.besluit", {"besluit": "opt-in"})
        assert gemeente.receipt(sent.id).message_id == sent.id
        document = gemeente.transport.request("GET", f"/api/v1/messages/{sent.id}/receipt").json()
        key = gemeente.hub_key()
    assert verify_receipt(document, key).message_id == sent.id

    tampered = copy.deepcopy(document)
    tampered["receipt"]["receiver"] = "00000099000000000599"
    with pytest.raises(ReceiptInvalid, match="bad signature"):
        verify_receipt(tampered, key)

    with HubClient(hub.url, hub.gemeente, hub.ca, hub_key_pem=_other_key_pem()) as pinned:
        with pytest.raises(ReceiptInvalid, match="do not rely on it"):
            pinned.receipt(sent.id)

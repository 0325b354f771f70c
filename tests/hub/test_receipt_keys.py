"""Receipt keys from configuration, and a rotation: the JWKS holds the old and the new key, so
receipts signed before the rotation still verify afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from ggk.client import HubClient, ReceiptInvalid
from ggk.client.receipts import hub_key_from_jwk, verify_receipt
from tests.hub.conftest import StartHub
from tests.hub.helpers import message_body
from tests.hub.test_multinode import write_key


def test_a_rotated_key_still_verifies_earlier_receipts(start_hub: StartHub,
                                                       tmp_path: Path) -> None:
    old_key, new_key = write_key(tmp_path / "old.pem"), write_key(tmp_path / "new.pem")
    before = start_hub(receipt_key_file=old_key)
    body = message_body(before.oin["cbs"], type="gmsd.bevestiging")
    gemeente = before.client("gemeente_a")
    assert gemeente.post("/api/v1/messages", json=body).status_code == 201
    old_receipt = gemeente.get(f"/api/v1/messages/{body['id']}/receipt").json()
    old_kid = gemeente.get("/api/v1/hub-key").json()["key_id"]
    before.close()

    after = start_hub(receipt_key_file=new_key, receipt_previous_key_files=(old_key,))
    jwks = after.client("cbs").get("/api/v1/hub-keys").json()
    new_kid = after.client("cbs").get("/api/v1/hub-key").json()["key_id"]
    assert [k["kid"] for k in jwks["keys"]] == [new_kid, old_kid]
    with HubClient(after.base_url, after.pem["gemeente_a"], after.ca) as client:
        assert client.receipt(body["id"]).hub_key_id == new_kid
        assert verify_receipt(old_receipt, client.hub_keys()).hub_key_id == old_kid
    # once the old key is dropped from the JWKS, its receipts no longer verify
    only_new = [hub_key_from_jwk(k) for k in jwks["keys"] if k["kid"] == new_kid]
    with pytest.raises(ReceiptInvalid, match="not one of the hub's keys"):
        verify_receipt(old_receipt, only_new)

"""Receipt verification: an Ed25519 signature over the canonical JSON of the `receipt` object.

Canonical JSON (docs/hub-api.md): keys sorted, no spaces, UTF-8. A receipt that does not verify
raises ReceiptInvalid: it must never be shown or stored as proof.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ggk.client.interfaces import HubKey, Receipt, ReceiptEvent, ReceiptInvalid


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _public_key(key: HubKey) -> Ed25519PublicKey:
    loaded = load_pem_public_key(key.public_key_pem.encode("ascii"))
    if not isinstance(loaded, Ed25519PublicKey):
        raise ReceiptInvalid(f"hub key {key.key_id!r} is not an Ed25519 public key")
    return loaded


def verify_receipt(document: dict[str, Any], key: HubKey) -> Receipt:
    """Check the signature of a receipt answer `{"receipt": {...}, "signature": "b64"}`."""
    try:
        body = document["receipt"]
        signature = base64.b64decode(document["signature"], validate=True)
    except (KeyError, TypeError, binascii.Error) as error:
        raise ReceiptInvalid(f"malformed receipt document: {error}") from error
    message_id = body.get("message_id", "?")
    try:
        _public_key(key).verify(signature, canonical_json(body))
    except InvalidSignature as error:
        signed_with = body.get("hub_key_id")
        hint = (
            f" (it names hub key {signed_with!r}, the key in use is {key.key_id!r})"
            if signed_with and signed_with != key.key_id
            else ""
        )
        raise ReceiptInvalid(
            f"receipt of message {message_id} has a bad signature{hint}: it was altered or "
            "not issued by this hub; do not rely on it"
        ) from error
    return Receipt(
        message_id=body["message_id"],
        sender=body["sender"],
        receiver=body["receiver"],
        type=body["type"],
        attachments=tuple(body.get("attachments") or ()),
        events=tuple(
            ReceiptEvent(e["state"], parse_time(e["at"]), e.get("by"))  # type: ignore[arg-type]
            for e in body.get("events") or ()
        ),
        issued_at=parse_time(body["issued_at"]),  # type: ignore[arg-type]
        hub_key_id=body.get("hub_key_id") or key.key_id,
        signature=document["signature"],
        document=body,
        state=body.get("state"),
        refusal_reason=body.get("refusal_reason"),
    )

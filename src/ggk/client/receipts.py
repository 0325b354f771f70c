"""Receipt verification: a compact JWS (alg Ed25519, `kid` the hub key id) whose payload is
the canonical JSON of the `receipt` object.

Canonical JSON (docs/hub-api.md): keys sorted, no spaces, UTF-8. The key is picked by the JWS
header's `kid` among the hub's published keys (JWKS, which holds the old and the new key during
a rotation) or is the one pinned key. A receipt that does not verify raises ReceiptInvalid: it
must never be shown or stored as proof.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from ggk.client.interfaces import HubKey, Receipt, ReceiptEvent, ReceiptInvalid

JWS_ALGORITHM = "Ed25519"  # EdDSA over Ed25519 (RFC 9864's name)
PINNED = "pinned"


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def hub_key_from_jwk(jwk: dict[str, Any]) -> HubKey:
    """A key of the hub's JWKS (`/api/v1/hub-keys`) as a HubKey."""
    pem = OKPKey.import_key(jwk).as_pem(private=False).decode("ascii")
    return HubKey(str(jwk.get("kid", "")), str(jwk.get("alg", JWS_ALGORITHM)), pem)


def verify_receipt(document: dict[str, Any], keys: HubKey | Sequence[HubKey]) -> Receipt:
    """Check a receipt answer `{"receipt": {...}, "jws": "<compact JWS>"}` against the hub key
    named by the JWS header (or the pinned key)."""
    candidates = (keys,) if isinstance(keys, HubKey) else tuple(keys)
    try:
        body = document["receipt"]
        token = document["jws"]
        kid = jws.extract_compact(token.encode("ascii")).headers().get("kid")
    except (KeyError, TypeError, AttributeError, UnicodeEncodeError, JoseError,
            ValueError) as error:
        raise ReceiptInvalid(f"malformed receipt document: {error}") from error
    message_id = body.get("message_id", "?")
    chosen = [k for k in candidates if k.key_id in (kid, PINNED)]
    if not chosen:
        raise ReceiptInvalid(
            f"receipt of message {message_id} is signed with hub key {kid!r}, which is not one "
            f"of the hub's keys ({', '.join(k.key_id for k in candidates)}): do not rely on it")
    try:
        verified = jws.deserialize_compact(
            token, OKPKey.import_key(chosen[0].public_key_pem), algorithms=[JWS_ALGORITHM])
        if verified.payload != canonical_json(body):
            raise ReceiptInvalid(f"receipt of message {message_id} differs from what the hub "
                                 "signed (bad signature): it was altered; do not rely on it")
    except JoseError as error:
        signed_with = body.get("hub_key_id")
        hint = (
            f" (it names hub key {signed_with!r}, the key in use is {chosen[0].key_id!r})"
            if signed_with and signed_with != chosen[0].key_id
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
        hub_key_id=body.get("hub_key_id") or str(kid),
        signature=token,
        document=body,
        state=body.get("state"),
        refusal_reason=body.get("refusal_reason"),
    )

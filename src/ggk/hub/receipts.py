"""The hub's Ed25519 keys and signed receipts.

A receipt is a JSON object, signed as a JWS (RFC 7515, compact serialisation, `joserfc`) whose
payload is its canonical JSON (sorted keys, no spaces, UTF-8) and whose protected header names the
algorithm `Ed25519` (EdDSA over Ed25519, the fully specified name of RFC 9864) and the key id. The
public keys are published as a JWKS (`/api/v1/hub-keys`): the signing key and, during a rotation,
the earlier ones, so receipts signed before the rotation still verify.

Embedded, the key lives in the store folder and is created once, atomically, by `ggk hub migrate`
or the first start. With several hub nodes it comes from configuration (`--receipt-key`), the
same file on every node.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

JWS_ALGORITHM = "Ed25519"  # RFC 9864: EdDSA with Ed25519 ("EdDSA" is deprecated there)


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class HubKey:
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        raw = self.public_key.public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]

    @property
    def public_key_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, receipt: dict[str, Any]) -> str:
        """The compact JWS of `receipt` (payload: its canonical JSON)."""
        key = OKPKey.import_key(self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        return jws.serialize_compact({"alg": JWS_ALGORITHM, "kid": self.key_id},
                                     canonical_json(receipt), key, algorithms=[JWS_ALGORITHM])

    def describe(self) -> dict[str, str]:
        return {"key_id": self.key_id, "algorithm": "Ed25519",
                "public_key_pem": self.public_key_pem}


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The JWK of a public key, its `kid` the hub's key id."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "alg": JWS_ALGORITHM, "use": "sig",
            "kid": hashlib.sha256(raw).hexdigest()[:16],
            "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()}


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file holding the public or the private key."""
    data = Path(path).read_bytes()
    key: Any = (serialization.load_pem_private_key(data, password=None)
                if b"PRIVATE KEY" in data else serialization.load_pem_public_key(data))
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return key


@dataclass(frozen=True, slots=True)
class ReceiptKeys:
    """The key that signs now and the earlier ones that still verify (JWKS)."""

    signing: HubKey
    previous: tuple[Ed25519PublicKey, ...] = ()

    def jwks(self) -> dict[str, Any]:
        keys = [public_jwk(self.signing.public_key)]
        keys += [jwk for jwk in map(public_jwk, self.previous) if jwk["kid"] != keys[0]["kid"]]
        return {"keys": keys}


def load_hub_key(path: Path) -> HubKey:
    """A configured receipt key (Ed25519 private key, PEM); never created here."""
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return HubKey(key)


def load_or_create_hub_key(path: Path) -> HubKey:
    """Load the hub key, creating it atomically (first writer wins) when missing."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temporary, path)  # fails if another process was first
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return HubKey(key)


def verify_receipt(signed: dict[str, Any], jwks: dict[str, Any]) -> bool:
    """True if `signed["jws"]` verifies with a key of `jwks` (by its kid) and its payload is
    `signed["receipt"]`."""
    try:
        token = signed["jws"]
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        matching = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
        if not matching:
            return False
        verified = jws.deserialize_compact(token, OKPKey.import_key(matching[0]),
                                           algorithms=[JWS_ALGORITHM])
    except (JoseError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return verified.payload == canonical_json(signed["receipt"])

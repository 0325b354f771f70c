"""The hub's Ed25519 key and signed receipts.

A receipt is a JSON object; the signature is Ed25519 over its canonical JSON (sorted keys, no
spaces, UTF-8). The key lives in the store folder (shared by all hub processes) and is created once,
atomically, by `ggk hub migrate` or the first start.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


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
        return base64.b64encode(self.private_key.sign(canonical_json(receipt))).decode()

    def describe(self) -> dict[str, str]:
        return {"key_id": self.key_id, "algorithm": "Ed25519",
                "public_key_pem": self.public_key_pem}


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


def verify_receipt(signed: dict[str, Any], public_key_pem: str) -> bool:
    """True if `signed["signature"]` is the hub's signature over `signed["receipt"]`."""
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(base64.b64decode(signed["signature"]), canonical_json(signed["receipt"]))
    except (InvalidSignature, ValueError, KeyError):
        return False
    return True

"""Contract of the pki package: a local TEST CA and PKIoverheid-style certificates.

A party certificate carries the party's OIN in the subject serialNumber and its organisation name in
O, as PKIoverheid does. ggk also records its own hints in the subject's OU values
(`ggk-role:<role>` and `ggk-gemeentecode:<code>`) so that `ggk party add --cert` can fill them in;
they are hints for registration only, never trusted for authorisation (the party table is).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Role = Literal["gemeente", "cbs", "operator"]
ROLES: tuple[Role, ...] = ("gemeente", "cbs", "operator")

TEST_OIN_PREFIX = "00000099"
MUNICIPALITY_OIN_PREFIX = "00000001"


class PkiError(ValueError):
    """A certificate or key that cannot be made or read; the message says why."""


class InvalidOin(PkiError):
    """A string that is not an OIN (20 digits)."""


@dataclass(frozen=True, slots=True)
class CertificateAuthority:
    """Where a CA lives: `ca.pem` (certificate) and `ca-key.pem` (unencrypted private key)."""

    directory: Path

    @property
    def cert_path(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def key_path(self) -> Path:
        return self.directory / "ca-key.pem"


@dataclass(frozen=True, slots=True)
class PartyIdentity:
    """What a party certificate says about its holder."""

    oin: str
    name: str
    fingerprint: str  # sha256 of the DER certificate, lowercase hex
    not_before: dt.datetime
    not_after: dt.datetime
    role: Role | None = None  # ggk registration hint from OU
    gemeentecode: str | None = None  # ggk registration hint from OU

"""Who is calling: the client certificate (from the TLS connection, or from a trusted proxy's
header) mapped to a registered, active party with the same certificate fingerprint.

What the hub reads from a certificate (OIN, fingerprint, validity, for a proxied one also whether
the hub's CA issued it) never changes, so it is read once per distinct certificate and kept in a
small cache. The party itself is looked up in the database on every request (in the request's
own connection where the endpoint has one), so that a revocation takes effect at once, also when
another process revoked; on PostgreSQL, while the process listens for notifications, from
`PartyRegistry`'s cache, which every change of a party clears on every process (NOTIFY).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote

import httpx
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import Request

from ggk.hub.database import utcnow
from ggk.hub.interfaces import HubError, Party
from ggk.hub.parties import PartyRegistry
from ggk.hub.settings import HubSettings

log = logging.getLogger("ggk.hub")
PEER_CERT_STATE_KEY = "ggk_peer_cert_der"
UNIX_SOCKET_STATE_KEY = "ggk_unix_socket"  # True on a connection over the hub's unix socket
_FACTS_CACHE_SIZE = 4096  # distinct certificates; cleared when full (re-reading is cheap)


def forbidden(code: str, detail: str) -> HubError:
    return HubError(403, code, detail)


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    """What authentication needs from a client certificate."""

    fingerprint: str  # sha256 of the DER, lowercase hex
    not_before: dt.datetime
    not_after: dt.datetime
    oin: str | None  # None when the certificate carries no valid OIN (see oin_problem)
    oin_problem: str | None
    serial: int = 0

    @classmethod
    def of(cls, cert: x509.Certificate, der: bytes | None = None) -> CertificateFacts:
        from ggk.pki import PkiError, read_oin

        der = der if der is not None else cert.public_bytes(serialization.Encoding.DER)
        try:
            oin, problem = read_oin(cert), None
        except PkiError as e:
            oin, problem = None, str(e)
        return cls(hashlib.sha256(der).hexdigest(), cert.not_valid_before_utc,
                   cert.not_valid_after_utc, oin, problem, cert.serial_number)


class Authenticator:
    def __init__(self, settings: HubSettings, registry: PartyRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.proxy_networks = [ipaddress.ip_network(p, strict=False)
                               for p in settings.trusted_proxies]
        self.header = settings.trust_proxy_header.lower() if settings.trust_proxy_header else None
        self.proxy_fingerprints = frozenset(f.lower() for f in settings.trusted_proxy_fingerprints)
        self._facts: dict[Hashable, CertificateFacts] = {}
        self.revoked_serials: frozenset[int] = frozenset()
        self.crl_problem: str | None = None
        if settings.crl_source is not None:
            self.refresh_crl(at_start=True)

    def refresh_crl(self, at_start: bool = False) -> None:
        """Read the CRL (`settings.crl_source`: a file or an http(s) URL). At start a CRL that
        cannot be read stops the hub (HubError); later the last good list stays in force and
        the problem is logged and shown by `/healthz`."""
        from ggk.pki import PkiError, read_crl

        source = self.settings.crl_source
        assert source is not None
        try:
            if source.startswith(("http://", "https://")):
                response = httpx.get(source, timeout=10, follow_redirects=True)
                response.raise_for_status()
                data = response.content
            else:
                data = Path(source).read_bytes()
            self.revoked_serials = read_crl(data, self.ca_certificate)
            self.crl_problem = None
        except (OSError, PkiError, httpx.HTTPError) as e:
            self.crl_problem = f"CRL {source} not read: {e}"
            if at_start:
                raise HubError(500, "crl-unreadable", self.crl_problem) from e
            log.error("%s (the last list read stays in force)", self.crl_problem)

    def _remember(self, key: Hashable, facts: CertificateFacts) -> CertificateFacts:
        if len(self._facts) >= _FACTS_CACHE_SIZE:
            self._facts.clear()
        self._facts[key] = facts
        return facts

    @cached_property
    def ca_certificate(self) -> x509.Certificate:
        if self.settings.ca_file is None:
            raise HubError(500, "no-ca-configured", "the hub has no CA file configured")
        return x509.load_pem_x509_certificate(self.settings.ca_file.read_bytes())

    def _from_trusted_proxy(self, request: Request) -> bool:
        """The connection is the proxy's: it presents the proxy's own pinned certificate (the
        source address alone proves nothing: any local process can connect from it), and comes
        from a configured proxy address if any are configured. A connection over the hub's
        unix socket (owner-only, `ggk hub serve --unix-socket`) is the proxy's by construction."""
        state = request.scope.get("state", {})
        if state.get(UNIX_SOCKET_STATE_KEY):
            return True
        der = state.get(PEER_CERT_STATE_KEY)
        if not der or hashlib.sha256(der).hexdigest() not in self.proxy_fingerprints:
            return False
        if not self.proxy_networks:
            return True
        if request.client is None:
            return False
        try:
            address = ipaddress.ip_address(request.client.host)
        except ValueError:
            return False
        return any(address in network for network in self.proxy_networks)

    def certificate(self, request: Request) -> CertificateFacts:
        """The caller's certificate (what the hub reads from it); 403 if there is none."""
        if self.header and (proxied := request.headers.get(self.header)):
            if not self._from_trusted_proxy(request):
                raise forbidden("untrusted-proxy",
                                f"the {self.settings.trust_proxy_header} header is only accepted "
                                "on a connection with the proxy's own (pinned) certificate")
            facts = self._facts.get(("proxied", proxied))
            return facts if facts is not None else self._proxied(proxied)
        der = request.scope.get("state", {}).get(PEER_CERT_STATE_KEY)
        if not der:
            raise forbidden("no-client-certificate", "a client certificate is required")
        facts = self._facts.get(der)
        if facts is None:
            facts = self._remember(der, CertificateFacts.of(x509.load_der_x509_certificate(der),
                                                            der))
        return facts

    def _proxied(self, header_value: str) -> CertificateFacts:
        from ggk.pki import issued_by, load_certificate

        try:
            cert = load_certificate(unquote(header_value).encode())
        except ValueError as e:
            raise forbidden("bad-certificate", f"unreadable proxied certificate: {e}") from e
        if not issued_by(cert, self.ca_certificate):
            raise forbidden("untrusted-certificate",
                            "the proxied certificate is not issued by the hub's CA")
        return self._remember(("proxied", header_value), CertificateFacts.of(cert))

    def valid_certificate(self, request: Request) -> CertificateFacts:
        """The caller's certificate if it is within its validity period; 403 otherwise."""
        facts = self.certificate(request)
        now = utcnow()
        if facts.not_after < now:
            raise forbidden("certificate-expired", "the client certificate expired on "
                            f"{facts.not_after:%Y-%m-%d}")
        if facts.not_before > now:
            raise forbidden("certificate-not-yet-valid", "the client certificate is not valid yet")
        if facts.serial in self.revoked_serials:
            raise forbidden("certificate-revoked", "the client certificate is revoked by its CA")
        return facts

    def party(self, request: Request, conn: sa.Connection | None = None) -> Party:
        """The authenticated party, or 403 with a specific code. With `conn`, the party is read
        in that connection (the endpoint's own transaction) instead of a new one."""
        facts = self.valid_certificate(request)
        oin = facts.oin
        if oin is None:
            raise forbidden("no-oin", f"the client certificate carries no OIN: {facts.oin_problem}")
        return self._accepted(facts, self.registry.get(oin, conn))

    def cached_party(self, request: Request) -> Party | None:
        """`party` without asking the database: None when the party is not in the registry's
        cache (or the certificate names no OIN); the same 403s otherwise."""
        facts = self.valid_certificate(request)
        party = self.registry.cached(facts.oin) if facts.oin else None
        return None if party is None else self._accepted(facts, party)

    @staticmethod
    def _accepted(facts: CertificateFacts, party: Party | None) -> Party:
        oin = facts.oin
        if party is None:
            raise forbidden("unknown-party", f"OIN {oin} is not a party of this hub")
        if not party.active:
            raise forbidden("party-revoked", f"party {oin} is revoked")
        if not party.accepts(facts.fingerprint, utcnow()):
            raise forbidden("certificate-mismatch",
                            f"this certificate is not the one registered for OIN {oin}")
        return party

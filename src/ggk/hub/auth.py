"""Who is calling: the client certificate (from the TLS connection, or from a trusted proxy's
header) mapped to a registered, active party with the same certificate fingerprint."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from urllib.parse import unquote

from cryptography import x509
from fastapi import Request

from ggk.hub.database import utcnow
from ggk.hub.interfaces import HubError, Party
from ggk.hub.parties import PartyRegistry
from ggk.hub.settings import HubSettings

PEER_CERT_STATE_KEY = "ggk_peer_cert_der"


def forbidden(code: str, detail: str) -> HubError:
    return HubError(403, code, detail)


class Authenticator:
    def __init__(self, settings: HubSettings, registry: PartyRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.proxy_networks = [ipaddress.ip_network(p, strict=False)
                               for p in settings.trusted_proxies]
        self.header = settings.trust_proxy_header.lower() if settings.trust_proxy_header else None

    @cached_property
    def ca_certificate(self) -> x509.Certificate:
        if self.settings.ca_file is None:
            raise HubError(500, "no-ca-configured", "the hub has no CA file configured")
        return x509.load_pem_x509_certificate(self.settings.ca_file.read_bytes())

    def _from_trusted_proxy(self, request: Request) -> bool:
        if request.client is None:
            return False
        try:
            address = ipaddress.ip_address(request.client.host)
        except ValueError:
            return False
        return any(address in network for network in self.proxy_networks)

    def certificate(self, request: Request) -> x509.Certificate:
        """The caller's certificate; 403 if there is none."""
        from ggk.pki import issued_by, load_certificate

        if self.header and request.headers.get(self.header):
            if not self._from_trusted_proxy(request):
                raise forbidden("untrusted-proxy",
                                f"the {self.settings.trust_proxy_header} header is only accepted "
                                "from configured proxy addresses")
            try:
                cert = load_certificate(unquote(request.headers[self.header]).encode())
            except ValueError as e:
                raise forbidden("bad-certificate", f"unreadable proxied certificate: {e}") from e
            if not issued_by(cert, self.ca_certificate):
                raise forbidden("untrusted-certificate",
                                "the proxied certificate is not issued by the hub's CA")
            return cert
        der = request.scope.get("state", {}).get(PEER_CERT_STATE_KEY)
        if not der:
            raise forbidden("no-client-certificate", "a client certificate is required")
        return x509.load_der_x509_certificate(der)

    def valid_certificate(self, request: Request) -> x509.Certificate:
        """The caller's certificate if it is within its validity period; 403 otherwise."""
        cert = self.certificate(request)
        now = utcnow()
        if cert.not_valid_after_utc < now:
            raise forbidden("certificate-expired", "the client certificate expired on "
                            f"{cert.not_valid_after_utc:%Y-%m-%d}")
        if cert.not_valid_before_utc > now:
            raise forbidden("certificate-not-yet-valid", "the client certificate is not valid yet")
        return cert

    def party(self, request: Request) -> Party:
        """The authenticated party, or 403 with a specific code."""
        from ggk.pki import PkiError, fingerprint, read_oin

        cert = self.valid_certificate(request)
        try:
            oin = read_oin(cert)
        except PkiError as e:
            raise forbidden("no-oin", f"the client certificate carries no OIN: {e}") from e
        party = self.registry.get(oin)
        if party is None:
            raise forbidden("unknown-party", f"OIN {oin} is not a party of this hub")
        if not party.active:
            raise forbidden("party-revoked", f"party {oin} is revoked")
        if party.cert_fingerprint != fingerprint(cert):
            raise forbidden("certificate-mismatch",
                            f"this certificate is not the one registered for OIN {oin}")
        return party

"""TLS facts for the burentest: one handshake with the hub, and certificate validity and expiry."""

from __future__ import annotations

import datetime as dt
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import NameOID

from ggk.client.transport import tls_context

EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime

    def days_left(self, now: dt.datetime | None = None) -> float:
        now = now or dt.datetime.now(dt.UTC)
        return (self.not_after - now).total_seconds() / 86400

    def valid(self, now: dt.datetime | None = None) -> bool:
        now = now or dt.datetime.now(dt.UTC)
        return self.not_before <= now <= self.not_after


@dataclass(frozen=True, slots=True)
class HandshakeFacts:
    protocol: str
    cipher: str
    seconds: float
    server_certificate: CertificateFacts


def _short_subject(name: x509.Name) -> str:
    """`O (OIN serialNumber)` for party certificates, else the CN (or the whole subject)."""

    def first(oid: x509.ObjectIdentifier) -> str | None:
        values = name.get_attributes_for_oid(oid)
        return str(values[0].value) if values else None

    organisation = first(NameOID.ORGANIZATION_NAME)
    oin = first(NameOID.SERIAL_NUMBER)
    if organisation and oin:
        return f"{organisation} (OIN {oin})"
    return first(NameOID.COMMON_NAME) or name.rfc4514_string()


def certificate_facts(certificate: x509.Certificate) -> CertificateFacts:
    return CertificateFacts(
        subject=_short_subject(certificate.subject),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


def own_certificate(cert: Path) -> CertificateFacts:
    """The first certificate in the party PEM file (the file also holds the key)."""
    return certificate_facts(x509.load_pem_x509_certificate(Path(cert).read_bytes()))


def handshake(base_url: str, cert: Path, ca: Path, timeout: float = 10.0) -> HandshakeFacts:
    """One mutual-TLS handshake with the hub; raises ssl.SSLError / OSError on failure."""
    import time

    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 443
    context = tls_context(cert, ca)
    started = time.perf_counter()
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            seconds = time.perf_counter() - started
            der = tls.getpeercert(binary_form=True)
            cipher = tls.cipher()
            protocol = tls.version() or "?"
    assert der is not None
    return HandshakeFacts(
        protocol=protocol,
        cipher=cipher[0] if cipher else "?",
        seconds=seconds,
        server_certificate=certificate_facts(x509.load_der_x509_certificate(der)),
    )

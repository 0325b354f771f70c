"""Certificate revocation for the TEST CA: `ggk pki revoke` keeps the revoked serial numbers in
the CA folder (`revoked.txt`) and writes a signed CRL (`crl.pem`); the hub reads a CRL (from a
file or a URL) and refuses the certificates on it (`ggk.hub.auth`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from ggk.pki.certificates import _load_ca, load_certificate
from ggk.pki.interfaces import PkiError

REVOKED_FILE = "revoked.txt"  # one line per revoked certificate: serial (hex) and date
CRL_FILE = "crl.pem"


def _revoked(ca_dir: Path) -> dict[int, dt.datetime]:
    path = Path(ca_dir) / REVOKED_FILE
    if not path.exists():
        return {}
    result = {}
    for line in path.read_text().splitlines():
        if line.strip():
            serial, _, at = line.partition(" ")
            result[int(serial, 16)] = dt.datetime.fromisoformat(at.strip())
    return result


def write_crl(ca_dir: Path, *, days: int = 7) -> Path:
    """(Re)write `crl.pem` in the CA folder: every revoked serial, valid `days` days (publish a
    new one before then). Returns its path."""
    ca_cert, ca_key = _load_ca(Path(ca_dir))
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
               .last_update(now - dt.timedelta(minutes=5))
               .next_update(now + dt.timedelta(days=days)))
    for serial, at in sorted(_revoked(ca_dir).items()):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(at).build())
    crl = builder.sign(ca_key, hashes.SHA256())
    path = Path(ca_dir) / CRL_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    temporary.replace(path)
    return path


def revoke(ca_dir: Path, cert: bytes | str | Path, *, days: int = 7) -> Path:
    """Revoke `cert` (issued by this CA) and write the new CRL; returns the CRL's path."""
    ca_cert, _key = _load_ca(Path(ca_dir))
    certificate = load_certificate(cert)
    if certificate.issuer != ca_cert.subject:
        raise PkiError("this certificate was not issued by this CA")
    if certificate.serial_number not in _revoked(ca_dir):
        with open(Path(ca_dir) / REVOKED_FILE, "a") as f:
            f.write(f"{certificate.serial_number:x} {dt.datetime.now(dt.UTC).isoformat()}\n")
    return write_crl(ca_dir, days=days)


def read_crl(data: bytes, ca_cert: x509.Certificate) -> frozenset[int]:
    """The revoked serial numbers of a CRL (PEM or DER) signed by `ca_cert`; PkiError if it is
    unreadable, not signed by that CA, or past its next update."""
    try:
        crl = (x509.load_pem_x509_crl(data) if data.lstrip().startswith(b"-----")
               else x509.load_der_x509_crl(data))
    except ValueError as e:
        raise PkiError(f"unreadable CRL: {e}") from e
    if crl.issuer != ca_cert.subject or not crl.is_signature_valid(
            ca_cert.public_key()):  # type: ignore[arg-type]
        raise PkiError("the CRL is not signed by the party CA")
    next_update = crl.next_update_utc
    if next_update is not None and next_update < dt.datetime.now(dt.UTC):
        raise PkiError(f"the CRL is out of date (next update was {next_update:%Y-%m-%d %H:%M})")
    return frozenset(entry.serial_number for entry in crl)

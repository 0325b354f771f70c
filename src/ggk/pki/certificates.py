"""Make and read certificates with `cryptography`: a TEST CA, party and server certificates.

Keys are ECDSA P-256 (widely supported by TLS stacks, including nginx and curl).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ggk.pki.interfaces import ROLES, CertificateAuthority, PartyIdentity, PkiError, Role
from ggk.pki.oin import validate_oin

TEST_CA_NAME = "ggk TEST CA - NOT FOR PRODUCTION"
_ROLE_HINT = "ggk-role:"
_GEMEENTECODE_HINT = "ggk-gemeentecode:"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def init_ca(directory: Path, *, days: int = 3650) -> CertificateAuthority:
    """Create a clearly marked TEST CA in `directory` (ca.pem, ca-key.pem); refuses to overwrite."""
    ca = CertificateAuthority(Path(directory))
    if ca.cert_path.exists() or ca.key_path.exists():
        raise PkiError(f"a CA already exists in {ca.directory}; remove it first or use "
                       "another --dir")
    key = _new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, TEST_CA_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ggk TEST"),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(ca.key_path, _key_pem(key))
    ca.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ca


def _load_ca(ca_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca = CertificateAuthority(Path(ca_dir))
    try:
        cert = x509.load_pem_x509_certificate(ca.cert_path.read_bytes())
        key = serialization.load_pem_private_key(ca.key_path.read_bytes(), password=None)
    except FileNotFoundError as e:
        raise PkiError(f"no CA in {ca.directory} (run `ggk pki init --dir {ca.directory}`)") from e
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"unsupported CA key type in {ca.key_path}")
    return cert, key


def _sign(
    ca_dir: Path,
    subject: x509.Name,
    *,
    days: int,
    usage: x509.ObjectIdentifier,
    san: x509.SubjectAlternativeName | None = None,
    not_before: dt.datetime | None = None,
) -> bytes:
    ca_cert, ca_key = _load_ca(ca_dir)
    key = _new_key()
    start = not_before or (_now() - dt.timedelta(minutes=5))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM) + _key_pem(key)


def issue_party_cert(
    ca_dir: Path,
    oin: str,
    name: str,
    *,
    role: Role | None = None,
    gemeentecode: str | None = None,
    days: int = 365,
    not_before: dt.datetime | None = None,
) -> bytes:
    """A client certificate for a party (PKIoverheid style: serialNumber = OIN, O = name).

    Returns one PEM holding the certificate followed by its unencrypted private key.
    `not_before` lets tests make an already expired certificate.
    """
    oin = validate_oin(oin)
    if not name.strip():
        raise PkiError("a party certificate needs an organisation name")
    if role is not None and role not in ROLES:
        raise PkiError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, oin),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{name} (TEST)"),
    ]
    if role:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _ROLE_HINT + role))
    if gemeentecode:
        attributes.append(
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _GEMEENTECODE_HINT + gemeentecode)
        )
    return _sign(
        ca_dir, x509.Name(attributes), days=days, usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        not_before=not_before,
    )


def issue_server_cert(ca_dir: Path, hosts: list[str] | tuple[str, ...], *, days: int = 825
                      ) -> bytes:
    """A TLS server certificate for `hosts` (IP addresses and DNS names; localhost always added)."""
    names: list[x509.GeneralName] = []
    for host in [*hosts, "localhost"]:
        try:
            general: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            general = x509.DNSName(host)
        if general not in names:
            names.append(general)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ggk TEST hub"),
            x509.NameAttribute(NameOID.COMMON_NAME, hosts[0] if hosts else "localhost"),
        ]
    )
    return _sign(
        ca_dir, subject, days=days, usage=ExtendedKeyUsageOID.SERVER_AUTH,
        san=x509.SubjectAlternativeName(names),
    )


def load_certificate(cert: bytes | str | Path | x509.Certificate) -> x509.Certificate:
    """A certificate from PEM bytes/text, a PEM file path, DER bytes, or as is."""
    if isinstance(cert, x509.Certificate):
        return cert
    if isinstance(cert, Path):
        cert = cert.read_bytes()
    if isinstance(cert, str):
        cert = cert.encode()
    try:
        if b"-----BEGIN CERTIFICATE-----" in cert:
            return x509.load_pem_x509_certificate(cert)
        return x509.load_der_x509_certificate(cert)
    except ValueError as e:
        raise PkiError(f"not a readable X.509 certificate: {e}") from e


def fingerprint(cert: bytes | str | Path | x509.Certificate) -> str:
    """sha256 of the DER encoding, lowercase hex."""
    der = load_certificate(cert).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def _subject_value(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    values = cert.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def read_oin(cert: bytes | str | Path | x509.Certificate) -> str:
    """The OIN in the certificate's subject serialNumber; PkiError if absent or malformed."""
    value = _subject_value(load_certificate(cert), NameOID.SERIAL_NUMBER)
    if value is None:
        raise PkiError("the certificate has no subject serialNumber (OIN)")
    return validate_oin(value)


def read_identity(cert: bytes | str | Path | x509.Certificate) -> PartyIdentity:
    """OIN, name, fingerprint, validity and ggk registration hints of a party certificate."""
    certificate = load_certificate(cert)
    role: Role | None = None
    gemeentecode: str | None = None
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME):
        text = str(attribute.value)
        if text.startswith(_ROLE_HINT) and text[len(_ROLE_HINT):] in ROLES:
            role = text[len(_ROLE_HINT):]  # type: ignore[assignment]
        elif text.startswith(_GEMEENTECODE_HINT):
            gemeentecode = text[len(_GEMEENTECODE_HINT):]
    return PartyIdentity(
        oin=read_oin(certificate),
        name=_subject_value(certificate, NameOID.ORGANIZATION_NAME) or "",
        fingerprint=fingerprint(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        role=role,
        gemeentecode=gemeentecode,
    )


def issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    """True if `cert` carries a valid signature of `ca_cert`."""
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, Exception):  # InvalidSignature is not a ValueError
        return False
    return True

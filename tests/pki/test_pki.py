"""ggk.pki: OINs, the TEST CA and PKIoverheid-style certificates, through the API and the CLI."""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from ggk.pki import (
    TEST_CA_NAME,
    InvalidOin,
    PkiError,
    fingerprint,
    init_ca,
    is_test_oin,
    issue_party_cert,
    issue_server_cert,
    issued_by,
    load_certificate,
    make_test_oin,
    municipality_oin,
    read_identity,
    read_oin,
    validate_oin,
)


def test_validate_oin() -> None:
    assert validate_oin("00000099000000000363") == "00000099000000000363"
    for bad in ["", "123", "0000009900000000036a", "000000990000000003630",
                "0000 0099000000000363"]:
        with pytest.raises(InvalidOin):
            validate_oin(bad)


def test_municipality_and_test_oins() -> None:
    assert municipality_oin("002220647") == "00000001002220647000"
    with pytest.raises(InvalidOin):
        municipality_oin("12345")
    assert make_test_oin(363) == "00000099000000000363"
    assert is_test_oin(make_test_oin(1))
    assert not is_test_oin(municipality_oin("002220647"))


def test_party_certificate_is_pkioverheid_style(tmp_path: Path) -> None:
    ca = init_ca(tmp_path / "ca")
    ca_cert = load_certificate(ca.cert_path)
    assert "TEST" in ca_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert TEST_CA_NAME in ca_cert.subject.rfc4514_string()
    pem = issue_party_cert(tmp_path / "ca", "00000099000000000363", "Gemeente Amsterdam",
                           role="gemeente", gemeentecode="GM0363", days=30)
    assert b"BEGIN CERTIFICATE" in pem and b"PRIVATE KEY" in pem
    cert = load_certificate(pem)
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == (
        "00000099000000000363")
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "Gemeente Amsterdam")
    assert read_oin(pem) == "00000099000000000363"
    identity = read_identity(pem)
    assert (identity.role, identity.gemeentecode) == ("gemeente", "GM0363")
    assert identity.fingerprint == fingerprint(cert)
    remaining = identity.not_after - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=29) < remaining <= dt.timedelta(days=30)
    assert issued_by(cert, ca_cert)
    other = init_ca(tmp_path / "other")
    assert not issued_by(cert, load_certificate(other.cert_path))


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(PkiError, match="no CA"):
        issue_party_cert(tmp_path / "missing", "00000099000000000363", "X")
    init_ca(tmp_path / "ca")
    with pytest.raises(PkiError, match="already exists"):
        init_ca(tmp_path / "ca")
    with pytest.raises(InvalidOin):
        issue_party_cert(tmp_path / "ca", "363", "Gemeente Amsterdam")
    with pytest.raises(PkiError, match="unknown role"):
        issue_party_cert(tmp_path / "ca", make_test_oin(1), "X", role="koning")  # type: ignore[arg-type]
    server = issue_server_cert(tmp_path / "ca", ["127.0.0.1"])
    with pytest.raises(PkiError, match="serialNumber"):
        read_oin(server)


def test_server_certificate_names(tmp_path: Path) -> None:
    init_ca(tmp_path / "ca")
    cert = load_certificate(issue_server_cert(tmp_path / "ca", ["127.0.0.1", "hub.test"]))
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert {"hub.test", "localhost"} <= set(san.get_values_for_type(x509.DNSName))


def test_cli_init_and_issue(tmp_path: Path) -> None:
    ggk = [str(Path(sys.executable).parent / "ggk")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*ggk, "pki", *args], capture_output=True, text=True, timeout=60)

    assert run("init", "--dir", str(tmp_path / "ca")).returncode == 0
    out = tmp_path / "ams.pem"
    done = run("issue", "--dir", str(tmp_path / "ca"), "--oin", "00000099000000000363",
               "--name", "Gemeente Amsterdam", "--gemeentecode", "GM0363", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert read_identity(out).gemeentecode == "GM0363"
    assert read_identity(out).role == "gemeente"
    server = tmp_path / "hub.pem"
    assert run("issue", "--dir", str(tmp_path / "ca"), "--server", "--host", "127.0.0.1",
               "--out", str(server)).returncode == 0
    bad = run("issue", "--dir", str(tmp_path / "ca"), "--oin", "12", "--name", "X",
              "--out", str(tmp_path / "x.pem"))
    assert bad.returncode == 2 and "20 digits" in bad.stderr

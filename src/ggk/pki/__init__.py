"""A local TEST certificate authority and PKIoverheid-style party certificates.

The OIN goes in the subject serialNumber, the organisation name in O.
"""

from __future__ import annotations

from ggk.lazy_exports import lazy_exports

_EXPORTS = {
    "CertificateAuthority": "ggk.pki.interfaces",
    "InvalidOin": "ggk.pki.interfaces",
    "PartyIdentity": "ggk.pki.interfaces",
    "PkiError": "ggk.pki.interfaces",
    "ROLES": "ggk.pki.interfaces",
    "Role": "ggk.pki.interfaces",
    "TEST_CA_NAME": "ggk.pki.certificates",
    "TEST_OIN_PREFIX": "ggk.pki.interfaces",
    "fingerprint": "ggk.pki.certificates",
    "init_ca": "ggk.pki.certificates",
    "is_test_oin": "ggk.pki.oin",
    "issue_party_cert": "ggk.pki.certificates",
    "issue_server_cert": "ggk.pki.certificates",
    "issued_by": "ggk.pki.certificates",
    "load_certificate": "ggk.pki.certificates",
    "make_test_oin": "ggk.pki.oin",
    "municipality_oin": "ggk.pki.oin",
    "read_crl": "ggk.pki.revocation",
    "read_identity": "ggk.pki.certificates",
    "revoke": "ggk.pki.revocation",
    "write_crl": "ggk.pki.revocation",
    "read_oin": "ggk.pki.certificates",
    "validate_oin": "ggk.pki.oin",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports("ggk.pki", _EXPORTS)

"""A local TEST certificate authority and PKIoverheid-style party certificates.

The OIN goes in the subject serialNumber, the organisation name in O.
"""

from ggk.pki.certificates import (
    TEST_CA_NAME,
    fingerprint,
    init_ca,
    issue_party_cert,
    issue_server_cert,
    issued_by,
    load_certificate,
    read_identity,
    read_oin,
)
from ggk.pki.interfaces import (
    ROLES,
    TEST_OIN_PREFIX,
    CertificateAuthority,
    InvalidOin,
    PartyIdentity,
    PkiError,
    Role,
)
from ggk.pki.oin import is_test_oin, make_test_oin, municipality_oin, validate_oin

__all__ = [
    "ROLES",
    "TEST_CA_NAME",
    "TEST_OIN_PREFIX",
    "CertificateAuthority",
    "InvalidOin",
    "PartyIdentity",
    "PkiError",
    "Role",
    "fingerprint",
    "init_ca",
    "is_test_oin",
    "issue_party_cert",
    "issue_server_cert",
    "issued_by",
    "load_certificate",
    "make_test_oin",
    "municipality_oin",
    "read_identity",
    "read_oin",
    "validate_oin",
]

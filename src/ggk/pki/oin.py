"""OIN (Organisatie-identificatienummer): 20 digits, prefix(8) + number + suffix.

A municipality's OIN is `00000001` + its RSIN (9 digits) + `000`; prefix `00000099` is reserved for
test OINs.
"""

from __future__ import annotations

import re

from ggk.pki.interfaces import MUNICIPALITY_OIN_PREFIX, TEST_OIN_PREFIX, InvalidOin

_OIN = re.compile(r"[0-9]{20}")
_RSIN = re.compile(r"[0-9]{9}")


def validate_oin(value: str) -> str:
    """Return `value` stripped if it is an OIN (exactly 20 digits), else raise InvalidOin."""
    candidate = value.strip() if isinstance(value, str) else ""
    if not _OIN.fullmatch(candidate):
        raise InvalidOin(f"not an OIN: {value!r} (an OIN is exactly 20 digits)")
    return candidate


def is_test_oin(oin: str) -> bool:
    """True for OINs in the test range (prefix 00000099)."""
    return validate_oin(oin).startswith(TEST_OIN_PREFIX)


def municipality_oin(rsin: str) -> str:
    """The OIN of a municipality with this RSIN: 00000001 + RSIN + 000."""
    if not _RSIN.fullmatch(rsin):
        raise InvalidOin(f"not an RSIN: {rsin!r} (an RSIN is 9 digits)")
    return f"{MUNICIPALITY_OIN_PREFIX}{rsin}000"


def make_test_oin(number: int) -> str:
    """A test OIN (prefix 00000099) made from a small number, e.g. 363 -> 00000099000000000363."""
    if number < 0 or number >= 10**12:
        raise InvalidOin(f"test OIN number out of range: {number}")
    return f"{TEST_OIN_PREFIX}{number:012d}"

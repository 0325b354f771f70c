"""Masking of numbers that could be a BSN (burgerservicenummer) in free text: log lines, file
names, message metadata. Used wherever text leaves a party's own administration (the hub's edge,
the station's intake and logs); the validator has its own, column-aware masking for data files.

What is masked: a run of 9 digits, 9 digits written in groups with spaces, dots or hyphens
(`999 043 195`, `999-04-3195`), and a run of 8 digits that passes the elfproef once its dropped
leading zero is put back (a spreadsheet drops it). A run that is part of a longer run of digits
or hex digits (an OIN of 20 digits, a sha256, a uuid) is left alone, so an OIN in a log line stays
readable.
"""

from __future__ import annotations

import re

MASK = "*********"
_BOUNDARY_BEFORE = r"(?<![0-9A-Fa-f])"
_BOUNDARY_AFTER = r"(?![0-9A-Fa-f])"
_SEPARATOR = r"[ .-]"
# 9 digits in two or three groups, as people write them (the validator's report masking,
# ggk.validation.report.BSN_LIKE, knows the same forms): 999 043 195, 999-04-3195, 1234.56.782
_GROUPED = [rf"\d{{{a}}}{_SEPARATOR}\d{{{b}}}{_SEPARATOR}\d{{{9 - a - b}}}"
            for a in (2, 3, 4) for b in (2, 3, 4) if 2 <= 9 - a - b <= 4]
_GROUPED += [rf"\d{{{a}}}{_SEPARATOR}\d{{{9 - a}}}" for a in (3, 4, 5, 6)]
_CANDIDATE = re.compile(
    _BOUNDARY_BEFORE + r"(?:\d{9}|" + "|".join(_GROUPED) + r"|(?P<eight>\d{8}))"
    + _BOUNDARY_AFTER)


def passes_elfproef(digits: str) -> bool:
    """The BSN eleven test on 9 digits: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 divisible by 11."""
    if len(digits) != 9 or not digits.isascii() or not digits.isdigit():
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    total = sum(w * int(d) for w, d in zip(weights, digits, strict=True))
    return total % 11 == 0 and digits != "000000000"


def _replace(match: re.Match[str]) -> str:
    eight = match.group("eight")
    if eight is not None and not passes_elfproef("0" + eight):
        return match.group(0)
    return MASK


def mask_bsn_like(text: str) -> str:
    """`text` with every number that could be a BSN replaced by asterisks."""
    return _CANDIDATE.sub(_replace, text)


def mask_bsn_like_in(value: object) -> object:
    """The same for every string (and dictionary key) inside JSON-like data."""
    if isinstance(value, str):
        return mask_bsn_like(value)
    if isinstance(value, dict):
        return {mask_bsn_like(str(k)): mask_bsn_like_in(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_bsn_like_in(item) for item in value]
    return value

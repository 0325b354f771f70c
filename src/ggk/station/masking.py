"""What the station writes into logs and the audit trail about free text: no possible BSN."""

from __future__ import annotations

import re

NINE_DIGITS = re.compile(r"\d{9}")


def masked(text: str) -> str:
    """Text for a log line: every run of 9 digits (a possible BSN) replaced by asterisks."""
    return NINE_DIGITS.sub("*********", text)

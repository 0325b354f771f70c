"""What the station writes into logs and the audit trail about free text: no possible BSN.

The rule is `ggk.privacy.mask_bsn_like` (9 digits, also written in groups, and 8 digits that
pass the elfproef with a leading zero), which leaves longer runs of digits alone: an OIN in an
error text stays readable (the station's own rule, every run of 9 digits, garbled them; issue 10).
"""

from __future__ import annotations

from ggk.privacy import mask_bsn_like


def masked(text: str) -> str:
    """Text for a log line or the audit trail: every number that could be a BSN masked."""
    return mask_bsn_like(text)

"""Issue 10 (10): the station's log masking hides what could be a BSN and keeps OINs readable
(it replaced every run of 9 digits, so an OIN in an error text became unreadable)."""

from __future__ import annotations

from ggk.pki import make_test_oin
from ggk.station.masking import masked


def test_log_masking_keeps_oins_and_hides_bsns() -> None:
    oin = make_test_oin(363)
    text = masked(f"receiver {oin} is not an active party; bsn 999043195 / 999 043 195")
    assert oin in text
    assert "999043195" not in text and "999 043 195" not in text

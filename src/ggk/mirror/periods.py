"""Half-year periods (YYYY-H1 / YYYY-H2) as the spec writes them."""

from __future__ import annotations

import datetime as dt
import re

from ggk.mirror.interfaces import MirrorError

PERIOD_RE = re.compile(r"^(\d{4})-H([12])$")


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    m = PERIOD_RE.match(period)
    if not m:
        raise MirrorError(f"period {period!r} must look like 2026-H1")
    year, half = int(m[1]), int(m[2])
    if half == 1:
        return dt.date(year, 1, 1), dt.date(year, 6, 30)
    return dt.date(year, 7, 1), dt.date(year, 12, 31)


def previous_period(period: str) -> str:
    m = PERIOD_RE.match(period)
    if not m:
        raise MirrorError(f"period {period!r} must look like 2026-H1")
    year, half = int(m[1]), int(m[2])
    return f"{year}-H1" if half == 2 else f"{year - 1}-H2"

"""Periods for the mirror report: ggk.definitions.periods owns parsing and arithmetic; this module
only turns its InvalidPeriod into the mirror's own error."""

from __future__ import annotations

import datetime as dt

from ggk.definitions import periods
from ggk.definitions.interfaces import InvalidPeriod
from ggk.mirror.interfaces import MirrorError


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    try:
        return periods.period_bounds(period)
    except InvalidPeriod as e:
        raise MirrorError(str(e)) from None


def previous_period(period: str) -> str:
    try:
        return periods.previous_period(period)
    except InvalidPeriod as e:
        raise MirrorError(str(e)) from None

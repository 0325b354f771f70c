"""Disclosure control (statistische geheimhouding): the ONE place that decides what may be shown.

Rules (docs/mirror.md):
- no figure of another single municipality: other municipalities only appear inside peer or
  national statistics, and those are made over at least MIN_GROUP municipalities;
- counts are rounded to multiples of ROUND_TO; counts below MIN_COUNT are suppressed (SUPPRESSED);
- a ratio (rate, share, mean) whose numerator count (`teller`) is below MIN_COUNT is suppressed too;
- a change against the previous period is only shown when both values are shown.
Every output format renders the disclosure-controlled JSON, never the raw values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MIN_COUNT = 10
ROUND_TO = 5
MIN_GROUP = 5
SUPPRESSED = "."

Shown = float | int | str  # a number, or SUPPRESSED


def rounded_count(value: float) -> int | str:
    """A count as it may be shown: below MIN_COUNT suppressed, otherwise rounded to ROUND_TO."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value < MIN_COUNT:
        return SUPPRESSED
    return int(ROUND_TO * math.floor(value / ROUND_TO + 0.5))


def own_value(
    value: float | None, teller: int | None, telling: bool, decimalen: int
) -> Shown | None:
    """One municipality's own indicator value: None when not available, SUPPRESSED when its count
    is below MIN_COUNT, a rounded count for counts, a rounded ratio otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if teller is None or teller < MIN_COUNT:
        return SUPPRESSED
    if telling:
        return rounded_count(value)
    return round(float(value), decimalen)


def group_value(value: float, telling: bool, decimalen: int) -> Shown:
    """A statistic over a group of at least MIN_GROUP municipalities (median, percentile, total)."""
    if telling:
        return rounded_count(value)
    return round(float(value), decimalen)


def group_statistics(
    values: Sequence[float], telling: bool, decimalen: int
) -> dict[str, Shown] | None:
    """Median and P10-P90 over a group; None when fewer than MIN_GROUP municipalities."""
    clean = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if len(clean) < MIN_GROUP:
        return None
    arr = np.asarray(clean)
    return {
        "mediaan": group_value(float(np.median(arr)), telling, decimalen),
        "p10": group_value(float(np.percentile(arr, 10)), telling, decimalen),
        "p90": group_value(float(np.percentile(arr, 90)), telling, decimalen),
        "aantal_gemeenten": len(clean),
    }


def change(
    own: Shown | None, previous: Shown | None, raw_own: float | None, raw_previous: float | None
) -> int | None:
    """Relative change in whole percent, only when both values are shown and the previous is > 0."""
    if not isinstance(own, int | float) or not isinstance(previous, int | float):
        return None
    if raw_own is None or raw_previous is None or raw_previous == 0:
        return None
    return round(100 * (raw_own - raw_previous) / raw_previous)


def shown_number(value: Shown | None) -> float | None:
    """A shown value as a number for charts; None when suppressed or absent."""
    return float(value) if isinstance(value, int | float) else None


def format_nl(value: Shown | None, decimalen: int) -> str:
    """Dutch number formatting (1.234,5); SUPPRESSED stays '.', absent becomes '-'."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    text = f"{value:,.{decimalen}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")

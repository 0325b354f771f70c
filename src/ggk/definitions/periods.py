"""Reporting periods of any kind, in one place: parse, bounds and arithmetic.

A period is written as the statistics write it: `2026` (year), `2026-H1` (half-year),
`2026-Q3` (quarter) or `2026-05` (month). Its `part` (`Y`, `H1`, `Q3`, `M05`) is how a calendar
names the events of that part of the year.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from ggk.definitions.interfaces import InvalidPeriod

PeriodKind = Literal["year", "half-year", "quarter", "month"]
KINDS: tuple[PeriodKind, ...] = ("year", "half-year", "quarter", "month")
PER_YEAR: dict[PeriodKind, int] = {"year": 1, "half-year": 2, "quarter": 4, "month": 12}
EXAMPLES: dict[PeriodKind, str] = {"year": "2026", "half-year": "2026-H1", "quarter": "2026-Q1",
                                   "month": "2026-01"}
PERIOD_RE = re.compile(r"^(?P<year>\d{4})(?:-(?:H(?P<half>[12])|Q(?P<quarter>[1-4])|"
                       r"(?P<month>0[1-9]|1[0-2])))?$")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """One reporting period: `index` counts from 1 within the year (always 1 for a year)."""

    year: int
    kind: PeriodKind
    index: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read `2026`, `2026-H1`, `2026-Q3` or `2026-05`; raises InvalidPeriod."""
        m = PERIOD_RE.match(text.strip()) if isinstance(text, str) else None
        if not m:
            raise InvalidPeriod(
                f"period {text!r} must look like {', '.join(EXAMPLES.values())}"
            )
        year = int(m["year"])
        if m["half"]:
            return cls(year, "half-year", int(m["half"]))
        if m["quarter"]:
            return cls(year, "quarter", int(m["quarter"]))
        if m["month"]:
            return cls(year, "month", int(m["month"]))
        return cls(year, "year", 1)

    def __str__(self) -> str:
        return {"year": f"{self.year}", "half-year": f"{self.year}-H{self.index}",
                "quarter": f"{self.year}-Q{self.index}",
                "month": f"{self.year}-{self.index:02d}"}[self.kind]

    @property
    def part(self) -> str:
        """The name a calendar uses for this part of the year: Y, H1, Q3, M05."""
        return {"year": "Y", "half-year": f"H{self.index}", "quarter": f"Q{self.index}",
                "month": f"M{self.index:02d}"}[self.kind]

    @property
    def months(self) -> int:
        return 12 // PER_YEAR[self.kind]

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, (self.index - 1) * self.months + 1, 1)

    @property
    def end(self) -> dt.date:
        last_month = self.index * self.months
        if last_month == 12:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, last_month + 1, 1) - dt.timedelta(days=1)

    def shifted(self, steps: int) -> Period:
        """The period `steps` periods later (negative: earlier), of the same kind."""
        n = PER_YEAR[self.kind]
        count = self.year * n + self.index - 1 + steps
        return Period(count // n, self.kind, count % n + 1)

    def previous(self) -> Period:
        return self.shifted(-1)

    def year_fraction(self, cumulative: bool = False) -> float:
        """Share of the year this period covers (cumulative: from 1 January to its end)."""
        first = dt.date(self.year, 1, 1) if cumulative else self.start
        days_in_year = (dt.date(self.year, 12, 31) - dt.date(self.year, 1, 1)).days + 1
        return ((self.end - first).days + 1) / days_in_year


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a period (inclusive); raises InvalidPeriod."""
    p = Period.parse(period)
    return p.start, p.end


def previous_period(period: str) -> str:
    """The period before `period`, of the same kind: 2026-H1 -> 2025-H2, 2026-Q1 -> 2025-Q4."""
    return str(Period.parse(period).previous())

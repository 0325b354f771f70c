"""Times shown to people: always in Europe/Amsterdam (the calendar's zone), whatever the database.

Stored moments are UTC (the station's `UtcDateTime`, the hub's `utcnow`); only what a person reads
is converted, here, so the station status, the reports and the evaluation show the same clock.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHOWN_ZONE = ZoneInfo("Europe/Amsterdam")


def local(moment: dt.datetime) -> dt.datetime:
    """The moment in Europe/Amsterdam; a naive moment is taken as UTC (how SQLite returns it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(SHOWN_ZONE)


def shown_iso(moment: dt.datetime) -> str:
    """One token for logs and audit listings: ISO 8601 in Europe/Amsterdam with its offset,
    to the second (`2026-09-01T14:05:00+02:00`)."""
    return local(moment).isoformat(timespec="seconds")


def shown(moment: dt.datetime | str | None, *, seconds: bool = False, zone: bool = False,
          empty: str = "-") -> str:
    """`2026-08-17 14:00` in Europe/Amsterdam (ISO text accepted too); `empty` for None.
    `zone` adds the abbreviation (CEST/CET), for texts that leave the country or the terminal."""
    if moment is None or moment == "":
        return empty
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    pattern = "%Y-%m-%d %H:%M" + (":%S" if seconds else "") + (" %Z" if zone else "")
    return local(moment).strftime(pattern)

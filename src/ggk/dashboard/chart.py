"""The chart of a period: how many municipalities delivered and how many have accepted data, day
by day, against the period's calendar. Server-rendered SVG (no script, allowed by the pages' CSP),
with a title and description for screen readers; the page shows the same figures as a table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from ggk.localtime import local
from ggk.station.interfaces import TimelineEvent

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 28, 58
BLUE, GREEN, GREY, TEXT = "#154273", "#1a6b2d", "#6b6b6b", "#1a1a1a"
CALENDAR_LABELS = {"aanlevering_open": "open", "aanlevering_sluit": "deadline",
                   "correctie_sluit": "correctie", "besluit_deadline": "besluit"}


@dataclass(frozen=True, slots=True)
class DayCount:
    day: dt.date
    delivered: int  # municipalities with at least one delivery of the required dataset
    accepted: int  # municipalities with accepted data of the required dataset


def daily_counts(events: Sequence[TimelineEvent], required: str, first: dt.date,
                 last: dt.date) -> list[DayCount]:
    """Cumulative counts per calendar day (Europe/Amsterdam) from `first` to `last`."""
    first_delivery: dict[str, dt.date] = {}
    first_accepted: dict[str, dt.date] = {}
    for event in events:
        if event.dataset != required:
            continue
        day = local(event.at).date()
        first_delivery.setdefault(event.gemeente, day)
        if event.accepted:
            first_accepted.setdefault(event.gemeente, day)
    counts, day = [], first
    while day <= last:
        counts.append(DayCount(day, sum(1 for d in first_delivery.values() if d <= day),
                               sum(1 for d in first_accepted.values() if d <= day)))
        day += dt.timedelta(days=1)
    return counts


def chart_window(calendar: dict[str, dt.date], events: Sequence[TimelineEvent],
                 today: dt.date) -> tuple[dt.date, dt.date]:
    """From a week before the delivery window opens to a week after the besluit deadline (or the
    last delivery, or today, when later)."""
    days = [local(e.at).date() for e in events]
    start_candidates = [calendar[k] for k in ("aanlevering_open",) if k in calendar] + days[:1]
    end_candidates = [calendar[k] for k in ("besluit_deadline", "correctie_sluit",
                                            "aanlevering_sluit") if k in calendar] + days[-1:]
    start = min(start_candidates, default=today) - dt.timedelta(days=7)
    end = max(end_candidates, default=today) + dt.timedelta(days=7)
    if start <= today <= end + dt.timedelta(days=60):
        end = max(end, today)
    return start, end


def _nice_max(value: int) -> int:
    for step in (4, 10, 20, 50, 100, 200, 400):
        if value <= step:
            return step
    return ((value + 99) // 100) * 100


def period_chart_svg(counts: Sequence[DayCount], calendar: dict[str, dt.date], today: dt.date,
                     title: str, chart_id: str) -> str:
    """An SVG line chart (two step lines, calendar lines, today) as markup for the page."""
    if not counts:
        return ""
    first, last = counts[0].day, counts[-1].day
    span = max((last - first).days, 1)
    top_value = _nice_max(max(max(c.delivered for c in counts), 1))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: dt.date) -> float:
        return LEFT + plot_w * (day - first).days / span

    def y(value: int) -> float:
        return TOP + plot_h * (1 - value / top_value)

    def steps(values: list[int]) -> str:
        points = []
        for count, value in zip(counts, values, strict=True):
            if points:
                points.append(f"{x(count.day):.1f},{float(points[-1].split(',')[1]):.1f}")
            points.append(f"{x(count.day):.1f},{y(value):.1f}")
        return " ".join(points)

    delivered = [c.delivered for c in counts]
    accepted = [c.accepted for c in counts]
    parts = [
        f'<svg class="ggk-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">Aantal gemeenten dat heeft aangeleverd ({delivered[-1]}) en '
        f'dat goedgekeurde gegevens heeft ({accepted[-1]}) per dag, van '
        f'{first:%d-%m-%Y} tot {last:%d-%m-%Y}, met de data van de kalender.</desc>',
    ]
    for tick in range(0, top_value + 1, max(top_value // 4, 1)):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" stroke="#d9d9d9" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
                     f'font-size="12" fill="{TEXT}">{tick}</text>')
    month = dt.date(first.year, first.month, 1)
    while month <= last:
        if month >= first:
            parts.append(f'<text x="{x(month):.1f}" y="{HEIGHT - BOTTOM + 16}" '
                         f'text-anchor="middle" font-size="12" fill="{TEXT}">'
                         f'{month:%m-%Y}</text>')
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    for name, label in CALENDAR_LABELS.items():
        day = calendar.get(name)
        if day is None or not first <= day <= last:
            continue
        parts.append(f'<line x1="{x(day):.1f}" x2="{x(day):.1f}" y1="{TOP}" '
                     f'y2="{HEIGHT - BOTTOM}" stroke="{GREY}" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x(day):.1f}" y="{TOP - 8}" text-anchor="middle" '
                     f'font-size="12" fill="{TEXT}">{label}</text>')
    if first <= today <= last:
        parts.append(f'<line x1="{x(today):.1f}" x2="{x(today):.1f}" y1="{TOP}" '
                     f'y2="{HEIGHT - BOTTOM}" stroke="#a4001c" stroke-width="2"/>')
        parts.append(f'<text x="{x(today) + 4:.1f}" y="{HEIGHT - BOTTOM - 6}" font-size="12" '
                     f'fill="#a4001c">vandaag</text>')
    parts.append(f'<polyline fill="none" stroke="{BLUE}" stroke-width="3" '
                 f'points="{steps(delivered)}"/>')
    parts.append(f'<polyline fill="none" stroke="{GREEN}" stroke-width="3" '
                 f'stroke-dasharray="8 4" points="{steps(accepted)}"/>')
    legend_y = HEIGHT - 14
    parts.append(f'<line x1="{LEFT}" x2="{LEFT + 28}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
                 f'stroke="{BLUE}" stroke-width="3"/>')
    parts.append(f'<text x="{LEFT + 34}" y="{legend_y}" font-size="13" fill="{TEXT}">'
                 'aangeleverd</text>')
    parts.append(f'<line x1="{LEFT + 150}" x2="{LEFT + 178}" y1="{legend_y - 4}" '
                 f'y2="{legend_y - 4}" stroke="{GREEN}" stroke-width="3" '
                 'stroke-dasharray="8 4"/>')
    parts.append(f'<text x="{LEFT + 184}" y="{legend_y}" font-size="13" fill="{TEXT}">'
                 'goedgekeurd</text>')
    parts.append("</svg>")
    return "".join(parts)

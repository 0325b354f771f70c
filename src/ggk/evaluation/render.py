"""HTML of the evaluation (Dutch, self-contained, inline SVG charts drawn by ggk.mirror's
vl-convert renderer); the PDF is WeasyPrint over this HTML (`ggk.mirror.render_pdf`)."""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ggk.localtime import shown
from ggk.mirror.disclosure import format_nl

CALENDAR_LABELS = {"aanlevering_sluit": "deadline", "correctie_sluit": "correctie sluit"}


@functools.cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("ggk.evaluation", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    env.filters["tijd"] = shown
    env.filters["duur"] = duration_nl
    env.filters["pct"] = percent_nl
    env.filters["nl"] = format_nl
    return env


def duration_nl(seconds: float | None) -> str:
    """A duration as Dutch text: 4 s, 3,5 min, 2,0 uur, 1,5 dag; '-' when not measured."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.1f}".replace(".", ",") + " s"
    for limit, unit, size in ((120, "s", 1), (7200, "min", 60), (172800, "uur", 3600)):
        if seconds < limit:
            value = seconds / size
            return (f"{value:.0f}" if size == 1 else f"{value:.1f}".replace(".", ",")) + f" {unit}"
    return f"{seconds / 86400:.1f}".replace(".", ",") + " dagen"


def percent_nl(value: float | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return f"{value:.1f}".replace(".", ",") + "%"


def weekly_chart_spec(data: dict[str, Any]) -> dict[str, Any] | None:
    """Deliveries per week, accepted and rejected stacked, with the calendar's closing dates."""
    rows = data["aanleveringen"]["per_week"]
    if not rows:
        return None
    rules = [{"datum": data["kalender"][name], "wat": label}
             for name, label in CALENDAR_LABELS.items() if name in data["kalender"]]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.4.1.json",
        "config": {"font": "DejaVu Sans", "view": {"stroke": None},
                   "legend": {"orient": "bottom", "direction": "horizontal"}},
        "width": 520, "height": 180,
        "layer": [
            {"data": {"values": rows}, "mark": {"type": "bar", "width": 10},
             "encoding": {
                 "x": {"field": "week", "type": "temporal", "title": "week (maandag)",
                       "axis": {"format": "%d-%m"}},
                 "y": {"field": "aantal", "type": "quantitative", "title": "aanleveringen",
                       "axis": {"tickMinStep": 1}},
                 "color": {"field": "oordeel", "type": "nominal", "title": None,
                           "scale": {"domain": ["goedgekeurd", "afgekeurd"],
                                     "range": ["#2c7a2c", "#d62728"]}}}},
            {"data": {"values": rules}, "mark": {"type": "rule", "strokeDash": [4, 3]},
             "encoding": {"x": {"field": "datum", "type": "temporal"}}},
            {"data": {"values": rules},
             "mark": {"type": "text", "align": "left", "baseline": "top", "dx": 3, "y": 2,
                      "fontSize": 9},
             "encoding": {"x": {"field": "datum", "type": "temporal"},
                          "text": {"field": "wat"}}},
        ],
    }


def findings_chart_spec(data: dict[str, Any]) -> dict[str, Any] | None:
    """Rejected deliveries per finding code (a delivery counts once per code it has)."""
    rows = data["afkeuringen_per_code"]
    if not rows:
        return None
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.4.1.json",
        "config": {"font": "DejaVu Sans", "view": {"stroke": None}},
        "width": 420, "height": {"step": 18},
        "data": {"values": rows}, "mark": {"type": "bar", "color": "#d62728"},
        "encoding": {
            "y": {"field": "code", "type": "nominal", "sort": "-x", "title": None},
            "x": {"field": "aanleveringen", "type": "quantitative",
                  "title": "afgekeurde aanleveringen met deze bevinding",
                  "axis": {"tickMinStep": 1}}},
    }


def render_html(data: dict[str, Any]) -> str:
    from ggk.mirror import vegalite_svg

    charts = {}
    for name, spec in (("weken", weekly_chart_spec(data)),
                       ("bevindingen", findings_chart_spec(data))):
        charts[name] = vegalite_svg(spec) if spec is not None else ""
    return _environment().get_template("evaluatie.html.j2").render(r=data, charts=charts)

"""HTML (Dutch, self-contained, inline SVG charts: Vega-Lite specs rendered offline by vl-convert)
and PDF (WeasyPrint)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ggk.localtime import shown
from ggk.mirror.disclosure import format_nl, shown_number

LEGEND = ["Eigen gemeente", "Vorige periode", "Mediaan vergelijkbare gemeenten", "Nederland"]
COLORS = ("#d62728", "#ff9896", "#08519c", "#555555")
SHAPES = ("circle", "triangle-up", "diamond", "square")
# Vega-Lite version of the specs (what Altair 6 wrote; vl-convert compiles with its own bundle)
SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
SOORT_LABEL = {
    "afwijking-peers": "Wijkt af van vergelijkbare gemeenten",
    "verandering": "Grote verandering t.o.v. vorige periode",
    "nul": "Nul waar vergelijkbare gemeenten dat niet zijn",
}


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ggk.mirror", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    env.filters["nl"] = format_nl
    env.filters["tijd"] = shown  # a moment as people read it: Europe/Amsterdam
    return env


def _scale(range_: list[str]) -> dict[str, Any]:
    return {"domain": list(LEGEND), "range": range_}


def chart_spec(data: dict[str, Any]) -> dict[str, Any] | None:
    """The Vega-Lite spec of the charts as a plain dict: the same dict Altair's `to_dict()` gave
    for the same chart (tested), without building and validating Altair objects for every report
    (that took longer than drawing the chart). None when there is nothing to draw."""
    panels = []
    for ind in data["indicators"]:
        rows = []
        peers = ind["peers"] or {}
        for label, value in (
            ("Eigen gemeente", ind["eigen"]),
            ("Vorige periode", ind["vorige_periode"]),
            ("Mediaan vergelijkbare gemeenten", peers.get("mediaan")),
            ("Nederland", ind["landelijk"]),
        ):
            number = shown_number(value)
            if number is not None:
                rows.append({"wat": label, "waarde": number})
        p10, p90 = shown_number(peers.get("p10")), shown_number(peers.get("p90"))
        x_scale = {"zero": False}
        layers: list[dict[str, Any]] = []
        if p10 is not None and p90 is not None:
            layers.append({
                "data": {"values": [{"p10": p10, "p90": p90}]},
                "mark": {"type": "bar", "color": "#c6dbef", "height": 14},
                "encoding": {
                    "x": {"field": "p10", "scale": dict(x_scale), "title": ind["eenheid"],
                          "type": "quantitative"},
                    "x2": {"field": "p90"},
                },
            })
        layers.append({
            "data": {"values": rows},
            "mark": {"type": "point", "filled": True, "size": 90},
            "encoding": {
                "color": {"field": "wat", "scale": _scale(list(COLORS)), "title": None,
                          "type": "nominal"},
                "shape": {"field": "wat", "scale": _scale(list(SHAPES)), "title": None,
                          "type": "nominal"},
                "x": {"field": "waarde", "scale": dict(x_scale), "title": ind["eenheid"],
                      "type": "quantitative"},
            },
        })
        panel: dict[str, Any] = {"layer": layers}
        if len(layers) == 1:  # Altair moved data shared by all layers up to the layer chart
            panel["data"] = layers[0].pop("data")
        panels.append({
            **panel,
            "height": 30,
            "title": {"text": ind["naam"], "anchor": "start", "fontSize": 11},
            "width": 520,
        })
    if not panels:
        return None
    return {
        "config": {
            "view": {"continuousWidth": 300, "continuousHeight": 300, "stroke": None},
            "font": "DejaVu Sans",  # the font WeasyPrint and the HTML use: same widths
            "legend": {"columns": 2, "labelFontSize": 11, "labelLimit": 320, "orient": "top"},
        },
        "vconcat": panels,
        "spacing": 14,
        "$schema": SCHEMA_URL,
    }


def chart_svg(data: dict[str, Any]) -> str:
    """One SVG with a small panel per indicator: P10-P90 band, peer median, own value, national.
    Only disclosure-controlled (shown) values are drawn; suppressed values are left out."""
    spec = chart_spec(data)
    if spec is None:
        return ""
    return vegalite_svg(spec)


def vegalite_svg(spec: dict[str, Any]) -> str:
    """A Vega-Lite spec drawn offline (vl-convert, Dutch number format) as inline SVG; shared by
    every ggk report with charts (spiegelrapport, evaluatie)."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec, format_locale="nl-NL")
    return svg[svg.index("<svg") :]


def render_html(data: dict[str, Any]) -> str:
    return (
        _environment()
        .get_template("spiegelrapport.html.j2")
        .render(r=data, chart=chart_svg(data), soort_label=SOORT_LABEL)
    )


def render_pdf(html: str) -> bytes:
    import logging

    from weasyprint import HTML

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    return HTML(string=html).write_pdf()


@dataclass
class RenderedReport:
    """A report whose JSON document `data` is the only source of its HTML and PDF, so no format
    shows more than the (disclosure-controlled) JSON. Subclasses say how the HTML is rendered;
    shared by the spiegelrapport and the evaluatie."""

    data: dict[str, Any]
    _html: str | None = field(default=None, repr=False)

    def render_html(self) -> str:
        raise NotImplementedError

    def json(self) -> str:
        return json.dumps(self.data, indent=2, ensure_ascii=False) + "\n"

    def html(self) -> str:
        if self._html is None:
            self._html = self.render_html()
        return self._html

    def pdf(self) -> bytes:
        return render_pdf(self.html())

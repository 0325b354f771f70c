"""HTML (Dutch, self-contained, inline SVG charts via Altair + vl-convert) and PDF (WeasyPrint)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ggk.mirror.disclosure import format_nl, shown_number

LEGEND = ["Eigen gemeente", "Vorige periode", "Mediaan vergelijkbare gemeenten", "Nederland"]
SOORT_LABEL = {
    "afwijking-peers": "Wijkt af van vergelijkbare gemeenten",
    "verandering": "Grote verandering t.o.v. vorige periode",
    "nul": "Nul waar vergelijkbare gemeenten dat niet zijn",
}


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ggk.mirror", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    env.filters["nl"] = format_nl
    return env


def chart_svg(data: dict[str, Any]) -> str:
    """One SVG with a small panel per indicator: P10-P90 band, peer median, own value, national.
    Only disclosure-controlled (shown) values are drawn; suppressed values are left out."""
    import altair as alt
    import vl_convert as vlc

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
        band = [{"p10": shown_number(peers.get("p10")), "p90": shown_number(peers.get("p90"))}]
        base_title = alt.TitleParams(ind["naam"], fontSize=11, anchor="start")
        layers = []
        if band[0]["p10"] is not None and band[0]["p90"] is not None:
            layers.append(
                alt.Chart(alt.Data(values=band))
                .mark_bar(height=14, color="#c6dbef")
                .encode(
                    x=alt.X("p10:Q", title=ind["eenheid"], scale=alt.Scale(zero=False)), x2="p90:Q"
                )
            )
        layers.append(
            alt.Chart(alt.Data(values=rows))
            .mark_point(size=90, filled=True)
            .encode(
                x=alt.X("waarde:Q", title=ind["eenheid"], scale=alt.Scale(zero=False)),
                shape=alt.Shape(
                    "wat:N",
                    title=None,
                    scale=alt.Scale(
                        domain=LEGEND,
                        range=["circle", "triangle-up", "diamond", "square"],
                    ),
                ),
                color=alt.Color(
                    "wat:N",
                    title=None,
                    scale=alt.Scale(
                        domain=LEGEND,
                        range=["#d62728", "#ff9896", "#08519c", "#555555"],
                    ),
                ),
            )
        )
        panels.append(alt.layer(*layers).properties(width=520, height=30, title=base_title))
    if not panels:
        return ""
    chart = (
        alt.vconcat(*panels, spacing=14)
        .configure(font="DejaVu Sans")  # the font WeasyPrint and the HTML use: same widths
        .configure_view(stroke=None)
        .configure_legend(orient="top", labelFontSize=11, labelLimit=320, columns=2)
    )
    svg = vlc.vegalite_to_svg(chart.to_dict(), format_locale="nl-NL")
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

"""The report renders: self-contained HTML in headless Chromium (screenshot kept), PDF charts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ggk.definitions import Definition
from ggk.mirror import build_spiegelrapport
from tests.mirror.conftest import PERIOD, class_members, synthetic_source

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def report_files(
    definition: Definition, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    codes = class_members(5)[:10]
    report = build_spiegelrapport(definition, PERIOD, codes[0], synthetic_source(codes, seed=3))
    out = tmp_path_factory.mktemp("render")
    return {p.suffix: p for p in report.write(out)}


def test_html_is_self_contained(report_files: dict[str, Path]) -> None:
    html = report_files[".html"].read_text("utf-8")
    assert "<svg" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "url(http" not in html and "@import" not in html and "<script" not in html


def test_pdf_has_text_and_charts(report_files: dict[str, Path]) -> None:
    text = subprocess.run(
        ["pdftotext", "-layout", str(report_files[".pdf"]), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Waar moet u naar kijken?" in text
    assert "Eigen gemeente" in text  # legend text only exists inside the SVG chart
    assert "Mediaan vergelijkbare" in text


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")
def test_renders_in_headless_chromium(
    report_files: dict[str, Path], artifacts_dir: Path, tmp_path: Path
) -> None:
    shot = artifacts_dir / "mirror-spiegelrapport.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'ud'}",
            f"--screenshot={shot}",
            "--window-size=1200,2400",
            report_files[".html"].resolve().as_uri(),
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert shot.is_file() and shot.stat().st_size > 50_000  # a blank page is a few kB
    (artifacts_dir / "mirror-spiegelrapport.html").write_bytes(report_files[".html"].read_bytes())


def test_cli_writes_reports_from_csv_folder(tmp_path: Path) -> None:
    import polars as pl

    from ggk.cli import app

    codes = class_members(4)[:6]
    source = synthetic_source(codes, facultatief=False)
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    for code, frame in source.accepted("gmsd", PERIOD, "basis").items():
        frame.with_columns(pl.col("begindatum", "einddatum").dt.strftime("%Y-%m-%d")).write_csv(
            csv_dir / f"{code}-{PERIOD}-basis.csv", separator=";"
        )
    result = CliRunner().invoke(
        app,
        [
            "spiegelrapport",
            "--gemeente",
            codes[0],
            "--period",
            PERIOD,
            "--csv-dir",
            str(csv_dir),
            "--out",
            str(tmp_path / "out"),
            "--format",
            "json,html",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "spiegelrapport.json").is_file()
    assert not (tmp_path / "out" / "spiegelrapport.pdf").exists()
    bad = CliRunner().invoke(
        app,
        [
            "spiegelrapport",
            "--gemeente",
            codes[0],
            "--period",
            PERIOD,
            "--out",
            str(tmp_path / "o2"),
        ],
    )
    assert bad.exit_code == 2 and "--csv-dir" in bad.output


def _altair_spec(data: dict) -> dict | None:
    """The chart as it was built with Altair before the spec became a plain dict (reference)."""
    import altair as alt

    from ggk.mirror.disclosure import shown_number
    from ggk.mirror.render import LEGEND

    panels = []
    for ind in data["indicators"]:
        peers = ind["peers"] or {}
        rows = [{"wat": label, "waarde": shown_number(value)} for label, value in (
            ("Eigen gemeente", ind["eigen"]), ("Vorige periode", ind["vorige_periode"]),
            ("Mediaan vergelijkbare gemeenten", peers.get("mediaan")),
            ("Nederland", ind["landelijk"])) if shown_number(value) is not None]
        band = [{"p10": shown_number(peers.get("p10")), "p90": shown_number(peers.get("p90"))}]
        layers = []
        if band[0]["p10"] is not None and band[0]["p90"] is not None:
            layers.append(alt.Chart(alt.Data(values=band)).mark_bar(height=14, color="#c6dbef")
                          .encode(x=alt.X("p10:Q", title=ind["eenheid"],
                                          scale=alt.Scale(zero=False)), x2="p90:Q"))
        layers.append(alt.Chart(alt.Data(values=rows)).mark_point(size=90, filled=True).encode(
            x=alt.X("waarde:Q", title=ind["eenheid"], scale=alt.Scale(zero=False)),
            shape=alt.Shape("wat:N", title=None, scale=alt.Scale(
                domain=LEGEND, range=["circle", "triangle-up", "diamond", "square"])),
            color=alt.Color("wat:N", title=None, scale=alt.Scale(
                domain=LEGEND, range=["#d62728", "#ff9896", "#08519c", "#555555"]))))
        panels.append(alt.layer(*layers).properties(
            width=520, height=30, title=alt.TitleParams(ind["naam"], fontSize=11,
                                                        anchor="start")))
    if not panels:
        return None
    return (alt.vconcat(*panels, spacing=14).configure(font="DejaVu Sans")
            .configure_view(stroke=None)
            .configure_legend(orient="top", labelFontSize=11, labelLimit=320, columns=2)
            .to_dict())


def test_chart_spec_is_what_altair_built(definition: Definition) -> None:
    from ggk.mirror.render import chart_spec

    codes = class_members(5)[:10]
    source = synthetic_source(codes, seed=3)
    for code in codes[:3]:
        data = build_spiegelrapport(definition, PERIOD, code, source).data
        assert chart_spec(data) == _altair_spec(data)
        data["indicators"][0]["peers"] = None  # no band, fewer points
        data["indicators"][1]["eigen"] = "."
        assert chart_spec(data) == _altair_spec(data)
    assert chart_spec({"indicators": []}) is None

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

"""The HTML report rendered in headless Chromium: a screenshot kept as artifact, text checked."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ggk.validation import validate_file

CHROMIUM = shutil.which("chromium")
HEADER = ("gemeentecode;bsn;productcategorie;leveringsvorm;begindatum;einddatum;intensiteit;"
          "eenheid;reden_beeindiging")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make system-deps)")
def test_report_renders_in_chromium(tmp_path: Path, artifacts_dir: Path) -> None:
    rows = ["GM0363;123456783;01;ZIN;2026-01-10;;;;", "GM0363;123456782;01;ZIN;2026-01-10;;4;;",
            "GM0363;123456782;02;ZIN;2026-01-10;2026-03-01;;;"]
    path = tmp_path / "GM0363-2026-H1-basis.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    html = tmp_path / "rapport.html"
    html.write_text(validate_file(path, dataset="basis", gemeente="GM0363",
                                  period="2026-H1").render_html())
    profile = tmp_path / "profile"
    shot = artifacts_dir / "technisch-controlerapport.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
                    "--window-size=1100,1600", html.as_uri()], check=True, timeout=60,
                   capture_output=True)
    assert shot.stat().st_size > 20_000
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                          html.as_uri()], check=True, timeout=60, capture_output=True, text=True)
    text = dom.stdout
    assert text.index("Afgekeurd") < text.index("Bevindingen")
    for expected in ("BSN doorstaat de elfproef niet", "Eenheid ontbreekt", "Zo lost u het op",
                     "12345****", "waarschuwing"):
        assert expected in text
    assert "123456783" not in text

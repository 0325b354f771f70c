"""`ggk validate` through the real executable: exit codes, JSON on stdout, reports on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GGK = Path(sys.executable).parent / "ggk"
HEADER = ("gemeentecode;bsn;productcategorie;leveringsvorm;begindatum;einddatum;intensiteit;"
          "eenheid;reden_beeindiging")


def ggk(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GGK), *map(str, args)], capture_output=True, text=True, timeout=60)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "goed.csv"
    good.write_text(f"{HEADER}\nGM0363;123456782;01;ZIN;2026-01-10;;;;\n")
    bad = tmp_path / "fout.csv"
    bad.write_text(f"{HEADER}\nGM0363;123456783;01;ZIN;2026-01-10;;;;\n")
    return {"good": good, "bad": bad}


def test_exit_codes_and_json(files: dict[str, Path], tmp_path: Path) -> None:
    common = ["--gemeente", "GM0363", "--period", "2026-H1", "--dataset", "basis"]
    ok = ggk("validate", files["good"], *common, "--format", "json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["verdict"] == "goedgekeurd"
    html, csv = tmp_path / "r.html", tmp_path / "f.csv"
    bad = ggk("validate", files["bad"], *common, "--format", "html", "--output", html,
              "--findings-csv", csv)
    assert bad.returncode == 1
    assert "Afgekeurd" in html.read_text() and "elfproef" in csv.read_text()
    text = ggk("validate", files["bad"], *common)
    assert text.returncode == 1 and "AFGEKEURD" in text.stdout and "elfproef" in text.stdout


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["missing.csv", "--gemeente", "GM0363", "--period", "2026-H1", "--dataset", "basis"],
         "bestand niet gevonden"),
        (["{good}", "--gemeente", "GM363", "--period", "2026-H1", "--dataset", "basis"],
         "ongeldige gemeentecode"),
        (["{good}", "--gemeente", "GM9999", "--period", "2026-H1", "--dataset", "basis"],
         "onbekende gemeentecode"),
        (["{good}", "--gemeente", "GM0363", "--period", "2019-H1", "--dataset", "basis"],
         "onbekende periode"),
        (["{good}", "--gemeente", "GM0363", "--period", "2026-H1", "--dataset", "extra"],
         "onbekende dataset"),
    ],
)
def test_usage_errors_exit_2_with_one_line(files: dict[str, Path], args: list[str], reason: str
                                          ) -> None:
    result = ggk("validate", *[a.format(good=files["good"]) for a in args])
    assert result.returncode == 2
    assert reason in result.stderr and len(result.stderr.strip().splitlines()) == 1

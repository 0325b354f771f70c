"""`ggk station extend` reaches the municipality: the running station sends gmsd.uitstel, and
`ggk gemeente status` shows it, waiting and after `ggk gemeente reports` fetched it."""

from __future__ import annotations

import time
from pathlib import Path

from typer.testing import CliRunner

from ggk.cli import app
from tests.gemeente.conftest import PERIOD, Chain

runner = CliRunner()


def test_extension_granted_by_cbs_shows_in_gemeente_status(chain: Chain, tmp_path: Path) -> None:
    granted = runner.invoke(app, ["station", "extend", "--gemeente", "GM0363", "--period", PERIOD,
                                  "--until", "2026-10-10", "--reason", "leverancier te laat",
                                  "--data-dir", str(chain.tmp / "station")])
    assert granted.exit_code == 0, granted.output
    assert "tells the municipality" in granted.output

    deadline = time.monotonic() + 30
    while True:  # the station tells it at its next poll
        status = runner.invoke(app, ["gemeente", "status", "--period", PERIOD, "--reports",
                                     str(tmp_path / "rapporten"), *chain.options()])
        assert status.exit_code == 0, status.output
        if "uitstel" in status.output or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "uitstel 2026-H1 tot 2026-10-10" in status.output, status.output
    assert "aanleveren tot en met 10 oktober 2026" in status.output
    assert "(nog ophalen)" in status.output

    fetched = runner.invoke(app, ["gemeente", "reports", "--out", str(tmp_path / "rapporten"),
                                  "--until", "uitstel", "--wait", "30", *chain.options()])
    assert fetched.exit_code == 0, fetched.output
    assert "uitstel tot 2026-10-10" in fetched.output
    status = runner.invoke(app, ["gemeente", "status", "--period", PERIOD, "--reports",
                                 str(tmp_path / "rapporten"), *chain.options()])
    assert "uitstel 2026-H1 tot 2026-10-10" in status.output
    assert "(nog ophalen)" not in status.output

    other = runner.invoke(app, ["gemeente", "status", "--period", PERIOD,
                                *chain.options("gemeente_b")])
    assert "uitstel" not in other.output  # only the municipality it was granted to

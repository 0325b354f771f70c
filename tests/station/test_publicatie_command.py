"""`ggk publicatie` against a production-style station (--database-url + --store-dir)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ggk.cli import app
from tests.hub.conftest import HubPki, StartHub
from tests.publication.conftest import PERIOD, PublicationWorld, publication_world
from tests.publication.test_publication_flow import play_period

runner = CliRunner()


@pytest.fixture
def five(database_url: str, hub_pki: HubPki, start_hub: StartHub,
         tmp_path: Path) -> Iterator[PublicationWorld]:
    """The publication tests' world: five municipalities that deliver and decide."""
    with publication_world(database_url, hub_pki, start_hub, tmp_path) as made:
        yield made


def test_publicatie_command(five: PublicationWorld, tmp_path: Path) -> None:
    play_period(five)
    out = tmp_path / "open-data"
    station = ["--database-url", str(five.station.settings.database_url),
               "--store-dir", str(five.station.settings.store_dir), "--out", str(out)]
    early = runner.invoke(app, ["publicatie", "--period", PERIOD, "--now", "2026-10-31",
                                *station])
    assert early.exit_code == 2 and "besluit deadline of gmsd 2026-H1 is 2026-10-31" in \
        early.output
    assert not out.exists()

    made = runner.invoke(app, ["publicatie", "--period", PERIOD, "--now", "2026-11-02",
                               *station])
    assert made.exit_code == 0, made.output
    assert "release r1 of gmsd 2026-H1: 3 municipalities published (opt-in); left out: " \
        "1 withdrawn, 1 undecided; 337 without accepted data" in made.output
    release = out / "gmsd" / PERIOD / "r1"
    assert f"{release}/" in made.output and (release / "manifest.json").is_file()

    again = runner.invoke(app, ["publicatie", "--period", PERIOD, "--now", "2026-11-03",
                                *station])
    assert again.exit_code == 1 and "exactly these deliveries and decisions" in again.output
    assert sorted(p.name for p in release.parent.iterdir()) == ["r1"]

    unknown = runner.invoke(app, ["publicatie", "--period", "2031-H1", *station])
    assert unknown.exit_code == 2 and "2031-H1" in unknown.output
    nowhere = runner.invoke(app, ["publicatie", "--period", PERIOD, "--now", "2026-11-02",
                                  "--data-dir", str(tmp_path / "nothing")])
    assert nowhere.exit_code == 2 and "no station database" in nowhere.output


def test_publicatie_without_any_opt_in(five: PublicationWorld, tmp_path: Path) -> None:
    five.deliver("GM0072", 200, 7)
    five.run()
    five.at("2026-10-20")
    five.besluit("GM0072", "intrekken")
    five.run()
    five.at("2026-11-01")
    assert five.station.publish_due(force=True) == []
    result = runner.invoke(app, [
        "publicatie", "--period", PERIOD, "--now", "2026-11-02", "--database-url",
        str(five.station.settings.database_url), "--store-dir",
        str(five.station.settings.store_dir)])
    assert result.exit_code == 1
    assert "no municipality has opted in for gmsd 2026-H1 (1 withdrawn, 0 undecided)" in \
        result.output
    assert not (five.publications / "gmsd" / PERIOD).exists()

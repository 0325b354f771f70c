"""`ggk spiegelrapport` on demand for operators, reading a real station's accepted deliveries:
production style (--database-url + --store-dir, SQLite and PostgreSQL) and embedded (--data-dir)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ggk.cli import app
from ggk.station import Station, StationSettings
from tests.station.conftest import PERIOD, StationWorld, gen

runner = CliRunner()


def _deliver_two_basis_files(world: StationWorld, station: Station) -> None:
    d, tmp = world.definition, world.tmp
    world.deliver("gemeente_a", gen(d, tmp, "GM0363", 400, seed=21))
    world.deliver("gemeente_b", gen(d, tmp, "GM0599", 300, seed=22))
    station.run_once()


def _report(out: Path) -> dict:
    return json.loads((out / "spiegelrapport.json").read_text("utf-8"))


def test_spiegelrapport_from_a_production_station(world: StationWorld, tmp_path: Path) -> None:
    world.station.mirror = None  # only the on-demand report is made here
    _deliver_two_basis_files(world, world.station)
    out = tmp_path / "out"
    result = runner.invoke(app, [
        "spiegelrapport", "--gemeente", "GM0363", "--period", PERIOD, "--format", "json",
        "--database-url", world.database_url, "--store-dir", str(world.tmp / "station-store"),
        "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    report = _report(out)
    assert report["report"] == "spiegelrapport" and report["period"] == PERIOD
    assert report["gemeente"]["code"] == "GM0363"
    assert not (out / "spiegelrapport.pdf").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_spiegelrapport_from_an_embedded_station_data_dir(
    world: StationWorld, tmp_path: Path
) -> None:
    data_dir = tmp_path / "embedded-station"
    station = Station(StationSettings(data_dir=data_dir), world.cbs, world.clock)
    station.mirror = None
    try:
        _deliver_two_basis_files(world, station)
    finally:
        station.close()
    out = tmp_path / "out"
    result = runner.invoke(app, [
        "spiegelrapport", "--gemeente", "GM0599", "--period", PERIOD, "--format", "json,html",
        "--data-dir", str(data_dir), "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    assert _report(out)["gemeente"]["code"] == "GM0599"
    assert (out / "spiegelrapport.html").stat().st_size > 0


def test_spiegelrapport_refuses_unclear_sources(tmp_path: Path) -> None:
    both = runner.invoke(app, [
        "spiegelrapport", "--gemeente", "GM0363", "--period", PERIOD, "--out", str(tmp_path),
        "--data-dir", str(tmp_path), "--csv-dir", str(tmp_path),
    ])
    assert both.exit_code == 2 and "not both" in both.output
    empty = runner.invoke(app, [
        "spiegelrapport", "--gemeente", "GM0363", "--period", PERIOD, "--out", str(tmp_path),
        "--data-dir", str(tmp_path / "nothing"),
    ])
    assert empty.exit_code == 2 and "no station database" in empty.output

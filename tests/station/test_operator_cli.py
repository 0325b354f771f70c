"""`ggk station status|extend|purge|migrate` on a station database with real deliveries, and the
storage pieces (pseudonym key file, diff) on their own."""

from __future__ import annotations

import os
import stat

import polars as pl
import pytest
from typer.testing import CliRunner

from ggk.cli import app
from ggk.station.diff import compare
from ggk.station.pseudonym import Pseudonymiser, PseudonymKeyError, load_or_create_key
from tests.station.conftest import StationWorld, gen

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_status_extend_purge_on_a_real_station(world: StationWorld) -> None:
    d, tmp = world.definition, world.tmp
    sent = world.deliver("gemeente_a", gen(d, tmp, "GM0363", 100, seed=2))
    world.deliver("gemeente_b", gen(d, tmp, "GM0599", 100, seed=2, errors={"elfproef": 1}))
    world.station.run_once()
    world.report("gemeente_a", sent)
    where = ["--database-url", world.database_url, "--store-dir", str(tmp / "station-store")]

    out = invoke("station", "extend", *where, "--gemeente", "GM0014", "--period", "2026-H1",
                 "--until", "2026-10-07", "--reason", "storing leverancier")
    assert "GM0014" in out and "2026-10-07" in out
    out = invoke("station", "status", *where, "--period", "2026-H1", "--now", "2026-10-02",
                 "--hub", world.hub.base_url, "--cert", str(world.hub.pem["operator"]),
                 "--ca", str(world.hub.ca))
    assert "Amsterdam" in out and "goedgekeurd" in out and "afgekeurd" in out
    assert "Groningen" in out and "uitstel" in out  # the extension is activity
    assert "overdue without any delivery: 339" in out  # 342 minus 0363, 0014 (extended), 0599
    assert "channel health" in out
    totals = {line.split("(")[0].strip("│ ").strip(): line.rsplit("│", 2)[-2].strip()
              for line in out.splitlines() if "(" in line and line.startswith("│")
              and line.rstrip().endswith("│")}
    assert totals.get("aangeleverd") == "2" and totals.get("goedgekeurd") == "1"
    assert totals.get("afgekeurd") == "1" and totals.get("te laat") == "340"
    full = invoke("station", "status", *where, "--period", "2026-H1", "--all")
    assert "Zwolle" in full  # every municipality listed

    assert "deleted 0 raw" in invoke("station", "purge", *where, "--now", "2026-09-02")
    assert "deleted 2 raw" in invoke("station", "purge", *where, "--now", "2026-11-01")

    bad = runner.invoke(app, ["station", "extend", *where, "--gemeente", "GM9999", "--period",
                              "2026-H1", "--until", "2026-10-07"])
    assert bad.exit_code == 2 and "GM9999" in bad.output
    bad = runner.invoke(app, ["station", "status", *where, "--period", "2031-H1"])
    assert bad.exit_code == 2 and "2031-H1" in bad.output


def test_status_refuses_an_unmigrated_database(sqlite_url: str, tmp_path) -> None:  # noqa: ANN001
    result = runner.invoke(app, ["station", "status", "--database-url", sqlite_url,
                                 "--store-dir", str(tmp_path), "--period", "2026-H1"])
    assert result.exit_code == 2 and "ggk station migrate" in result.output


def test_pseudonym_key_file_is_private_and_stable(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "keys" / "p.key"
    key = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key
    p = Pseudonymiser(key)
    assert p.value("123456782") == p.value("123456782") != p.value("111222333")
    assert Pseudonymiser(b"x" * 32).value("123456782") != p.value("123456782")
    os.chmod(path, 0o644)
    with pytest.raises(PseudonymKeyError, match="chmod 600"):
        load_or_create_key(path)


def test_diff_on_primary_key_with_duplicates_and_nulls() -> None:
    before = pl.DataFrame({"bsn": ["a", "b", "c", "c"], "pc": ["01", "01", "02", "02"],
                           "x": [1, 2, None, 4]})
    after = pl.DataFrame({"bsn": ["a", "b", "c", "d"], "pc": ["01", "01", "02", "03"],
                          "x": [1, 3, None, 5]})
    changes = compare(before, after, ("bsn", "pc"), 1)
    assert (changes.added, changes.removed, changes.changed, changes.unchanged) == (1, 1, 1, 2)
    same = compare(before, before, (), 1)
    assert (same.added, same.removed, same.changed, same.unchanged) == (0, 0, 0, 4)

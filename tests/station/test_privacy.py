"""No BSN of the input anywhere the station writes: database (every station row and the whole
database file), Parquet, reports sent and received, logs; raw files only until the purge."""

from __future__ import annotations

import csv
import datetime as dt
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from ggk.station import tables as t
from ggk.station.purge import purge_raw
from tests.station.conftest import StationWorld, gen
from tests.station.test_station_flow import correction_of


def bsns_of(path: Path) -> set[str]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        header = [h.strip().lower() for h in next(reader)]
        column = header.index("bsn")
        return {row[column].strip() for row in reader if row and len(row) > column
                and len(row[column].strip()) == 9}


def files_with(root: Path, needles: set[str], skip: tuple[str, ...] = ()) -> dict[str, str]:
    hits: dict[str, str] = {}
    encoded = [n.encode() for n in needles]
    for path in root.rglob("*"):
        if not path.is_file() or any(part in skip for part in path.parts):
            continue
        data = path.read_bytes()
        for needle in encoded:
            if needle in data:
                hits[str(path)] = needle.decode()
                break
    return hits


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_bsn_is_stored_logged_or_reported(world: StationWorld,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    d, tmp = world.definition, world.tmp
    bad = gen(d, tmp, "GM0363", 300, errors={"elfproef": 4, "dubbel-record": 3}, seed=7,
              name="bad")
    clean = gen(d, tmp, "GM0363", 300, seed=7, name="clean")
    fac = gen(d, tmp, "GM0363", 80, dataset="facultatief", seed=7, basis=clean, name="fac",
              errors={"geen-basisrecord": 5})
    corrected = correction_of(clean, tmp / "files" / "correctie.csv")
    bsns = bsns_of(bad) | bsns_of(clean) | bsns_of(fac)
    assert len(bsns) > 100
    sent = []
    for path, dataset in ((bad, "basis"), (clean, "basis"), (fac, "facultatief"),
                          (corrected, "basis")):
        sent.append(world.deliver("gemeente_a", path, dataset=dataset))
        world.station.run_once()
    world.besluit("gemeente_a", "intrekken", toelichting="fout bij 123456782")
    world.station.run_once()
    for message in sent:
        world.report("gemeente_a", message)  # downloads report.json/html/findings.csv

    store = world.settings.resolved_store_dir()
    parquet = list(store.rglob("*.parquet"))
    assert len(parquet) == 3
    assert files_with(store, bsns, skip=("raw",)) == {}
    assert files_with(tmp / "received", bsns) == {}
    assert files_with(world.settings.resolved_key_path().parent, bsns) == {}
    log_text = "\n".join(r.getMessage() for r in caplog.records)
    assert not [b for b in bsns if b in log_text]

    # every value of every station table, and every byte of the database file
    with world.station.engine.connect() as conn:
        dump = "\n".join(repr(row) for table in t.metadata.sorted_tables
                         for row in conn.execute(sa.select(table)))
    assert "GM0363" in dump
    assert not [b for b in bsns if b in dump]
    db_file = Path(sa.make_url(world.database_url).database or "")
    # (the hub's own attachment store, "store", holds the deliveries until they expire: not ours)
    assert files_with(db_file.parent, bsns,
                      skip=("files", "received", "station-store", "store")) == {}

    # raw files are kept only until the retention has passed
    assert files_with(store / "raw", bsns)
    world.clock.advance(dt.timedelta(days=31))
    assert purge_raw(world.station.engine, world.station.store, world.clock, 30) == 4
    assert files_with(store, bsns) == {}

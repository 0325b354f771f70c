"""End to end: deliveries through a real hub and station, besluiten, the station's publication
step after the besluit deadline, a withdrawal after publication, and the formats."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from ggk.publication import NothingToPublish, ReleaseExists, publish, releases
from ggk.station import StationAcceptedData
from tests.publication.conftest import GEMEENTEN, PERIOD, PublicationWorld
from tests.publication.formats_check import check_release_files

OPT_IN = ("GM0014", "GM0072", "GM0397", "GM1900")  # GM1900 withdraws; GM0106 never decides
WITHDRAWS = "GM1900"
LATER = "GM0397"  # withdraws after the first release (with an operator extension)
UNDECIDED = "GM0106"


def play_period(world: PublicationWorld) -> None:
    for seed, (code, rows) in enumerate(GEMEENTEN.items(), 1):
        world.deliver(code, rows, seed)
    world.run()
    world.at("2026-10-20")
    for code in OPT_IN:
        world.besluit(code, "opt-in")
    world.run()
    world.at("2026-10-28")
    world.besluit(WITHDRAWS, "intrekken")
    world.run()


def test_publication_after_the_besluit_deadline(world: PublicationWorld) -> None:
    play_period(world)
    assert world.station.publish_due(force=True) == []  # before the deadline: nothing
    mirror = StationAcceptedData(world.station.engine, world.station.store)
    consented = StationAcceptedData(world.station.engine, world.station.store, opt_in_only=True)
    assert set(mirror.accepted("gmsd", PERIOD, "basis")) == set(GEMEENTEN) - {WITHDRAWS}
    assert set(consented.accepted("gmsd", PERIOD, "basis")) == {"GM0014", "GM0072", "GM0397"}

    world.at("2026-11-01")
    made = world.station.publish_due(force=True)
    assert [r.name for r in made] == ["r1"]
    first = made[0]
    m = first.manifest
    assert m["gemeenten"] == ["GM0014", "GM0072", "GM0397"]
    assert m["aantallen"]["opt_in"] == 3 and m["aantallen"]["ingetrokken"] == 1
    assert m["aantallen"]["geen_besluit"] == 1 and m["aantallen"]["niet_geleverd"] == 337
    assert m["periode"] == PERIOD and m["edition"] == "2026" and m["release"] == 1
    for name, entry in m["bestanden"].items():
        data = (first.directory / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
    notes = (first.directory / "release-notes.md").read_text("utf-8")
    assert "1 ingetrokken, 1 zonder besluit" in notes
    with (first.directory / f"gmsd-{PERIOD}.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert [r[0] for r in rows[1:]] == ["NL", "GM0014", "GM0072", "GM0397"]
    assert WITHDRAWS not in (first.directory / f"gmsd-{PERIOD}.sdmx.csv").read_text("utf-8")
    first_cells = check_release_files(first)

    # the station step runs again: same data and decisions, no new release; never rewritten
    assert world.station.publish_due(force=True) == []
    with pytest.raises(NothingToPublish):
        publish(world.definition, PERIOD, consented, world.publications)
    with pytest.raises(ReleaseExists):
        publish(world.definition, PERIOD, consented, world.publications, number=1)

    # an undecided municipality withdraws late: nothing published changes, so no release
    for code in (UNDECIDED, LATER):
        world.station.extend(code, PERIOD, dt.date(2026, 11, 30))
    world.at("2026-11-04")
    world.besluit(UNDECIDED, "intrekken")
    world.run()
    assert world.station.publish_due(force=True) == []
    with pytest.raises(NothingToPublish, match="same as in release r1"):
        publish(world.definition, PERIOD, consented, world.publications)

    # a withdrawal after publication (operator extension): the next release leaves it out
    world.at("2026-11-05")
    world.besluit(LATER, "intrekken")
    world.run()
    made = world.station.publish_due(force=True)
    assert [r.name for r in made] == ["r2"]
    second = made[0]
    assert second.manifest["gemeenten"] == ["GM0014", "GM0072"]
    assert second.manifest["vorige_release"] == "r1"
    assert second.manifest["aantallen"]["ingetrokken"] == 3
    changes = json.loads((second.directory / "changes.json").read_text("utf-8"))
    assert changes["verwijderd"] == [{"gemeente": LATER, "naam": "Heemstede",
                                      "reden": "besluit ingetrokken"}]
    assert any(c["gebied"] == "NL" for c in changes["gewijzigd"])
    second_cells = check_release_files(second)
    for change in changes["gewijzigd"]:
        key = (change["gebied"], change["indicator"])
        assert change["vorige"] in (first_cells[key], ".") and change["nieuw"] in (
            second_cells[key], ".")
    notes = (second.directory / "release-notes.md").read_text("utf-8")
    assert f"Verwijderd: Heemstede ({LATER}): besluit ingetrokken" in notes
    # two stations writing the same release at once: one wins, the other is refused
    with ThreadPoolExecutor(2) as pool:
        attempts = [pool.submit(publish, world.definition, PERIOD, consented, world.publications,
                                number=3) for _ in range(2)]
    outcomes = sorted(type(a.exception() or a.result()).__name__ for a in attempts)
    assert outcomes == ["Release", "ReleaseExists"]
    assert not [p for p in second.directory.parent.iterdir() if p.name.startswith(".")]
    # r1 is untouched
    assert [r.name for r in releases(world.publications, "gmsd", PERIOD)] == ["r1", "r2", "r3"]
    for name, entry in first.manifest["bestanden"].items():
        data = (first.directory / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name

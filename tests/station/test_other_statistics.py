"""Statistics other than GMSD through the whole chain, by data alone: the quarterly Iv3 (shipped)
and a monthly statistic an operator adds from a folder. A gemeente delivers through the hub, the
station validates it (the technisch controlerapport equals the file's answer key), sends the
spiegelrapport with the statistic's own indicators, and confirms the besluit."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ggk.client import HubClient, Message
from ggk.conversation import Kind, kind_of
from ggk.definitions import Definition, DefinitionError, FolderRegistry
from ggk.definitions.registry import SHIPPED
from ggk.gemeente.submit import send_besluit, submit_file
from ggk.station import Station, StationSettings
from ggk.testdata import generate
from tests.definitions.test_third_statistic import folder as third_folder  # noqa: F401
from tests.station.conftest import StationWorld
from tests.testdata.reports import mismatches

THIRD_INDICATORS = """
[[indicator]]
code = "trajecten_per_1000"
naam = "Trajecten per 1.000 inwoners"
eenheid = "per 1.000 inwoners"
toelichting = "Aantal trajecten in de maand per 1.000 inwoners."
datasets = ["trajecten"]
decimalen = 1
leeg = 0
sql = '''
SELECT t.gemeente AS gemeentecode, COUNT(*) AS teller,
       COUNT(*) * CAST(1000 AS DOUBLE) / MAX(g.inwoners) AS waarde
FROM trajecten t JOIN gemeente g ON t.gemeente = g.gemeentecode
GROUP BY t.gemeente
'''
"""


def _replies(client: HubClient, to: Message, seen: list[Message]) -> list[Message]:
    for message in client.iter_new():
        seen.append(message)
        client.ack(message.id)
    return [m for m in seen if m.in_reply_to == to.id]


def _one(client: HubClient, to: Message, kind: Kind, seen: list[Message],
         statistic: str) -> Message:
    found = [m for m in _replies(client, to, seen) if kind_of(m.type) is kind]
    assert len(found) == 1, (kind, [(m.type, m.metadata) for m in _replies(client, to, seen)])
    assert found[0].type == f"{statistic}.{kind.value}"
    return found[0]


def _play(world: StationWorld, definition: Definition, registry: FolderRegistry, period: str,
          dataset: str, errors: str, indicators: set[str]) -> None:
    world.station.close()
    settings = StationSettings(data_dir=None, database_url=world.database_url,
                               store_dir=world.tmp / "station-store",
                               pseudonym_key=world.tmp / "keys" / "pseudonym.key", poll_wait=0.5)
    world.station = Station(settings, world.cbs, world.clock, registry=registry)
    cbs = world.hub.oin["cbs"]
    sent: dict[str, tuple[Message, object]] = {}
    for name, code, defects in (("gemeente_a", "GM0363", errors), ("gemeente_b", "GM0599", "")):
        g = generate(definition, dataset, code, period, errors=defects, seed=4,
                     out=world.tmp / "files" / code)
        message = submit_file(world.gemeente[name], g.path, period=period, dataset=dataset,
                              gemeente=code, cbs_oin=cbs, statistic=definition.statistic)
        sent[name] = (message, g.key)
    world.station.run_once()
    seen: dict[str, list[Message]] = {"gemeente_a": [], "gemeente_b": []}
    for name, (message, key) in sent.items():
        client = world.gemeente[name]
        rapport = _one(client, message, Kind.TECHNISCH_CONTROLERAPPORT, seen[name],
                       definition.statistic)
        dest = world.tmp / "received" / rapport.id
        dest.mkdir(parents=True)
        for a in rapport.attachments:
            client.download(rapport.id, a.name, dest / a.name)
        report = json.loads((dest / "report.json").read_text("utf-8"))
        assert report["statistic"] == definition.statistic and report["period"] == period
        assert not mismatches(report, key), mismatches(report, key)  # type: ignore[arg-type]
        if key.verdict == "goedgekeurd":  # type: ignore[attr-defined]
            spiegel = _one(client, message, Kind.SPIEGELRAPPORT, seen[name], definition.statistic)
            names = {a.name for a in spiegel.attachments}
            assert "spiegelrapport.json" in names, names
            client.download(spiegel.id, "spiegelrapport.json", dest / "spiegelrapport.json")
            mirror = json.loads((dest / "spiegelrapport.json").read_text("utf-8"))
            values = {i["code"]: i["eigen"] for i in mirror["indicators"]}
            assert all(isinstance(values[code], int | float) for code in indicators), values
            assert mirror["statistic"] == definition.statistic and mirror["period"] == period
            assert "productcategorie" not in json.dumps(mirror, ensure_ascii=False)
            besluit = send_besluit(client, period=period, besluit="opt-in", gemeente=message
                                   .metadata["gemeente"], cbs_oin=cbs,
                                   statistic=definition.statistic)
            world.station.run_once()
            bevestiging = _one(client, besluit, Kind.BEVESTIGING, seen[name],
                               definition.statistic)
            assert bevestiging.metadata["besluit"] == "opt-in"
        else:
            assert not [m for m in _replies(client, message, seen[name])
                        if kind_of(m.type) is Kind.SPIEGELRAPPORT]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_iv3_quarter_end_to_end(world: StationWorld) -> None:
    registry = FolderRegistry(SHIPPED)
    iv3 = registry.for_period("iv3", "2026-Q2")
    world.clock.set(dt.datetime(2026, 7, 10, 10, tzinfo=dt.UTC))  # Q2 aanleverperiode
    _play(world, iv3, registry, "2026-Q2", "verdelingsmatrix",
          "salarissen-als-baat=1,negatief-bedrag=2",
          {"lasten_per_inwoner", "aandeel_sociaal_domein", "lokale_belastingen_per_inwoner"})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_third_statistic_from_a_folder_end_to_end(world: StationWorld,
                                                  third_folder: Path) -> None:  # noqa: F811
    edition = third_folder / "proef" / "2027"
    (edition / "indicators.toml").write_text(THIRD_INDICATORS, "utf-8")
    registry = FolderRegistry(SHIPPED, third_folder)
    proef = registry.for_period("proef", "2027-02")
    world.clock.set(dt.datetime(2027, 3, 5, 10, tzinfo=dt.UTC))  # after 2027-02, before the 20th
    _play(world, proef, registry, "2027-02", "trajecten", "start-na-periode=2",
          {"trajecten_per_1000"})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_station_refuses_a_statistic_whose_calendar_lacks_workflow_events(
        world: StationWorld, third_folder: Path) -> None:  # noqa: F811
    calendar = third_folder / "proef" / "2027" / "calendar.toml"
    calendar.write_text(calendar.read_text("utf-8").replace('name = "besluit_deadline"',
                                                            'name = "besluit_uiterlijk"'), "utf-8")
    settings = StationSettings(data_dir=None, database_url=world.database_url,
                               store_dir=world.tmp / "store-2",
                               pseudonym_key=world.tmp / "keys" / "pseudonym.key")
    with pytest.raises(DefinitionError, match="lacks besluit_deadline"):
        Station(settings, world.cbs, world.clock,
                registry=FolderRegistry(SHIPPED, third_folder))

"""Issue 11 item 6, with a real hub and station: a spiegelrapport also after an accepted
facultatief delivery (its indicators need it), and test traffic (the ketentest's deliveries and
besluit, `test` in the conversation metadata) kept on a track of its own: answered like real
traffic, but never the municipality's accepted data, never in others' figures, never its besluit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ggk.client import Message
from ggk.conversation import Kind, SpiegelrapportMetadata
from ggk.gemeente.submit import send_besluit, submit_file
from ggk.station import accepted_data_source
from ggk.station.accepted import StationAcceptedData
from ggk.station.evaluation_records import StationEvaluationRecords
from tests.station.conftest import PERIOD, STATISTIC, StationWorld, gen

CODES = {"gemeente_a": "GM0363", "gemeente_b": "GM0599"}


def in_process_mirrors(world: StationWorld) -> None:
    """The default ggk.mirror hook, built in the test's process (no worker pool to spawn)."""
    world.station.close()
    world.station = world.make_station(mirror_workers=0)


def mirror_json(world: StationWorld, name: str, spiegel: Message) -> dict[str, Any]:
    dest = world.tmp / "received" / spiegel.id
    dest.mkdir(parents=True, exist_ok=True)
    json_files = [a.name for a in spiegel.attachments if a.name.endswith(".json")]
    assert json_files, spiegel.attachments
    world.gemeente[name].download(spiegel.id, json_files[0], dest / json_files[0])
    return json.loads((dest / json_files[0]).read_text("utf-8"))


def own_value(report: dict[str, Any], code: str) -> Any:
    """The gemeente's own value of an indicator (None: not in the report, or no value)."""
    return next((e["eigen"] for e in report["indicators"] if e["code"] == code), None)


def send(world: StationWorld, name: str, path: Any, dataset: str = "basis", *,
         test: bool = False) -> Message:
    return submit_file(world.gemeente[name], path, statistic=STATISTIC, period=PERIOD,
                       dataset=dataset,
                       gemeente=CODES[name], cbs_oin=world.hub.oin["cbs"], test=test)


def states_of(world: StationWorld) -> dict[tuple[str, str], str]:
    status = world.station.status(PERIOD, STATISTIC)
    return {(r.gemeente, r.dataset): r.state.value for r in status.rows}


def decide(world: StationWorld, name: str, besluit: str, *, test: bool = False) -> Message:
    return send_besluit(world.gemeente[name], statistic=STATISTIC, period=PERIOD,
                        besluit=besluit, gemeente=CODES[name], cbs_oin=world.hub.oin["cbs"],
                        test=test)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_spiegelrapport_follows_an_accepted_facultatief_delivery(world: StationWorld) -> None:
    in_process_mirrors(world)
    d, tmp = world.definition, world.tmp
    basis = gen(d, tmp, "GM0363", 300, seed=21)
    sent_basis = send(world, "gemeente_a", basis)
    send(world, "gemeente_b", gen(d, tmp, "GM0599", 200, seed=22))
    world.station.run_once()
    first = world.reply("gemeente_a", sent_basis, Kind.SPIEGELRAPPORT)
    assert own_value(mirror_json(world, "gemeente_a", first), "bedrag_per_client") is None

    fac = gen(d, tmp, "GM0363", 120, dataset="facultatief", seed=23, basis=basis, name="fac")
    sent_fac = send(world, "gemeente_a", fac, "facultatief")
    world.station.run_once()
    assert world.report("gemeente_a", sent_fac)["verdict"] == "goedgekeurd"
    spiegel = world.reply("gemeente_a", sent_fac, Kind.SPIEGELRAPPORT)
    meta = SpiegelrapportMetadata.from_metadata(spiegel.metadata)
    assert (meta.dataset, meta.versie, meta.test) == ("facultatief", 1, None)
    assert own_value(mirror_json(world, "gemeente_a", spiegel), "bedrag_per_client") is not None
    rows = states_of(world)
    assert rows[("GM0363", "facultatief")] == "spiegelrapport-verzonden"
    world.station.run_once()  # sent once: the state moved on
    assert len([m for m in world.replies("gemeente_a", sent_fac)
                if m.type.endswith(Kind.SPIEGELRAPPORT.value)]) == 1


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_test_traffic_is_answered_but_never_counts(world: StationWorld) -> None:
    in_process_mirrors(world)
    d, tmp = world.definition, world.tmp
    real_a = gen(d, tmp, "GM0363", 300, seed=31)
    sent_real = send(world, "gemeente_a", real_a)
    sent_test_a = send(world, "gemeente_a", gen(d, tmp, "GM0363", 150, seed=32), test=True)
    sent_test_b = send(world, "gemeente_b", gen(d, tmp, "GM0599", 200, seed=33), test=True)
    world.station.run_once()

    # answered like real traffic, marked as test, with versions of their own
    real_report = world.reply("gemeente_a", sent_real, Kind.TECHNISCH_CONTROLERAPPORT)
    test_report = world.reply("gemeente_a", sent_test_a, Kind.TECHNISCH_CONTROLERAPPORT)
    assert (real_report.metadata["versie"], real_report.metadata.get("test")) == (1, None)
    assert (test_report.metadata["versie"], test_report.metadata["test"]) == (1, True)
    assert test_report.metadata["verdict"] == "goedgekeurd"
    for name, sent in (("gemeente_a", sent_test_a), ("gemeente_b", sent_test_b)):
        spiegel = world.reply(name, sent, Kind.SPIEGELRAPPORT)
        assert spiegel.metadata["test"] is True

    # never accepted data, never in a snapshot others' reports are built from, not in status
    source = accepted_data_source(world.station)
    accepted = source.accepted("gmsd", PERIOD, "basis")
    assert set(accepted) == {"GM0363"}
    assert accepted["GM0363"].height == 300  # the real delivery, not the 150-row test
    snapshot = StationAcceptedData(world.station.engine, world.station.store).snapshot(["gmsd"])
    assert set(snapshot.versions("gmsd", PERIOD, "basis")) == {"GM0363"}
    active = {(r.gemeente, r.dataset): r.versions
              for r in world.station.status(PERIOD, STATISTIC).active()}
    assert active == {("GM0363", "basis"): 1}
    real_spiegel = world.reply("gemeente_a", sent_real, Kind.SPIEGELRAPPORT)
    assert real_spiegel.metadata.get("test") is None

    # a test besluit is confirmed for the test only; it is never the municipality's besluit
    test_besluit = decide(world, "gemeente_a", "intrekken", test=True)
    test_b = decide(world, "gemeente_b", "opt-in", test=True)
    world.station.run_once()
    bevestiging = world.reply("gemeente_a", test_besluit, Kind.BEVESTIGING)
    assert bevestiging.metadata["test"] is True and "telt niet" in bevestiging.metadata["bericht"]
    assert world.reply("gemeente_b", test_b, Kind.BEVESTIGING).metadata["test"] is True
    assert set(source.accepted("gmsd", PERIOD, "basis")) == {"GM0363"}  # not withdrawn
    states = states_of(world)
    assert states[("GM0363", "basis")] == "spiegelrapport-verzonden"
    # GM0599 has only test data: a real besluit is refused (nothing real to decide about)
    real_b = decide(world, "gemeente_b", "opt-in")
    world.station.run_once()
    weigering = world.reply("gemeente_b", real_b, Kind.WEIGERING)
    assert weigering.metadata["reden"] == "geen-goedgekeurde-levering"
    # nor in the evaluation for VWS: one real delivery, no besluit
    records = StationEvaluationRecords(world.station.engine, world.station.store)
    assert [f.gemeente for f in records.deliveries("gmsd", PERIOD)] == ["GM0363"]
    assert records.decisions("gmsd", PERIOD) == []
    assert records.final_states("gmsd", PERIOD, "basis") == {
        "GM0363": "spiegelrapport-verzonden"}

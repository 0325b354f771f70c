"""The whole delivery workflow through a real hub, on SQLite and PostgreSQL: rejected then
corrected, a correction with its diff, facultatief and besluit refusals, withdrawal and opt-in,
calendar refusals and an operator extension."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from ggk.conversation import PONG, Kind, message_type
from ggk.station import accepted_data_source, grant_extension
from ggk.station import tables as t
from tests.station.conftest import PERIOD, STATISTIC, StationWorld, gen


def mirror_counts(definition, period, gemeente, source, directory: Path) -> list[Path]:  # noqa: ANN001
    """A spiegelrapport stand-in with the MirrorHook contract: rows per gemeente."""
    counts = {g: f.height for g, f in source.accepted("gmsd", period, "basis").items()}
    path = directory / "spiegelrapport.json"
    path.write_text(json.dumps({"gemeente": gemeente, "rijen": counts}))
    return [path]


def correction_of(clean: Path, target: Path) -> Path:
    """Drop the last two data lines and change one field of the first: 2 removed, 1 changed."""
    lines = clean.read_text("utf-8").splitlines(keepends=True)
    header = [h.strip().lower() for h in lines[0].strip().split(";")]
    col = header.index("leveringsvorm")
    first = lines[1].rstrip("\r\n").split(";")
    first[col] = "PGB" if first[col].strip() == "ZIN" else "ZIN"
    lines[1] = ";".join(first) + "\n"
    target.write_text("".join(lines[:-2]), "utf-8")
    return target


def state(world: StationWorld, gemeente: str, dataset: str = "basis") -> tuple[str, int | None]:
    with world.station.engine.connect() as conn:
        row = conn.execute(sa.select(t.workflow.c.state, t.workflow.c.accepted_version).where(
            t.workflow.c.gemeente == gemeente, t.workflow.c.dataset == dataset)).first()
    return (row[0], row[1]) if row else ("geen-aanlevering", None)


def refusal(world: StationWorld, name: str, sent) -> dict:  # noqa: ANN001
    return world.reply(name, sent, Kind.WEIGERING).metadata


def test_delivery_workflow_end_to_end(world: StationWorld) -> None:
    world.station.mirror = mirror_counts
    d = world.definition
    tmp = world.tmp

    # rejected first delivery
    bad = gen(d, tmp, "GM0363", 200, errors={"elfproef": 3}, seed=1, name="bad")
    sent = world.deliver("gemeente_a", bad)
    assert world.station.run_once() == 1
    report = world.report("gemeente_a", sent)
    assert report["verdict"] == "afgekeurd" and report["versie"] == 1
    assert ("elfproef", "bsn") in {(f["code"], f["column"]) for f in report["findings"]}
    assert state(world, "GM0363") == ("afgekeurd", None)
    assert world.cbs.message(sent.id).state == "acknowledged"

    # facultatief and besluit before an accepted basis: refused with what is possible instead
    fac = gen(d, tmp, "GM0363", 50, dataset="facultatief", seed=1, name="fac0")
    sent_fac = world.deliver("gemeente_a", fac, dataset="facultatief")
    sent_besluit = world.besluit("gemeente_a", "opt-in")
    world.station.run_once()
    assert refusal(world, "gemeente_a", sent_fac)["reden"] == "verplichte-dataset-ontbreekt"
    assert "Lever eerst" in refusal(world, "gemeente_a", sent_besluit)["bericht"]

    # a gemeente delivering for another one: refused
    other = world.deliver("gemeente_a", bad, gemeente="GM0599")
    world.station.run_once()
    assert refusal(world, "gemeente_a", other)["reden"] == "gemeente-afzender"

    # corrected: accepted, mirror report sent
    clean = gen(d, tmp, "GM0363", 200, seed=1, name="clean")
    sent = world.deliver("gemeente_a", clean)
    world.station.run_once()
    report = world.report("gemeente_a", sent)
    assert report["verdict"] == "goedgekeurd" and report["versie"] == 2
    assert "wijzigingen" not in report  # no earlier accepted version to compare with
    world.reply("gemeente_a", sent, Kind.SPIEGELRAPPORT)
    assert state(world, "GM0363") == ("spiegelrapport-verzonden", 2)

    # facultatief now allowed
    fac = gen(d, tmp, "GM0363", 50, dataset="facultatief", seed=1, basis=clean, name="fac1",
              errors={"geen-basisrecord": 3})
    sent_fac = world.deliver("gemeente_a", fac, dataset="facultatief")
    world.station.run_once()
    report = world.report("gemeente_a", sent_fac)
    assert report["verdict"] == "goedgekeurd"
    # the keys are linked through the pseudonymised basis: exactly the 3 unknown ones warned
    assert {(f["code"], f["count"]) for f in report["findings"]} == {("geen-basisrecord", 3)}

    # a correction after the deadline but inside the correctieperiode: replaces, with a diff
    world.clock.set(dt.datetime(2026, 10, 10, 10, tzinfo=dt.UTC))
    corrected = correction_of(clean, tmp / "correctie.csv")
    sent = world.deliver("gemeente_a", corrected)
    world.station.run_once()
    report = world.report("gemeente_a", sent)
    assert report["verdict"] == "goedgekeurd" and report["versie"] == 3
    assert report["wijzigingen"] == {
        "vorige_versie": 2, "rijen_vorige": 200, "rijen_nieuw": 198, "toegevoegd": 0,
        "verwijderd": 2, "gewijzigd": 1, "ongewijzigd": 197}
    # the page shows the changes inside its own layout (the report template renders them)
    rapport = world.reply("gemeente_a", sent, Kind.TECHNISCH_CONTROLERAPPORT)
    page = (tmp / "received" / rapport.id / "report.html").read_text("utf-8")
    main = page[page.index("<main>"):page.index("</main>")]
    assert 'id="wijzigingen"' in main and "ten opzichte van versie 2" in main
    source = accepted_data_source(world.station)
    assert source.accepted("gmsd", PERIOD, "basis")["GM0363"].height == 198

    # first delivery after the aanleverperiode: refused; an operator extension lets it in
    b_file = gen(d, tmp, "GM0599", 120, seed=5, name="b")
    late = world.deliver("gemeente_b", b_file)
    world.station.run_once()
    assert refusal(world, "gemeente_b", late)["reden"] == "aanleverperiode-gesloten"
    grant_extension(world.station.engine, world.clock, "gmsd", PERIOD, "GM0599",
                    dt.date(2026, 10, 12))
    sent_b = world.deliver("gemeente_b", b_file)
    world.station.run_once()
    assert world.report("gemeente_b", sent_b)["verdict"] == "goedgekeurd"

    # besluit: withdrawal leaves the data out of every aggregate; opt-in restores it
    withdraw = world.besluit("gemeente_a", "intrekken", toelichting="zie BSN 123456782")
    world.station.run_once()
    confirmation = world.reply("gemeente_a", withdraw, Kind.BEVESTIGING).metadata
    assert confirmation["besluit"] == "intrekken"
    assert set(confirmation["datasets"]) == {"basis", "facultatief"}
    assert state(world, "GM0363") == ("ingetrokken", 3)
    assert set(source.accepted("gmsd", PERIOD, "basis")) == {"GM0599"}
    opt_in = world.besluit("gemeente_a", "opt-in")
    world.station.run_once()
    world.reply("gemeente_a", opt_in, Kind.BEVESTIGING)
    assert set(source.accepted("gmsd", PERIOD, "basis")) == {"GM0363", "GM0599"}
    assert state(world, "GM0363") == ("opt-in", 3)

    # after the besluit deadline: refused, nothing changes
    world.clock.set(dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC))
    too_late = world.besluit("gemeente_a", "intrekken")
    world.station.run_once()
    assert refusal(world, "gemeente_a", too_late)["reden"] == "besluitperiode-gesloten"
    assert state(world, "GM0363") == ("opt-in", 3)

    with world.station.engine.connect() as conn:
        versions = conn.execute(sa.select(t.deliveries.c.version).where(
            t.deliveries.c.gemeente == "GM0363", t.deliveries.c.dataset == "basis").order_by(
                t.deliveries.c.version)).scalars().all()
        audit = conn.execute(sa.select(t.audit.c.event, t.audit.c.detail)).all()
    assert versions == [1, 2, 3]  # history kept
    totals = world.station.status(PERIOD, STATISTIC).totals
    assert (totals["goedgekeurd"], totals["opt-in"], totals["te laat"]) == (3, 2, 340)
    assert world.station.purge() == 3  # the 3 files of 1 Sep; those of 10 Oct stay
    events = [e for e, _ in audit]
    for expected in ("aanlevering", "afgekeurd", "goedgekeurd", "spiegelrapport", "geweigerd",
                     "uitstel", "besluit-intrekken", "besluit-opt-in"):
        assert expected in events, expected
    assert not any("123456782" in (detail or "") for _, detail in audit)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_malformed_messages_are_refused_and_pings_answered(world: StationWorld) -> None:
    clean = gen(world.definition, world.tmp, "GM0363", 20, seed=4)
    cbs = world.hub.oin["cbs"]
    client = world.gemeente["gemeente_a"]
    aanlevering = message_type(STATISTIC, Kind.AANLEVERING)
    no_period = client.send(cbs, aanlevering, {"statistic": STATISTIC, "dataset": "basis",
                                               "gemeente": "GM0363"}, [clean])
    wrong_dataset = world.deliver("gemeente_a", clean, dataset="kosten")
    wrong_period = world.deliver("gemeente_a", clean, period="2031-H1")
    two_files = client.send(cbs, aanlevering, {
        "statistic": STATISTIC, "period": PERIOD, "dataset": "basis", "gemeente": "GM0363"},
        [clean, clean.with_name(clean.stem + "-antwoorden.json")])
    unknown = client.send(cbs, f"{STATISTIC}.iets-anders", {})
    wrong_besluit = world.besluit("gemeente_a", "misschien")
    ping = client.ping(cbs)
    assert world.station.run_once() == 7
    expected = [(no_period, "metadata-onvolledig"), (wrong_dataset, "onbekende-dataset"),
                (wrong_period, "onbekende-periode"), (two_files, "bijlage"),
                (unknown, "onbekend-berichttype"), (wrong_besluit, "onbekend-besluit")]
    for sent, code in expected:
        metadata = refusal(world, "gemeente_a", sent)
        assert metadata["reden"] == code and metadata["bericht"], metadata
        assert world.cbs.message(sent.id).state == "acknowledged"
    assert [m.type for m in world.replies("gemeente_a", ping)] == [PONG]
    with world.station.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.deliveries)).scalar() == 0

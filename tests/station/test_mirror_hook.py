"""The station's default mirror hook over ggk.mirror: after an accepted basis the gemeente gets a
`gmsd.spiegelrapport`; withdrawn data is not in the source the mirror sees."""

from __future__ import annotations

import pytest

from ggk.conversation import Kind
from ggk.station import accepted_data_source
from ggk.station.mirror_hook import write_mirror_files
from tests.station.conftest import PERIOD, StationWorld, gen


def test_write_mirror_files_accepts_the_shapes_of_a_report(tmp_path) -> None:  # noqa: ANN001
    class Report:
        def write(self, directory):  # noqa: ANN001, ANN202
            (directory / "spiegelrapport.html").write_text("<html></html>")

    assert [p.name for p in write_mirror_files(Report(), tmp_path / "a")] == [
        "spiegelrapport.html"]
    files = write_mirror_files({"s.json": "{}", "s.pdf": b"%PDF"}, tmp_path / "b")
    assert sorted(p.name for p in files) == ["s.json", "s.pdf"]
    assert write_mirror_files({"indicator": 1.5}, tmp_path / "c")[0].name == "spiegelrapport.json"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_spiegelrapport_from_ggk_mirror_after_an_accepted_basis(world: StationWorld) -> None:
    d, tmp = world.definition, world.tmp
    sent_a = world.deliver("gemeente_a", gen(d, tmp, "GM0363", 400, seed=11))
    sent_b = world.deliver("gemeente_b", gen(d, tmp, "GM0599", 300, seed=12))
    world.station.run_once()
    for name, sent in (("gemeente_a", sent_a), ("gemeente_b", sent_b)):
        spiegel = world.reply(name, sent, Kind.SPIEGELRAPPORT)
        assert spiegel.attachments, spiegel
        assert spiegel.in_reply_to == sent.id
    source = accepted_data_source(world.station)
    assert set(source.accepted("gmsd", PERIOD, "basis")) == {"GM0363", "GM0599"}


def test_a_report_interrupted_mid_write_is_never_sent_half(tmp_path) -> None:  # noqa: ANN001
    from ggk.station.mirror_hook import build_into

    def crashing(definition, period, gemeente, source, directory):  # noqa: ANN001, ANN202
        (directory / "spiegelrapport.json").write_text("{}")
        raise RuntimeError("killed while writing the PDF")

    def complete(definition, period, gemeente, source, directory):  # noqa: ANN001, ANN202
        return write_mirror_files({"spiegelrapport.json": "{}", "spiegelrapport.pdf": b"%PDF"},
                                  directory)

    target = tmp_path / "replies" / "id"
    target.mkdir(parents=True)  # as the station's store makes it
    with pytest.raises(RuntimeError):
        build_into(crashing, None, "2026-H1", "GM0363", None, target)
    assert not any(target.iterdir())  # the restarted station builds it again
    assert build_into(complete, None, "2026-H1", "GM0363", None, target) == [
        "spiegelrapport.json", "spiegelrapport.pdf"]
    assert sorted(p.name for p in target.iterdir()) == ["spiegelrapport.json", "spiegelrapport.pdf"]
    assert not (tmp_path / "replies" / "id.partial").exists()

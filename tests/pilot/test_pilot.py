"""`ggk pilot` end to end in a temporary data dir (small files)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from ggk.pilot.play import PILOT_GEMEENTEN, WITHDRAWS, Pilot, run_pilot


def test_pilot_plays_the_period(tmp_path: Path) -> None:
    data_dir = tmp_path / "pilot-data"
    (data_dir / "oud").mkdir(parents=True)  # left over from an earlier run: must be wiped
    console = Console(record=True, width=120)
    result = run_pilot(data_dir, seed=5, max_rows=1500, console=console)
    output = console.export_text()

    assert result.ok, (result.problems, output[-3000:])
    expected = {code: "opt-in" for code in PILOT_GEMEENTEN} | {WITHDRAWS: "ingetrokken"}
    assert result.states == expected
    assert sorted(result.states.values()).count("opt-in") == 3
    assert not (data_dir / "oud").exists()
    for sub in ("pki/ca/ca.pem", "pki/hub.pem", "pki/cbs.pem", "hub/hub.sqlite3",
                "station/station.sqlite3", "logs/pilot.log", "pilot-samenvatting.json"):
        assert (data_dir / sub).is_file(), sub
    for code in PILOT_GEMEENTEN:
        assert (data_dir / "pki" / f"{code}.pem").is_file()
        rapporten = data_dir / "gemeenten" / code / "rapporten"
        assert list(rapporten.glob("2026-H1/basis/technisch-controlerapport-*/report.json")), code
        assert list(rapporten.glob("2026-H1/besluit/bevestiging-*/bericht.json")), code
    verdicts = sorted(
        json.loads(p.read_text("utf-8"))["verdict"]
        for p in (data_dir / "gemeenten").glob(
            "*/rapporten/2026-H1/*/technisch-controlerapport-*/report.json"))
    assert verdicts == ["afgekeurd"] + ["goedgekeurd"] * 5  # 1 rejected, 4 first + 1 correction
    # the second shipped statistic, by data alone: its last period, its own dataset and reports
    assert result_other(data_dir) == {code: "opt-in" for code in PILOT_GEMEENTEN}
    for code in PILOT_GEMEENTEN:
        rapporten = data_dir / "gemeenten" / code / "rapporten" / "2026-Q4"
        assert list(rapporten.glob("verdelingsmatrix/spiegelrapport-*/spiegelrapport.json")), code
        assert list(rapporten.glob("besluit/bevestiging-*/bericht.json")), code
    assert "10. Andere statistieken" in output
    summary = json.loads((data_dir / "pilot-samenvatting.json").read_text("utf-8"))
    assert summary["eindtoestanden"] == result.states and summary["problemen"] == []
    assert "Pilot geslaagd" in output and "Burentest" in output
    assert "precies de fouten uit de antwoordsleutel gevonden" in output
    # the evaluation for VWS closes the demo: its figures are those of the play above
    evaluatie = data_dir / "evaluatie" / "evaluatie-gmsd-2026-H1"
    figures = json.loads(evaluatie.with_suffix(".json").read_text("utf-8"))
    assert figures["aanleveringen"]["totaal"] == 6 and figures["aanleveringen"]["afgekeurd"] == 1
    assert figures["eerste_keer_goed"] == {"gemeenten": 4, "eerste_keer_goed": 3,
                                           "procent": 75.0}
    assert figures["besluiten"]["opt_in"] == 3 and figures["besluiten"]["ingetrokken"] == 1
    assert evaluatie.with_suffix(".pdf").is_file() and "Evaluatie (VWS)" in output
    manifest = json.loads((data_dir / "station/publicaties/gmsd/2026-H1/r1/manifest.json")
                          .read_text("utf-8"))  # the publication of step 9 (ggk.publication)
    assert len(manifest["gemeenten"]) == 3 and WITHDRAWS not in manifest["gemeenten"]
    assert manifest["aantallen"]["ingetrokken"] == 1


def result_other(data_dir: Path) -> dict[str, str]:
    summary = json.loads((data_dir / "pilot-samenvatting.json").read_text("utf-8"))
    return summary["andere_statistieken"]["iv3"]


class PilotWithBrokenBurentest(Pilot):
    """A pilot whose burentest breaks (as a missing or broken piece would)."""

    def _burentest(self) -> None:
        raise RuntimeError("kapot onderdeel")


def test_pilot_stops_clearly_when_a_piece_breaks(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    result = PilotWithBrokenBurentest(tmp_path / "pilot-data", max_rows=300,
                                      console=console).run()
    output = console.export_text()
    assert not result.ok
    assert len(result.problems) == 1, result.problems
    assert "stopte bij stap '3. Burentest" in result.problems[0]
    assert "kapot onderdeel" in result.problems[0]
    assert "Pilot met 1 probleem" in output
    assert (tmp_path / "pilot-data" / "pilot-samenvatting.json").is_file()

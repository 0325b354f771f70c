"""`ggk ketentest` against a real hub + station, and against a hub whose station is down."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ggk.cli import app
from ggk.definitions import shipped
from ggk.gemeente.ketentest import STEP_DEFECT, STEPS, Ketentest
from ggk.station import SimulatedClock
from tests.gemeente.conftest import Chain

runner = CliRunner()
GMSD = shipped().for_period("gmsd", "2026-H1")


def test_ketentest_passes_against_a_running_station(chain: Chain, tmp_path: Path) -> None:
    work = tmp_path / "work"
    result = runner.invoke(app, ["ketentest", *chain.options(), "--period", "2026-H1",
                                 "--timeout", "60", "--work-dir", str(work)],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Ketentest geslaagd" in result.output
    for name in STEPS:
        assert name in result.output
    assert "mislukt" not in result.output
    # the files and reports of every step are kept in the work dir
    assert (work / "bestanden" / "correctie.csv").is_file()
    assert list((work / "rapporten").glob("2026-H1/basis/spiegelrapport-*"))
    assert list((work / "rapporten").glob("2026-H1/besluit/bevestiging-*"))


def test_ketentest_of_the_quarterly_iv3(chain: Chain, tmp_path: Path) -> None:
    """The same five steps for another statistic, chosen on the command line: Iv3's verdelings-
    matrix with the defects its definition has, a correction without duplicate cells, its own
    spiegelrapport and the besluit. The period is the one open on the station's clock."""
    chain.clock.set(SimulatedClock.on("2026-07-10").now())
    work = tmp_path / "work"
    result = runner.invoke(app, ["ketentest", *chain.options(), "--statistic", "iv3",
                                 "--period", "2026-Q2", "--timeout", "60", "--work-dir",
                                 str(work)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Ketentest geslaagd" in result.output and "mislukt" not in result.output
    assert "codelijst" in result.output and "elfproef" not in result.output
    assert list((work / "rapporten").glob("2026-Q2/verdelingsmatrix/spiegelrapport-*"))
    assert list((work / "rapporten").glob("2026-Q2/besluit/bevestiging-*"))


def test_ketentest_library_reports_each_step(chain: Chain, tmp_path: Path) -> None:
    with chain.client("gemeente_b") as client:
        report = Ketentest(client, tmp_path, definition=GMSD, period="2026-H1", timeout=60).run()
    assert [s.name for s in report.steps] == list(STEPS)
    assert report.passed, [(s.name, s.outcome, s.detail) for s in report.steps]
    correction = report.steps[2]
    assert "toegevoegd 5" in correction.detail and "verwijderd 10" in correction.detail


def test_ketentest_fails_clearly_without_station(chain_without_station: Chain,
                                                 tmp_path: Path) -> None:
    result = runner.invoke(app, ["ketentest", *chain_without_station.options(), "--timeout", "3",
                                 "--work-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert f"ketentest mislukt bij stap: {STEP_DEFECT}" in result.output
    assert "geen technisch controlerapport binnen 3 s" in result.output
    assert "Ketentest geslaagd" not in result.output


def test_ketentest_refuses_a_non_gemeente_certificate(chain_without_station: Chain,
                                                      tmp_path: Path) -> None:
    with chain_without_station.client("cbs") as client:
        report = Ketentest(client, tmp_path, definition=GMSD, period="2026-H1", timeout=3).run()
    assert not report.passed
    first = report.steps[0]
    assert first.outcome == "mislukt" and "niet bij een gemeente" in first.detail
    assert [s.outcome for s in report.steps[1:]] == ["overgeslagen"] * 4


def test_ketentest_outside_the_stations_window_names_the_refusal(chain: Chain,
                                                                 tmp_path: Path) -> None:
    """The station's own clock decides: after the correctieperiode a first delivery is refused
    (gmsd.weigering), and the ketentest says so at step 1 instead of waiting for a report."""
    chain.clock.set(SimulatedClock.on("2026-12-01").now())
    with chain.client() as client:
        report = Ketentest(client, tmp_path, definition=GMSD, period="2026-H1", timeout=30).run()
    assert not report.passed
    first = report.steps[0]
    assert first.name == STEP_DEFECT and first.outcome == "mislukt", first
    assert "CBS weigerde de aanlevering" in first.detail
    assert [s.outcome for s in report.steps[1:]] == ["overgeslagen"] * 4

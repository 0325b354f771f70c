"""`ggk gemeente submit|status|reports|besluit` against a real hub and station on loopback."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ggk.cli import app
from ggk.conversation import FROM_CBS, Kind, kind_of
from tests.gemeente.conftest import PERIOD, Chain

runner = CliRunner()


def gen(tmp: Path, errors: dict[str, int] | None = None, seed: int = 3, rows: int = 300) -> Path:
    from ggk.definitions import shipped
    from ggk.testdata import generate

    definition = shipped().for_period("gmsd", PERIOD)
    out = tmp / "files" / f"{seed}-{bool(errors)}"
    return generate(definition, "basis", "GM0363", PERIOD, rows=rows, errors=errors,
                    seed=seed, out=out).path


def fetch_until(chain: Chain, out: Path, folder_prefix: str, count: int = 1) -> list[Path]:
    """Run `ggk gemeente reports` until `count` folders of that type exist (bounded)."""
    deadline = time.monotonic() + 60
    while True:
        result = runner.invoke(app, ["gemeente", "reports", "--out", str(out), "--wait", "2",
                                     *chain.options()])
        assert result.exit_code == 0, result.output
        found = sorted(out.glob(f"{PERIOD}/*/{folder_prefix}-*"))
        if len(found) >= count or time.monotonic() > deadline:
            return found


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_submit_reports_status_besluit(chain: Chain, tmp_path: Path) -> None:
    good = gen(tmp_path)
    result = runner.invoke(app, ["gemeente", "submit", str(good), "--period", PERIOD,
                                 "--dataset", "basis", *chain.options()])
    assert result.exit_code == 0, result.output
    assert "GOEDGEKEURD" in result.output and "Verstuurd" in result.output

    # before fetching, status lists the report that waits (with its verdict)
    deadline = time.monotonic() + 30
    while True:
        waiting = runner.invoke(app, ["gemeente", "status", "--reports", str(tmp_path / "nee"),
                                      *chain.options()])
        assert waiting.exit_code == 0, waiting.output
        if "klaar om op te halen" in waiting.output or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "technisch-controlerapport: goedgekeurd" in waiting.output
    assert "oordeel: goedgekeurd" in waiting.output and "(nog ophalen)" in waiting.output

    out = tmp_path / "rapporten"
    folders = fetch_until(chain, out, "technisch-controlerapport")
    assert len(folders) == 1
    report = json.loads((folders[0] / "report.json").read_text("utf-8"))
    assert report["verdict"] == "goedgekeurd" and report["gemeente"] == "GM0363"
    assert {p.name for p in folders[0].iterdir()} >= {"report.json", "report.html",
                                                      "findings.csv", "bericht.json"}
    # every fetched report is acknowledged: the inbox holds no report any more
    with chain.client() as client:
        assert [m for m in client.mailbox().messages
                if kind_of(m.type) in FROM_CBS and kind_of(m.type) is not Kind.SPIEGELRAPPORT] == []

    # the station acknowledges the delivery after its replies; status shows it as processed
    deadline = time.monotonic() + 30
    while True:
        result = runner.invoke(app, ["gemeente", "status", "--period", PERIOD,
                                     "--reports", str(out), *chain.options()])
        assert result.exit_code == 0, result.output
        assert "aanlevering basis" in result.output and good.name in result.output
        if "verwerkt door CBS" in result.output or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "verwerkt door CBS" in result.output
    # the verdict now comes from the saved report (fetched, so no longer "nog ophalen")
    assert "2026-H1 basis" in result.output and "oordeel: goedgekeurd (versie 1" in result.output
    assert "rapporten: technisch-controlerapport" in result.output

    result = runner.invoke(app, ["gemeente", "besluit", "opt-in", "--period", PERIOD,
                                 "--toelichting", "akkoord", *chain.options()])
    assert result.exit_code == 0, result.output
    confirmations = fetch_until(chain, out, "bevestiging")
    assert len(confirmations) == 1
    message = json.loads((confirmations[0] / "bericht.json").read_text("utf-8"))
    assert message["metadata"]["besluit"] == "opt-in"
    result = runner.invoke(app, ["gemeente", "status", "--reports", str(out), *chain.options()])
    assert result.exit_code == 0, result.output
    assert "2026-H1 besluit" in result.output and "oordeel: bevestigd: opt-in" in result.output


def test_submit_stops_on_errors_unless_forced(chain: Chain, tmp_path: Path) -> None:
    bad = gen(tmp_path, errors={"elfproef": 2})
    result = runner.invoke(app, ["gemeente", "submit", str(bad), *chain.options()])
    assert result.exit_code == 1, result.output
    assert "AFGEKEURD" in result.output and "NIET verstuurd" in result.output
    with chain.client() as client:
        assert list(client.mailbox(box="outbox").messages) == []

    result = runner.invoke(app, ["gemeente", "submit", str(bad), "--force", *chain.options()])
    assert result.exit_code == 0, result.output
    folders = fetch_until(chain, tmp_path / "r", "technisch-controlerapport")
    report = json.loads((folders[0] / "report.json").read_text("utf-8"))
    assert report["verdict"] == "afgekeurd"
    assert {(f["code"], f["column"]) for f in report["findings"]} == {("elfproef", "bsn")}


def test_usage_and_io_errors_exit_2(chain: Chain, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["gemeente", "submit", str(tmp_path / "nee.csv"),
                                  *chain.options()])
    assert missing.exit_code == 2 and "bestand niet gevonden" in missing.output

    no_cert = runner.invoke(app, ["gemeente", "status", "--hub", chain.hub.base_url,
                                  "--cert", str(tmp_path / "geen.pem"), "--ca", str(chain.hub.ca)])
    assert no_cert.exit_code == 2 and "certificaat" in no_cert.output

    wrong_choice = runner.invoke(app, ["gemeente", "besluit", "misschien", *chain.options()])
    assert wrong_choice.exit_code == 2 and "opt-in of intrekken" in wrong_choice.output

    not_a_gemeente = runner.invoke(app, ["gemeente", "status", *chain.options("cbs")])
    assert not_a_gemeente.exit_code == 2 and "niet bij een gemeente" in not_a_gemeente.output

    unreachable = runner.invoke(app, ["gemeente", "status", "--hub", "https://127.0.0.1:9",
                                      "--cert", str(chain.hub.pem["gemeente_a"]),
                                      "--ca", str(chain.hub.ca)])
    assert unreachable.exit_code == 2, unreachable.output


def test_reports_until_a_kind_of_report_has_arrived(chain: Chain, tmp_path: Path) -> None:
    """The spiegelrapport follows the technical report; `--until spiegelrapport` keeps fetching
    past the first report, and says so (exit 1) when the wanted kind does not come in time."""
    good = gen(tmp_path, seed=5)
    result = runner.invoke(app, ["gemeente", "submit", str(good), *chain.options()])
    assert result.exit_code == 0, result.output
    out = tmp_path / "rapporten"
    result = runner.invoke(app, ["gemeente", "reports", "--out", str(out), "--wait", "120",
                                 "--until", "spiegelrapport", *chain.options()])
    assert result.exit_code == 0, result.output
    assert len(list(out.glob(f"{PERIOD}/basis/technisch-controlerapport-*"))) == 1
    assert len(list(out.glob(f"{PERIOD}/basis/spiegelrapport-*"))) == 1

    nothing = runner.invoke(app, ["gemeente", "reports", "--out", str(out), "--wait", "1",
                                  "--until", "bevestiging", *chain.options()])
    assert nothing.exit_code == 1, nothing.output
    assert "Nog geen bevestiging" in nothing.output
    wrong = runner.invoke(app, ["gemeente", "reports", "--out", str(out), "--until", "rapport",
                                *chain.options()])
    assert wrong.exit_code == 2 and "spiegelrapport" in wrong.output

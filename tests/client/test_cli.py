"""The client CLI as users run it: the real `.venv/bin/ggk` in a subprocess against a real hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client.conftest import CBS_OIN, RunningHub

GGK = Path(sys.executable).parent / "ggk"


def _env(hub: RunningHub, party: Path, state: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GGK_HUB": hub.url,
        "GGK_CERT": str(party),
        "GGK_CA": str(hub.ca),
        "GGK_STATE_DIR": str(state),
        "COLUMNS": "200",
    }


def ggk(env: dict[str, str], *args: str | Path, expect: int = 0) -> str:
    result = subprocess.run(
        [str(GGK), *map(str, args)], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == expect, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_send_mailbox_fetch_ack_receipt(hub: RunningHub, tmp_path: Path) -> None:
    gemeente = _env(hub, hub.gemeente, tmp_path / "state-gemeente")
    cbs = _env(hub, hub.cbs, tmp_path / "state-cbs")
    data = tmp_path / "basis.csv"
    data.write_bytes(b"gemeentecode;x\n" + b"GM0363;1\n" * 20_000)

    sent = json.loads(
        ggk(
            gemeente,
            "send",
            "--to",
            CBS_OIN,
            "--type",
            "gmsd.aanlevering",
            "--meta",
            "period=2026-H1",
            "--meta",
            "dataset=basis",
            "--json",
            data,
        )  # fmt: skip
    )
    assert sent["state"] == "available"
    assert sent["metadata"] == {"period": "2026-H1", "dataset": "basis"}

    listing = json.loads(ggk(cbs, "mailbox", "--wait", "5", "--json"))
    assert [m["id"] for m in listing] == [sent["id"]]
    assert json.loads(ggk(cbs, "mailbox", "--json")) == []  # the cursor store remembers
    assert sent["id"] in ggk(cbs, "mailbox", "--all")  # the table, everything unacknowledged

    out = tmp_path / "ontvangen"
    fetched = ggk(cbs, "fetch", sent["id"], "--out", out)
    assert (out / "basis.csv").read_bytes() == data.read_bytes()
    assert "sha256" in fetched
    assert json.loads((out / f"{sent['id']}.message.json").read_text())["type"] == (
        "gmsd.aanlevering"
    )

    outbox = json.loads(ggk(gemeente, "mailbox", "--box", "outbox", "--json"))
    assert [m["id"] for m in outbox] == [sent["id"]]
    assert "acknowledged" in ggk(cbs, "ack", sent["id"])
    # the outbox cursor follows state changes: the acknowledged message shows up again
    outbox = json.loads(ggk(gemeente, "mailbox", "--box", "outbox", "--json"))
    assert [(m["id"], m["state"]) for m in outbox] == [(sent["id"], "acknowledged")]
    shown = ggk(gemeente, "receipt", sent["id"])
    assert "signature verified" in shown and "acknowledged" in shown
    signed = json.loads(ggk(gemeente, "receipt", sent["id"], "--json"))
    assert signed["receipt"]["message_id"] == sent["id"]


def test_cli_errors_are_clear(hub: RunningHub, tmp_path: Path) -> None:
    gemeente = _env(hub, hub.gemeente, tmp_path / "state")
    missing = tmp_path / "nope.pem"
    out = ggk({**gemeente, "GGK_CERT": str(missing)}, "mailbox", expect=1)
    assert f"party certificate not found: {missing}" in out
    out = ggk(gemeente, "ack", "7f3e0000-0000-4000-8000-000000000000", expect=1)
    assert "404" in out
    out = ggk(gemeente, "send", "--to", CBS_OIN, "--type", "t", "--meta", "novalue", "x", expect=1)
    assert "--meta expects KEY=VALUE" in out


@pytest.mark.slow
def test_burentest_cli_with_answer_pings_responder(hub: RunningHub, tmp_path: Path) -> None:
    gemeente = _env(hub, hub.gemeente, tmp_path / "state-gemeente")
    cbs = _env(hub, hub.cbs, tmp_path / "state-cbs")
    responder = subprocess.Popen(
        [str(GGK), "answer-pings", "--for", "30"],
        env=cbs,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        shown = ggk(gemeente, "burentest", "--peer", CBS_OIN, "--timeout", "20")
        assert "burentest passed: both directions work" in shown
        assert "peer -> you -> peer" in shown and "TLSv1." in shown
    finally:
        responder.terminate()
        answered = responder.communicate(timeout=20)[0]
    assert "pong" in answered and "ping back" in answered

    failed = ggk(gemeente, "burentest", "--peer", CBS_OIN, "--timeout", "2", expect=1)
    assert "FAILED" in failed
    assert "the peer did not fetch your ping within 2 s" in failed

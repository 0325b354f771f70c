"""`ggk station run` as operators start it: a real process against a real hub on loopback TLS.

A station started before its hub (or while the hub restarts) must wait for it, not exit: process
managers start services in any order.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hub.conftest import HubPki, StartHub

GGK = Path(sys.executable).with_name("ggk")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_line(log: Path, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace") if log.exists() else ""
        if text in content:
            return content
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the station's output within {timeout} s:\n{content}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_station_waits_for_a_hub_that_starts_later(
    database_url: str, hub_pki: HubPki, start_hub: StartHub, tmp_path: Path
) -> None:
    port = _free_port()
    log = tmp_path / "station.log"
    with log.open("w") as out:
        station = subprocess.Popen(
            [str(GGK), "station", "run", "--hub", f"https://127.0.0.1:{port}",
             "--cert", str(hub_pki.pem["cbs"]), "--ca", str(hub_pki.ca),
             "--data-dir", str(tmp_path / "station"), "--wait", "1"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        _wait_for_line(log, "is not reachable yet")
        assert station.poll() is None, log.read_text()
        start_hub(port=port, long_poll_interval=0.2)
        content = _wait_for_line(log, "running against")
        assert hub_pki.oin["cbs"] in content
        assert "HTTP Request" not in content  # no line per request in the operator's log
    finally:
        station.send_signal(signal.SIGTERM)
        station.wait(timeout=60)
    assert station.returncode == 0, log.read_text()


def test_station_once_fails_at_once_without_a_hub(hub_pki: HubPki, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(GGK), "station", "run", "--once", "--hub", f"https://127.0.0.1:{_free_port()}",
         "--cert", str(hub_pki.pem["cbs"]), "--ca", str(hub_pki.ca),
         "--data-dir", str(tmp_path / "station")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "is not reachable" in result.stderr

"""`ggk dashboard ...` and `ggk console ...` as an operator runs them: clear errors for a station
or hub that is not migrated, accounts with the internal role, serving over HTTPS and logging in."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ggk.pki import init_ca, issue_server_cert
from ggk.station.database import create_engine, migrate
from ggk.station.settings import StationSettings
from tests.web.conftest import csrf_of, free_port

GGK = [str(Path(sys.executable).parent / "ggk")]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*GGK, *args], capture_output=True, text=True, timeout=120)
    done.stderr = " ".join(done.stderr.split())
    return done


def test_operator_sets_up_and_serves_both(tmp_path: Path) -> None:
    station = tmp_path / "station"
    unmigrated = run("dashboard", "migrate", "--data-dir", str(tmp_path / "d"),
                     "--station-data-dir", str(station))
    assert unmigrated.returncode == 2 and "ggk station migrate" in unmigrated.stderr
    no_hub = run("console", "migrate", "--data-dir", str(tmp_path / "c"),
                 "--hub-data-dir", str(tmp_path / "hub"))
    assert no_hub.returncode == 2 and "ggk hub migrate" in no_hub.stderr
    engine = create_engine(StationSettings(data_dir=station).resolved_database_url())
    migrate(engine)
    engine.dispose()
    common = ["--data-dir", str(tmp_path / "d")]
    short = run("dashboard", "user", "add", "--email", "c@cbs.nl", "--name", "C",
                "--password", "kort", *common)
    assert short.returncode == 2 and "12 characters" in short.stderr
    added = run("dashboard", "user", "add", "--email", "c@cbs.nl", "--name", "C",
                "--password", "een-lang-wachtwoord", *common)
    assert added.returncode == 0 and "verzamelbeheer" in added.stdout
    init_ca(tmp_path / "ca")
    (tmp_path / "server.pem").write_bytes(issue_server_cert(tmp_path / "ca", ["127.0.0.1"]))
    port = free_port()
    server = subprocess.Popen([*GGK, "dashboard", "serve", *common, "--station-data-dir",
                               str(station), "--cert", str(tmp_path / "server.pem"),
                               "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        context = ssl.create_default_context(cafile=str(tmp_path / "ca" / "ca.pem"))
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=context,
                          timeout=10) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    login = http.get("/inloggen")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the dashboard did not start"
                    time.sleep(0.3)
            http.post("/inloggen", data={"csrf_token": csrf_of(login.text),
                                         "email": "c@cbs.nl",
                                         "wachtwoord": "een-lang-wachtwoord"})
            page = http.get("/")
            assert page.status_code == 200 and "Aanleveringen periode" in page.text
    finally:
        server.terminate()
        server.wait(timeout=30)

"""`ggk portal ...` as an operator runs it: migrate, connect a gemeente (checked at the hub),
add accounts (clear errors), serve over HTTPS, log in."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.hub.conftest import RunningHub
from tests.web.conftest import csrf_of, free_port

GGK = [str(Path(sys.executable).parent / "ggk")]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """`ggk portal ...`; stderr with Rich's line wrapping undone."""
    done = subprocess.run([*GGK, "portal", *args], capture_output=True, text=True, timeout=120)
    done.stderr = " ".join(done.stderr.split())
    return done


def test_operator_sets_up_and_serves_the_portal(running_hub: RunningHub, tmp_path: Path) -> None:
    common = ["--data-dir", str(tmp_path / "portal"), "--hub", running_hub.base_url,
              "--ca", str(running_hub.ca)]
    assert run("migrate", *common).returncode == 0
    added = run("gemeente", "add", "--cert", str(running_hub.pem["gemeente_a"]), *common)
    assert added.returncode == 0 and "Gemeente Amsterdam (GM0363" in added.stdout
    wrong = run("gemeente", "add", "--cert", str(running_hub.pem["cbs"]), *common)
    assert wrong.returncode == 2 and "not a gemeente" in wrong.stderr
    mismatch = run("gemeente", "add", "--cert", str(running_hub.pem["gemeente_b"]),
                   "--gemeente", "GM0363", *common)
    assert mismatch.returncode == 2 and "belongs to GM0599, not GM0363" in mismatch.stderr
    user = run("user", "add", "--email", "anna@amsterdam.nl", "--name", "Anna",
               "--medewerker", "GM0363", "--password", "een-lang-wachtwoord", *common)
    assert user.returncode == 0, user.stderr
    short = run("user", "add", "--email", "b@amsterdam.nl", "--name", "B",
                "--password", "kort", *common)
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    assert run("user", "add", "--email", "c@amsterdam.nl", "--name", "C", "--alleen-lezen",
               "gm0363", "--password", "een-lang-wachtwoord", *common).returncode == 0
    totp = run("user", "totp", "--email", "c@amsterdam.nl", *common)
    assert totp.returncode == 0 and totp.stdout.startswith("otpauth://totp/"), totp.stderr
    assert run("user", "disable", "--email", "c@amsterdam.nl", *common).returncode == 0
    unknown = run("user", "disable", "--email", "niemand@amsterdam.nl", *common)
    assert unknown.returncode == 2 and "no account niemand@amsterdam.nl" in unknown.stderr
    assert run("serve", *common).returncode == 2  # neither --cert nor --behind-proxy

    port = free_port()
    server = subprocess.Popen([*GGK, "portal", "serve", *common, "--port", str(port),
                               "--cert", str(running_hub.settings.server_cert)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        context = ssl.create_default_context(cafile=str(running_hub.ca))
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=context,
                          timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    page = client.get("/inloggen")
                    break
                except httpx.TransportError:
                    assert server.poll() is None and time.monotonic() < deadline
                    time.sleep(0.2)
            client.post("/inloggen", data={"csrf_token": csrf_of(page.text),
                                           "email": "anna@amsterdam.nl",
                                           "wachtwoord": "een-lang-wachtwoord"})
            overview = client.get("/gemeente/GM0363")
            assert overview.status_code == 200 and "Gemeente Amsterdam" in overview.text
    finally:
        server.terminate()
        server.wait(timeout=15)

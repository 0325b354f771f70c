"""The shipped nginx example in front of a hub: a real nginx terminating mutual TLS."""

from __future__ import annotations

import shutil
import socket
import ssl
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.hub.conftest import HubPki, StartHub
from tests.hub.helpers import message_body, start_nginx

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "ggk-hub.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(NGINX is None, reason="nginx not installed (make system-deps)")
def test_nginx_example_passes_the_client_certificate(start_hub: StartHub, hub_pki: HubPki,
                                                     tmp_path: Path
                                                     ) -> None:
    from ggk.pki import fingerprint

    # the proxy's own certificate is pinned at the hub (a CA-issued certificate of no party)
    hub = start_hub(trust_proxy_header="X-SSL-Client-Cert", trusted_proxies=("127.0.0.1",),
                    trusted_proxy_fingerprints=(fingerprint(hub_pki.pem["stranger"]),))
    hub_port = urlsplit(hub.base_url).port
    port = _free_port()
    server = str(hub.settings.server_cert)
    config = (EXAMPLE.read_text()
              .replace("127.0.0.1:8443", f"127.0.0.1:{hub_port}")
              .replace("listen 443 ssl", f"listen 127.0.0.1:{port} ssl")
              .replace("/etc/ggk/hub.pem", server)
              .replace("/etc/ggk/ca.pem", str(hub.ca))
              .replace("/etc/ggk/proxy.pem", str(hub.pem["stranger"])))  # a non-party cert
    process = start_nginx(NGINX, config, tmp_path)  # type: ignore[arg-type]
    try:
        context = ssl.create_default_context(cafile=str(hub.ca))
        context.load_cert_chain(str(hub.pem["gemeente_a"]))
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=context,
                          timeout=10) as client:
            for _ in range(100):
                try:
                    me = client.get("/api/v1/me")
                    break
                except httpx.TransportError:
                    assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
                    time.sleep(0.05)
            assert me.status_code == 200, me.text
            assert me.json()["oin"] == hub.oin["gemeente_a"]
            # a header forged by the client is replaced by nginx with the real certificate
            forged = client.get("/api/v1/me", headers={"X-SSL-Client-Cert": "forged"})
            assert forged.json()["oin"] == hub.oin["gemeente_a"]
            sent = client.post("/api/v1/messages", json=message_body(hub.oin["cbs"]))
            assert sent.status_code == 201 and sent.json()["sender"] == hub.oin["gemeente_a"]
    finally:
        process.terminate()
        process.wait(timeout=10)

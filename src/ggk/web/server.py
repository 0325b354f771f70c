"""Serve a web application with uvicorn over TLS, in the foreground or in a background thread
(ggk.serving, shared with the hub)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import uvicorn

from ggk.serving import ServerThread


def uvicorn_config(app: Any, *, host: str, port: int, cert: Path | None,
                   log_level: str = "warning", behind_proxy: bool = False) -> uvicorn.Config:
    """TLS with `cert` (PEM with certificate and key); without it plain HTTP, which is only for
    a TLS-terminating proxy in front (`behind_proxy`, then X-Forwarded-For is trusted)."""
    return uvicorn.Config(
        app, host=host, port=port, ssl_certfile=str(cert) if cert else None,
        log_level=log_level, access_log=False, proxy_headers=behind_proxy,
        forwarded_allow_ips="127.0.0.1" if behind_proxy else None, timeout_keep_alive=30,
        lifespan="on",
    )


class BackgroundServer:
    """An ASGI app on a loopback (or given) port in a daemon thread; `start()` returns its URL."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0,
                 cert: Path | None = None, log_level: str = "warning") -> None:
        self.app = app
        self.host = host
        self.port = port
        self.cert = cert
        self.log_level = log_level
        self._thread = ServerThread("web")
        self.base_url: str | None = None

    def start(self, timeout: float = 20) -> str:
        port = self._thread.start(self.host, self.port, lambda bound: uvicorn_config(
            self.app, host=self.host, port=bound, cert=self.cert, log_level=self.log_level),
            timeout)
        self.base_url = f"{'https' if self.cert else 'http'}://{self.host}:{port}"
        return self.base_url

    def stop(self) -> None:
        self._thread.stop()

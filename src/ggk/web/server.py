"""Serve a web application with uvicorn over TLS, in the foreground or in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn


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
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None

    def start(self, timeout: float = 20) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        port = sock.getsockname()[1]
        config = uvicorn_config(self.app, host=self.host, port=port, cert=self.cert,
                                log_level=self.log_level)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"ggk-web-{port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start; see the log above")
            time.sleep(0.02)
        self.base_url = f"{'https' if self.cert else 'http'}://{self.host}:{port}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

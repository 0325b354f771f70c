"""Running the hub: TLS context (TLS 1.2+, client certificate required), a uvicorn protocol that
hands the peer certificate to the app, and HubServer for running it inside another process."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from pathlib import Path
from typing import Any

import uvicorn

from ggk.hub.auth import PEER_CERT_STATE_KEY, UNIX_SOCKET_STATE_KEY
from ggk.hub.protocol import HeadLimits, HeadLimitsMixin, LargeBodyMixin, buffered_reading
from ggk.hub.settings import HubSettings
from ggk.serving import ServerThread

# glibc mallopt parameters
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def keep_freed_memory() -> bool:
    """Let glibc keep freed memory for reuse instead of returning it to the kernel at once
    (`ggk hub serve` only: it owns its process). The hub receives an upload as ~256 KiB pieces
    (one `bytes` per TLS read pass, made by httptools); with glibc's defaults those were often
    handed back and faulted in and zeroed again, which on this VM costs a host fault per page.
    Measured, 1 GiB upload, 3 runs each: hub 2.0-2.1 CPU s, 553-579 MB/s with the defaults;
    1.8-1.9 CPU s, 570-636 MB/s with these. The price is bounded: at most 64 MiB of freed heap
    is kept (trim threshold), allocations of 8 MiB and more still get their own mapping.
    Returns False where there is no glibc (nothing changed)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return all(
        mallopt(parameter, value) == 1
        for parameter, value in (
            (_M_MMAP_THRESHOLD, 8 * 1024 * 1024),
            (_M_TRIM_THRESHOLD, 64 * 1024 * 1024),
            (_M_TOP_PAD, 16 * 1024 * 1024),
        )
    )


def server_ssl_context(settings: HubSettings) -> ssl.SSLContext:
    if settings.ca_file is None or settings.server_cert is None:
        raise ValueError("the hub needs --ca (party CA) and --cert (its own TLS certificate)")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(str(settings.server_cert))
    context.load_verify_locations(cafile=str(settings.ca_file))
    # TLS checks the validity period too: an expired (or not yet valid) certificate gets no
    # connection at all, not even the OpenAPI page. The app checks it again (proxy mode).
    return context


def _base_protocol() -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol (a dependency of ggk; much faster than h11) with the body
    pass-through of ggk.hub.protocol."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    return type("LargeBodyHttpToolsProtocol",
                (HeadLimitsMixin, LargeBodyMixin, HttpToolsProtocol), {})


class PeerCertificateProtocol(_base_protocol()):  # type: ignore[misc]
    """HTTP protocol that puts the TLS peer certificate (DER) in every request's scope state."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        sock = transport.get_extra_info("socket")
        unix = sock is not None and sock.family == socket.AF_UNIX
        self.app_state = {**self.app_state, PEER_CERT_STATE_KEY: der, UNIX_SOCKET_STATE_KEY: unix}


def unix_socket(path: Path) -> socket.socket:
    """A listening-ready unix socket at `path`, owner-only (0600) from its creation: whoever can
    connect to it may name any party in the proxy header. A stale socket file is replaced."""
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    return sock


def uvicorn_config(app: Any, settings: HubSettings, sock_port: int | None = None,
                   log_level: str = "warning", tls: bool = True) -> uvicorn.Config:
    """uvicorn's configuration for the hub; `tls=False` for the unix socket behind a proxy."""
    tls_options: dict[str, Any] = {
        "ssl_certfile": str(settings.server_cert),
        "ssl_context_factory": lambda _config, _default: server_ssl_context(settings),
    } if tls else {}
    return uvicorn.Config(
        app, host=settings.host, port=settings.port if sock_port is None else sock_port,
        http=buffered_reading(type("HubProtocol", (PeerCertificateProtocol,), {
            "head_limits": HeadLimits(settings.max_header_bytes, settings.max_header_count,
                                      settings.header_timeout_seconds)})),
        **tls_options, log_level=log_level, lifespan="on", timeout_keep_alive=30, access_log=False,
        proxy_headers=False,
    )


class HubServer:
    """The hub in a background thread of this process: `start()` returns the base URL."""

    def __init__(self, settings: HubSettings, log_level: str = "warning",
                 migrate: bool = False) -> None:
        """`migrate=True` brings the schema up to date first (embedded use, e.g. the pilot);
        otherwise an unmigrated database makes `start()` raise SchemaNotCurrent."""
        self.settings = settings
        self.log_level = log_level
        self.migrate = migrate
        self._thread = ServerThread("hub")
        self.base_url: str | None = None
        self.app: Any = None

    def start(self, timeout: float = 20) -> str:
        from ggk.hub.app import create_app
        from ggk.hub.context import HubContext
        from ggk.hub.database import migrate

        context = HubContext.build(self.settings)
        try:
            if self.migrate:
                migrate(context.engine)
            self.app = create_app(self.settings, context)
        except Exception:
            context.engine.dispose()
            raise
        port = self._thread.start(self.settings.host, self.settings.port, lambda bound: (
            uvicorn_config(self.app, self.settings, sock_port=bound, log_level=self.log_level)),
            timeout)
        self.base_url = f"https://{self.settings.host}:{port}"
        return self.base_url

    def stop(self) -> None:
        self._thread.stop()
        if self.app is not None:
            self.app.state.hub.engine.dispose()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

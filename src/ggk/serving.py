"""uvicorn in a background thread of this process, for the hub and the web applications (tests,
demos, the pilot): a socket bound here first (port 0: a free one), then the server on it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import uvicorn


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port), with TCP_NODELAY on the connections it accepts.

    proto IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted connections of sockets
    that say so, and without it every response waits for a delayed ACK (~40 ms)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


class ServerThread:
    """One uvicorn server in a daemon thread: `start` binds, starts and waits until it serves."""

    def __init__(self, what: str) -> None:
        self.what = what  # "hub", "web": the thread's name and the error message
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str, port: int, config: Callable[[int], uvicorn.Config],
              timeout: float = 20) -> int:
        """Serve `config(bound_port)` on (host, port); returns the bound port. RuntimeError when
        the server does not come up within `timeout` seconds (its log says why)."""
        sock = listening_socket(host, port)
        bound = sock.getsockname()[1]
        self._server = uvicorn.Server(config(bound))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"ggk-{self.what}-{bound}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.what} server did not start; see the log above")
            time.sleep(0.02)
        return bound

    def stop(self) -> None:
        """Ask the server to finish and wait (at most 10 s) for its thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

"""A loopback TCP proxy that cuts connections after N bytes: a broken line for transfer tests.

It forwards raw bytes (TLS stays end to end between client and hub) and, for the first `cuts`
connections that carry more than `cut_after` bytes in the chosen direction, closes both sides
abruptly mid-stream, as a failing network would.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
from typing import Literal

Direction = Literal["up", "down"]  # up: client -> hub (uploads), down: hub -> client


class CuttingProxy:
    def __init__(
        self, upstream_port: int, *, direction: Direction, cut_after: int, cuts: int = 1
    ) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.direction = direction
        self.cut_after = cut_after
        self.cuts_left = cuts
        self.cuts_done = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # so that the accept loop notices `_stopping`
        self.port = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def __enter__(self) -> CuttingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _should_cut(self, carried: int) -> bool:
        if carried <= self.cut_after:
            return False
        with self._lock:
            if self.cuts_left <= 0:
                return False
            self.cuts_left -= 1
            self.cuts_done += 1
            return True

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        watched_source = client if self.direction == "up" else upstream
        carried = 0
        may_cut = True
        try:
            while not self._stopping.is_set():
                readable, _, _ = select.select([client, upstream], [], [], 0.5)
                for source in readable:
                    data = source.recv(256 * 1024)
                    if not data:
                        return
                    if source is watched_source and may_cut:
                        carried += len(data)
                        if self._should_cut(carried):
                            return  # drop everything: both sides see a broken connection
                        may_cut = self.cuts_left > 0
                    (upstream if source is client else client).sendall(data)
        except OSError:
            return
        finally:
            for sock in (client, upstream):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
                sock.close()

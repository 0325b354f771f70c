"""The hub's HTTP protocol tuned for large request bodies (tus PATCH of 128 MiB chunks).

Measured with py-spy on a 1 GiB upload, the event loop thread, not the worker threads, limited the
hub: per byte received it allocated and copied four times before the handler saw the data:
uvloop's TLS layer decrypted into fresh `bytes` objects and joined them, httptools copied the body
out of that, uvicorn appended it to a bytearray and `receive()` copied that into `bytes` again.
Here:

- `BufferedReading` makes the TLS layer decrypt straight into one reused buffer (uvloop and
  asyncio take the `asyncio.BufferedProtocol` path for that; no allocation, no page faults of
  fresh memory per 256 KiB);
- `LargeBodyMixin.on_body` hands httptools' `bytes` to the request as they are (no bytearray, no
  second copy in `receive()`), which leaves one copy on the event loop thread.

Everything else (keep-alive, flow control, shutdown) is uvicorn's own protocol, unchanged.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT

READ_BUFFER = 512 * 1024  # uvloop reads at most 256 KiB of TLS records per pass; room to spare


class LargeBodyMixin:
    """For uvicorn's HttpToolsProtocol: request body pieces pass through without copying.

    uvicorn's own on_body does `cycle.body += body` on a bytearray and `receive()` then copies it
    with `bytes(cycle.body)`. When nothing is waiting, we store httptools' bytes object itself;
    `bytes()` of a bytes object is the object, so `receive()` copies nothing. Only when a piece
    arrives before the app took the previous one are they gathered in a bytearray (uvicorn's
    behaviour). Reading pauses above uvicorn's 64 KiB as before: a higher mark (1 MiB, to save
    the pause/resume per TLS read) measured worse, as pieces then pile up and get copied."""

    cycle: Any
    parser: Any
    flow: Any

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if cycle.response_complete or (
            self.parser.should_upgrade() and self._should_upgrade()  # type: ignore[attr-defined]
        ):
            return
        waiting = cycle.body
        if not waiting:
            cycle.body = body
        elif isinstance(waiting, bytearray):
            waiting += body
        else:
            cycle.body = bytearray(waiting) + body
        if len(cycle.body) > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        cycle.message_event.set()


class BufferedReading(asyncio.BufferedProtocol):
    """Wraps an HTTP protocol so that the transport (and its TLS layer) reads into a reused buffer;
    the wrapped protocol sees a memoryview of it in `data_received` (httptools parses memoryviews
    and copies what it keeps).

    One buffer per event loop thread, shared by all its connections, so that thousands of idle
    long-poll connections do not hold 512 KiB each: the transport calls `get_buffer`, fills the
    buffer and calls `buffer_updated` in one go, and `data_received` keeps nothing of it."""

    def __init__(self, inner: asyncio.Protocol) -> None:
        self.inner = inner

    def get_buffer(self, sizehint: int) -> memoryview:
        view: memoryview | None = getattr(_read_buffers, "view", None)
        if view is None:
            view = _read_buffers.view = memoryview(bytearray(READ_BUFFER))
        return view

    def buffer_updated(self, nbytes: int) -> None:
        self.inner.data_received(_read_buffers.view[:nbytes])  # type: ignore[arg-type]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


_read_buffers = threading.local()


def buffered_reading(protocol_class: type[asyncio.Protocol]) -> Callable[..., BufferedReading]:
    """A protocol factory for uvicorn's `http=` (it calls it with the protocol's keywords)."""

    def create(**kwargs: Any) -> BufferedReading:
        return BufferedReading(protocol_class(**kwargs))

    return create

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
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class HeadLimits:
    """What a request's head (request line and headers) may cost before anything is known about
    the caller: bytes, number of headers, and time from its first byte (or from the connection)
    until the last header arrived."""

    max_bytes: int = 64 * 1024
    max_count: int = 100
    timeout_seconds: float = 15.0


class _HeadRefused(Exception):
    """Raised inside an httptools callback to stop parsing a head that is over a limit."""


class HeadLimitsMixin:
    """For uvicorn's HttpToolsProtocol: refuse a request head over `head_limits` with 431 and
    close the connection; close a connection whose head does not arrive in time with 408
    (slowloris). httptools itself accepts heads of any size and uvicorn waits for them forever.
    """

    head_limits: HeadLimits = HeadLimits()
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._head_bytes = 0
        self._head_count = 0
        self._head_refusal: str | None = None
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(
            self.head_limits.timeout_seconds, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self._refuse(408, "request-timeout", "the request head did not arrive within "
                         f"{self.head_limits.timeout_seconds:g} seconds")

    def _refuse(self, status: int, code: str, detail: str) -> None:
        body = json.dumps({"type": f"https://ggk.example/problems/{code}", "status": status,
                           "code": code, "title": code.replace("-", " ").capitalize(),
                           "detail": detail}).encode()
        reason = {408: "Request Timeout", 431: "Request Header Fields Too Large"}[status]
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/problem+json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body)
        self.transport.close()

    def _count(self, size: int, headers: int) -> None:
        self._head_bytes += size
        self._head_count += headers
        limits = self.head_limits
        if self._head_bytes > limits.max_bytes:
            self._head_refusal = (f"the request line and headers exceed {limits.max_bytes} "
                                  "bytes")
        elif self._head_count > limits.max_count:
            self._head_refusal = f"more than {limits.max_count} request headers"
        else:
            return
        raise _HeadRefused(self._head_refusal)

    def on_message_begin(self) -> None:
        super().on_message_begin()  # type: ignore[misc]
        self._head_bytes = 0
        self._head_count = 0
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_limits.timeout_seconds,
                                                    self._head_timed_out)

    def on_url(self, url: bytes) -> None:
        self._count(len(url), 0)
        super().on_url(url)  # type: ignore[misc]

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4, 1)
        super().on_header(name, value)  # type: ignore[misc]

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        super().on_headers_complete()  # type: ignore[misc]

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error, which is how a refused head stops parsing."""
        if self._head_refusal is not None:
            self._cancel_head_timer()
            self._refuse(431, "request-head-too-large", self._head_refusal)
            return
        super().send_400_response(msg)  # type: ignore[misc]


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

"""Attachment upload by tus 1.0 (core + checksum): PATCH in chunks, resume from the HEAD offset.

The hub pre-creates one upload resource per declared attachment (its `upload_url`). We ask its
offset with HEAD, then PATCH chunks of at most `chunk_size` bytes. A chunk is streamed from the
file: a reader thread fills a few reused blocks while the previous ones are on the wire, so memory
stays at a few MiB whatever the chunk size, and large chunks cost no memory (only the hub's answer
per chunk, ~5-10 ms of fsync and bookkeeping, makes them worth it).

With `chunk_checksums` every chunk carries `Upload-Checksum: sha256` (tus checksum extension),
computed in a pass over the chunk before it is sent; by default it does not: TLS already
authenticates every record end to end and the hub checks the whole file's sha256 before it makes
the message available, so a per-chunk digest only costs CPU on both sides (about 40% of the hub's
upload work, measured). Turn it on where the path to the hub has a plain-HTTP hop (a
TLS-terminating proxy in front of a hub on another machine): a damaged chunk is then refused and
sent again alone.

A broken connection, a 5xx answer, an offset conflict (409) or a chunk checksum mismatch (460)
makes us wait (exponential backoff), ask the offset again and continue from there (without chunk
checksums the hub keeps what it received of a broken PATCH); after `retries` consecutive failures
without progress the upload fails with TransferFailed.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from ggk.client.interfaces import HubError, ProgressCallback, TransferFailed
from ggk.client.transport import HubTransport, relative_path

TUS_VERSION = "1.0.0"
# Measured on loopback TLS, 1 GiB: chunks of 8 MiB ~340 MB/s, 32 MiB ~480, 64 MiB ~510: each
# chunk waits for the hub's answer (fsync, offset recorded). Streaming, so memory does not grow.
DEFAULT_CHUNK_SIZE = 128 * 1024 * 1024
BLOCK_SIZE = 4 * 1024 * 1024  # one read and one TLS send
READ_AHEAD = 3  # blocks filled ahead of the one being sent

SentCallback = Callable[[int], None]
# 409 offset-mismatch / upload-complete (HEAD tells where we are), 423 upload-busy (the hub still
# finishes a PATCH whose connection broke), 460 chunk checksum mismatch, 5xx.
_RETRYABLE_STATUSES = {409, 423, 460, 500, 502, 503, 504}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 5  # consecutive failures without progress before giving up
    backoff: float = 0.5  # seconds before the first retry, doubled each time
    max_backoff: float = 10.0

    def delay(self, failures: int) -> float:
        return min(self.max_backoff, self.backoff * 2 ** (failures - 1))


def file_sha256(path: Path, block: int = 4 * 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def _retryable(error: Exception) -> bool:
    if isinstance(error, httpx.TransportError | OSError | http.client.HTTPException):
        return True
    return isinstance(error, HubError) and error.status in _RETRYABLE_STATUSES


class TusUpload:
    """Uploads one local file to one tus upload resource of the hub."""

    def __init__(
        self,
        transport: HubTransport,
        upload_url: str,
        path: Path,
        *,
        name: str,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        retry: RetryPolicy | None = None,
        progress: ProgressCallback | None = None,
        chunk_checksums: bool = False,
    ) -> None:
        self.transport = transport
        self.url = relative_path(upload_url)
        self.path = path
        self.name = name
        self.size = path.stat().st_size
        self.chunk_size = chunk_size
        self.retry = retry or RetryPolicy()
        self.progress = progress
        self.chunk_checksums = chunk_checksums
        self.failures = 0  # total failed requests (for tests and logs)
        self._connection: http.client.HTTPSConnection | None = None
        self._buffers: list[bytearray] | None = None  # reused by every chunk of this upload

    def offset(self) -> int:
        response = self.transport.request(
            "HEAD", self.url, headers={"Tus-Resumable": TUS_VERSION}, raw_transport_errors=True
        )
        return int(response.headers["Upload-Offset"])

    def _chunk_checksum(self, fd: int, offset: int, length: int, buffer: bytearray) -> str:
        """The chunk's sha256 in a pass over it, through `buffer` (free until the chunk is sent)."""
        digest = hashlib.sha256()
        with memoryview(buffer) as view:
            done = 0
            while done < length:
                got = _pread(fd, view[: min(len(view), length - done)], offset + done, self.path)
                digest.update(view[:got])
                done += got
        return base64.b64encode(digest.digest()).decode("ascii")

    def _patch(self, fd: int, offset: int, length: int) -> int:
        if self._connection is None:
            self._connection = self.transport.bulk_connection()
        headers = {
            "Tus-Resumable": TUS_VERSION,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(offset),
        }
        if self._buffers is None:
            self._buffers = [bytearray(min(BLOCK_SIZE, self.size)) for _ in range(READ_AHEAD + 1)]
        if self.chunk_checksums:
            checksum = self._chunk_checksum(fd, offset, length, self._buffers[0])
            headers["Upload-Checksum"] = f"sha256 {checksum}"
        blocks = _FileBlocks(fd, self.path, offset, length, self._buffers)
        try:
            response = self.transport.bulk_request(
                self._connection,
                "PATCH",
                self.url,
                body=blocks.stream(lambda sent: self._report(offset + sent)),
                length=length,
                headers=headers,
            )
        except BaseException:
            self._close()  # a fresh connection for the retry
            raise
        finally:
            blocks.close()
        if response.will_close:
            self._close()
        return int(response.getheader("Upload-Offset", ""))

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def run(self, until: int | None = None) -> int:
        """Upload until the hub has every byte (or the first `until` bytes: the upload stays
        open for a later run); returns the number of failed requests."""
        end = self.size if until is None else max(0, min(until, self.size))
        consecutive = 0
        offset: int | None = None
        with open(self.path, "rb") as handle:
            fd = handle.fileno()
            try:
                while True:
                    try:
                        if offset is None:
                            offset = self.offset()
                            self._report(offset)
                        if offset >= end:
                            return self.failures
                        length = min(self.chunk_size, end - offset)
                        offset = self._patch(fd, offset, length)
                        consecutive = 0
                        self._report(offset)
                    except (
                        httpx.TransportError,
                        OSError,
                        http.client.HTTPException,
                        HubError,
                    ) as error:
                        if not _retryable(error):
                            raise
                        self.failures += 1
                        consecutive += 1
                        if consecutive > self.retry.retries:
                            raise TransferFailed(
                                f"upload of {self.name!r} failed after {self.retry.retries} "
                                f"retries at byte {offset or 0} of {self.size}: {error}; run the "
                                "same send again (same message id) to resume"
                            ) from error
                        time.sleep(self.retry.delay(consecutive))
                        offset = None  # ask the hub where to continue
            finally:
                self._close()

    def _report(self, offset: int) -> None:
        if self.progress is not None:
            self.progress(self.name, offset, self.size)


def _pread(fd: int, view: memoryview, position: int, path: Path) -> int:
    got = os.preadv(fd, [view], position)
    if got == 0:
        raise TransferFailed(f"{path} became shorter while it was being sent")
    return got


class _FileBlocks:
    """One chunk of the file as a stream of blocks for http.client: a reader thread fills the
    upload's `READ_AHEAD` + 1 reused buffers in turn (preadv releases the GIL) while the sending
    thread hands each filled one to the TLS socket; a block goes back to the reader once sent."""

    def __init__(
        self, fd: int, path: Path, offset: int, length: int, buffers: list[bytearray]
    ) -> None:
        self.fd, self.path, self.offset, self.length = fd, path, offset, length
        self.free: queue.SimpleQueue[bytearray | None] = queue.SimpleQueue()
        for buffer in buffers:
            self.free.put(buffer)
        self.filled: queue.SimpleQueue[tuple[bytearray, int] | BaseException | None] = (
            queue.SimpleQueue()
        )
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._read, name="ggk-upload-reader", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        done = 0
        try:
            while done < self.length and not self.stopped.is_set():
                buffer = self.free.get()
                if buffer is None or self.stopped.is_set():
                    return
                want = min(len(buffer), self.length - done)
                with memoryview(buffer) as view:
                    got = 0
                    while got < want:
                        got += _pread(self.fd, view[got:want], self.offset + done + got, self.path)
                self.filled.put((buffer, want))
                done += want
            self.filled.put(None)
        except BaseException as error:  # noqa: BLE001 - raised in the sending thread
            self.filled.put(error)

    def stream(self, progress: SentCallback) -> Iterator[memoryview]:
        sent = 0
        while True:
            item = self.filled.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            buffer, size = item
            with memoryview(buffer)[:size] as view:
                yield view
            sent += size
            self.free.put(buffer)
            progress(sent)

    def close(self) -> None:
        """Stop the reader (also when the PATCH failed halfway) and wait for it."""
        self.stopped.set()
        self.free.put(None)
        self.thread.join()

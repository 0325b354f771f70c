"""Attachment upload by tus 1.0 (core + checksum): PATCH in chunks, resume from the HEAD offset.

The hub pre-creates one upload resource per declared attachment (its `upload_url`). We ask its
offset with HEAD, then PATCH chunks of `chunk_size` bytes. With `chunk_checksums` every chunk
carries `Upload-Checksum: sha256` (tus checksum extension); by default it does not: TLS already
authenticates every record end to end and the hub checks the whole file's sha256 before it makes the
message available, so a per-chunk digest only costs CPU on both sides (about 40% of the hub's
upload work, measured). Turn it on where the path to the hub has a plain-HTTP hop (a TLS-terminating
proxy in front of a hub on another machine): a damaged chunk is then refused and sent again alone.
A broken connection, a 5xx answer, an offset conflict (409) or a chunk checksum mismatch (460)
makes us wait (exponential backoff), ask the offset again and continue from there; after
`retries` consecutive failures without progress the upload fails with TransferFailed.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import httpx

from ggk.client.interfaces import HubError, ProgressCallback, TransferFailed
from ggk.client.transport import HubTransport, relative_path

TUS_VERSION = "1.0.0"
DEFAULT_CHUNK_SIZE = 32 * 1024 * 1024  # measured on loopback: 8 MiB ~170 MB/s, 32 MiB ~215 MB/s
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

    def offset(self) -> int:
        response = self.transport.request(
            "HEAD", self.url, headers={"Tus-Resumable": TUS_VERSION}, raw_transport_errors=True
        )
        return int(response.headers["Upload-Offset"])

    def _prepare(self, fd: int, offset: int, buffer: bytearray) -> tuple[memoryview, str | None]:
        """Read one chunk at `offset` into `buffer` and give it with its base64 sha256 when chunk
        checksums are on (runs one chunk ahead, in a thread: reading and hashing release the GIL
        while the previous chunk is on the wire). Two buffers take turns, so no chunk costs fresh
        memory."""
        view = memoryview(buffer)[: min(self.chunk_size, self.size - offset)]
        done = 0
        while done < len(view):
            got = os.preadv(fd, [view[done:]], offset + done)
            if got == 0:
                raise TransferFailed(f"{self.path} became shorter while it was being sent")
            done += got
        if not self.chunk_checksums:
            return view, None
        return view, base64.b64encode(hashlib.sha256(view).digest()).decode("ascii")

    def _patch(self, offset: int, chunk: memoryview, checksum: str | None) -> int:
        if self._connection is None:
            self._connection = self.transport.bulk_connection()
        headers = {
            "Tus-Resumable": TUS_VERSION,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(offset),
        }
        if checksum is not None:
            headers["Upload-Checksum"] = f"sha256 {checksum}"
        try:
            response = self.transport.bulk_request(
                self._connection, "PATCH", self.url, body=chunk, headers=headers
            )
        except BaseException:
            self._close()  # a fresh connection for the retry
            raise
        if response.will_close:
            self._close()
        return int(response.getheader("Upload-Offset", ""))

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def run(self) -> int:
        """Upload until the hub has every byte; returns the number of failed requests."""
        consecutive = 0
        offset: int | None = None
        ahead: tuple[int, Future[tuple[memoryview, str | None]], int] | None = None
        buffers = [bytearray(min(self.chunk_size, self.size)) for _ in range(2)]
        with open(self.path, "rb") as handle, ThreadPoolExecutor(1) as reader:
            fd = handle.fileno()
            try:
                while True:
                    try:
                        if offset is None:
                            offset = self.offset()
                            self._report(offset)
                        if offset >= self.size:
                            return self.failures
                        if ahead is not None and ahead[0] == offset:
                            (chunk, checksum), current = ahead[1].result(), ahead[2]
                        else:
                            if ahead is not None:  # not needed; its buffer must be free again
                                wait([ahead[1]])
                            current = 0
                            chunk, checksum = self._prepare(fd, offset, buffers[current])
                        following = offset + len(chunk)
                        ahead = None
                        if following < self.size:
                            other = 1 - current
                            job = reader.submit(self._prepare, fd, following, buffers[other])
                            ahead = (following, job, other)
                        offset = self._patch(offset, chunk, checksum)
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
                if ahead is not None:
                    wait([ahead[1]])

    def _report(self, offset: int) -> None:
        if self.progress is not None:
            self.progress(self.name, offset, self.size)

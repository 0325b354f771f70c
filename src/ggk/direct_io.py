"""Large sequential file transfer past the page cache (O_DIRECT), with a buffered fallback.

Why: on this project's machines (VMs) the page cache is costly memory to write into. perf on a
1 GiB upload showed the hub's writer threads mostly in the kernel copying into fresh page-cache
pages, and a fresh page costs a host fault when the guest had given it back: measured 0.25 to
2.7 CPU s per GiB written, drifting from minute to minute. A transferred file is written once and
read once (by its receiver, or by the user after a download), so the cache buys little. With
O_DIRECT the device reads from and writes to our own reused buffer. Measured, 1 GiB over loopback
TLS: hub upload 238-330 MB/s buffered (worsening run by run) against 435-443 MB/s direct; client
download 466-703 MB/s buffered against 737-754 direct.

The hub's file store (ggk.hub.storage) and the client's downloads (ggk.client.range_download)
both use it; it knows nothing about either.
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
from collections.abc import Callable, Generator, Iterable
from pathlib import Path

DIRECT_ALIGN = 4096  # covers 512- and 4096-byte logical blocks
_SYNC_FILE_RANGE_WRITE = 2


def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # not Linux
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function  # type: ignore[no-any-return]


_sync_file_range_function = _sync_file_range()


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Let the kernel start writing this range to disk now, without waiting for it (Linux
    sync_file_range(SYNC_FILE_RANGE_WRITE); nothing elsewhere). A later fsync then finds little
    left to write: measured, it took 16-40 ms per 32 MiB otherwise. Durability is still the
    fsync's."""
    if _sync_file_range_function is not None:
        _sync_file_range_function(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


def open_direct(path: Path, flags: int) -> int | None:
    """A descriptor of `path` with O_DIRECT, or None where the file system (or OS) refuses."""
    o_direct = getattr(os, "O_DIRECT", 0)
    if not o_direct:
        return None
    try:
        return os.open(path, flags | o_direct)
    except OSError:  # EINVAL: this file system does not do O_DIRECT
        return None


def _write_all(fd: int, data: memoryview, position: int) -> None:
    while data:
        done = os.pwrite(fd, data, position)
        position += done
        data = data[done:]


class DirectWriter:
    """Writes bytes given in pieces, in order, into the open file `fd` from `position` on, past
    the page cache where it can. Used from one thread at a time; `close` writes what is left.

    The pieces are gathered into one reused, page-aligned buffer (one copy, into warm memory)
    and written in aligned blocks through a second, O_DIRECT descriptor of `path`; the unaligned
    head (resuming mid-block) and the tail (the last partial block) go through `fd` and the page
    cache, which the kernel keeps coherent with direct writes. Where O_DIRECT is refused (some
    file systems, not Linux) or a write is refused for its alignment, every later byte takes the
    buffered path. Durability is the caller's: fsync `fd` before trusting the bytes."""

    def __init__(
        self, fd: int, path: Path, position: int, block: int, *, direct: bool = True
    ) -> None:
        self.fd = fd
        self.position = position  # the file position of the next byte
        self.head = (-position) % DIRECT_ALIGN  # bytes to write buffered before the alignment
        self.direct_fd: int | None = None
        self.buffer: mmap.mmap | None = None
        self.fill = 0
        if direct:
            self.direct_fd = open_direct(path, os.O_WRONLY)
        if self.direct_fd is not None:
            self.buffer = mmap.mmap(-1, block)  # page-aligned, reused for every block

    @property
    def direct(self) -> bool:
        return self.direct_fd is not None

    def write(self, parts: Iterable[bytes | bytearray | memoryview]) -> None:
        if self.direct_fd is None:
            self._buffered(parts)
            return
        for part in parts:
            view = memoryview(part)
            if self.head:
                n = min(self.head, len(view))
                _write_all(self.fd, view[:n], self.position)
                self.position += n
                self.head -= n
                view = view[n:]
            while view:
                if self.buffer is None:  # direct writes were given up on within this part
                    _write_all(self.fd, view, self.position)
                    self.position += len(view)
                    break
                n = min(len(self.buffer) - self.fill, len(view))
                self.buffer[self.fill : self.fill + n] = view[:n]
                self.fill += n
                view = view[n:]
                if self.fill == len(self.buffer):
                    self._flush_direct(self.fill)

    def _flush_direct(self, length: int) -> None:
        assert self.buffer is not None and self.direct_fd is not None
        refused = False
        with memoryview(self.buffer) as whole:
            try:
                _write_all(self.direct_fd, whole[:length], self.position)
            except OSError as error:
                if error.errno != errno.EINVAL:
                    raise
                # the device wants another alignment: this and every later byte go buffered
                _write_all(self.fd, whole[:length], self.position)
                refused = True
        if refused:
            self._stop_direct()
        self.position += length
        self.fill = 0

    def _buffered(self, parts: Iterable[bytes | bytearray | memoryview]) -> None:
        start = self.position
        for part in parts:
            _write_all(self.fd, memoryview(part), self.position)
            self.position += len(part)
        start_writeback(self.fd, start, self.position - start)

    def flush(self) -> None:
        """Write what is gathered (aligned part direct, the rest buffered), so that an fsync now
        covers every byte given so far."""
        if self.fill and self.buffer is not None:
            aligned = self.fill - self.fill % DIRECT_ALIGN
            tail = bytes(self.buffer[aligned : self.fill])
            if aligned:
                self._flush_direct(aligned)
            self.fill = 0
            _write_all(self.fd, memoryview(tail), self.position)
            self.position += len(tail)
            self.head = (-self.position) % DIRECT_ALIGN

    def close(self, *, flush: bool = True) -> None:
        """Flush (unless told not to: an error path, whose unwritten bytes are not wanted) and
        let go of the direct descriptor and the buffer, also when the flush fails."""
        try:
            if flush:
                self.flush()
        finally:
            self._stop_direct()

    def _stop_direct(self) -> None:
        if self.direct_fd is not None:
            os.close(self.direct_fd)
            self.direct_fd = None
        if self.buffer is not None:
            self.buffer.close()
            self.buffer = None


def read_blocks(
    path: Path, start: int, end: int, block: int, *, direct: bool = True
) -> Generator[bytes, None, None]:
    """Bytes start..end-1 of the file at `path`, in blocks of at most `block` bytes (a multiple
    of DIRECT_ALIGN). Read with O_DIRECT into one reused, page-aligned buffer from the aligned
    position at or before `start` (the kernel first writes back any cached dirty pages of the
    range, so bytes written through the page cache are seen); buffered where O_DIRECT is
    refused. Each block is handed out as its own `bytes` (a copy of warm memory)."""
    if block % DIRECT_ALIGN:
        raise ValueError(f"block must be a multiple of {DIRECT_ALIGN}")
    fd = open_direct(path, os.O_RDONLY) if direct else None
    if fd is None:
        with open(path, "rb") as handle:
            handle.seek(start)
            position = start
            while position < end:
                data = handle.read(min(block, end - position))
                if not data:
                    raise EOFError(f"{path} ends at byte {position}, before {end}")
                position += len(data)
                yield data
        return
    buffer = mmap.mmap(-1, block)
    try:
        with memoryview(buffer) as view:
            position = start - start % DIRECT_ALIGN  # aligned
            skip = start - position
            while position + skip < end:
                got = os.preadv(fd, [view], position)
                if got <= skip:
                    raise EOFError(f"{path} ends at byte {position + got}, before {end}")
                last = min(got, end - position)
                yield bytes(view[skip:last])
                position += got
                skip = 0
                if got < block and position < end:
                    raise EOFError(f"{path} ends at byte {position}, before {end}")
    finally:
        buffer.close()
        os.close(fd)

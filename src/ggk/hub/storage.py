"""The local file store: one file per attachment, written in place by resumable uploads.

Durability rule: a chunk is fsync'ed before the new offset is recorded in the database, and the
recorded offset is the truth: bytes beyond it (a chunk written but not recorded before a crash) are
cut off before the next write or HEAD.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import mmap
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

READ_BLOCK = 1024 * 1024
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
    sync_file_range(SYNC_FILE_RANGE_WRITE); nothing elsewhere). The fsync that must come before an
    offset is recorded then finds little left to write: measured, it took 16-40 ms per 32 MiB
    tus chunk otherwise, while the client waited for the answer. Durability is still the fsync's."""
    if _sync_file_range_function is not None:
        _sync_file_range_function(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


DIRECT_ALIGN = 4096  # covers 512- and 4096-byte logical blocks


def _write_all(fd: int, data: memoryview, position: int) -> None:
    while data:
        done = os.pwrite(fd, data, position)
        position += done
        data = data[done:]


class UploadSink:
    """Writes the bytes of one PATCH, in order, from `position` on, past the page cache where it
    can (O_DIRECT). Used from one worker thread at a time; `close` writes what is left.

    Why: on a VM the page cache is costly memory to write into: every write of a fresh page
    cost a host fault (measured 0.25 to 2.7 CPU s per GiB written, drifting with what the guest
    gave back) and the copy itself. An attachment is written once and read later by its receiver,
    so keeping it in the cache buys little. With O_DIRECT the device reads our buffer itself: the
    pieces are gathered into one reused, page-aligned buffer (one copy, always warm memory) and
    written in aligned blocks; the unaligned head (a PATCH resuming mid-block) and tail (the last
    partial block) go through the page cache as before, which the kernel keeps coherent with
    direct writes. Where O_DIRECT is refused (tmpfs, some network file systems, not Linux) every
    byte takes the buffered path. Durability is unchanged: the caller fsyncs before recording an
    offset (it still flushes the device's cache and the file's size)."""

    def __init__(
        self, fd: int, path: Path, position: int, block: int, *, direct: bool = True
    ) -> None:
        self.fd = fd
        self.position = position  # the file position of the next byte
        self.head = (-position) % DIRECT_ALIGN  # bytes to write buffered before the alignment
        self.direct_fd: int | None = None
        self.buffer: mmap.mmap | None = None
        self.fill = 0
        o_direct = getattr(os, "O_DIRECT", 0) if direct else 0
        if o_direct:
            try:
                self.direct_fd = os.open(path, os.O_WRONLY | o_direct)
            except OSError:  # EINVAL: this file system does not do O_DIRECT
                self.direct_fd = None
        if self.direct_fd is not None:
            self.buffer = mmap.mmap(-1, block)  # page-aligned, reused for every block

    @property
    def direct(self) -> bool:
        return self.direct_fd is not None

    def write(self, parts: list[bytes]) -> None:
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

    def _buffered(self, parts: list[bytes]) -> None:
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

    def close(self) -> None:
        """Flush and let go of the direct descriptor and the buffer."""
        self.flush()
        self._stop_direct()

    def _stop_direct(self) -> None:
        if self.direct_fd is not None:
            os.close(self.direct_fd)
            self.direct_fd = None
        if self.buffer is not None:
            self.buffer.close()
            self.buffer = None


class UploadBusy(Exception):
    """Another request is writing this upload right now."""


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / "attachments").mkdir(parents=True, exist_ok=True)

    def path(self, attachment_id: str) -> Path:
        if not attachment_id.isalnum():
            raise ValueError(f"bad attachment id {attachment_id!r}")
        return self.root / "attachments" / attachment_id[:2] / attachment_id

    def create(self, attachment_id: str) -> None:
        path = self.path(attachment_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)

    def open_at(self, attachment_id: str, offset: int) -> BinaryIO:
        """Open for writing at `offset`, dropping anything beyond it.

        Holds an exclusive flock (released on close), so two writers of one upload, in any hub
        process on this host, never interleave: the second gets UploadBusy.
        """
        path = self.path(attachment_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(path, "r+b" if path.exists() else "w+b")  # noqa: SIM115
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            f.close()
            raise UploadBusy(attachment_id) from e
        f.truncate(offset)
        f.seek(offset)
        return f

    def cut_to(self, attachment_id: str, recorded_offset: Callable[[], int | None]) -> None:
        """Cut the file to the recorded offset if it is longer (unrecorded bytes after a crash);
        leaves it alone while a writer holds it.

        The offset is read only once the lock is held: a writer records its new offset before it
        lets go of the file, so an offset read earlier may be stale and would cut away bytes that
        were written, fsync'ed and recorded meanwhile. None means: do not cut.
        """
        path = self.path(attachment_id)
        if not path.exists():
            return
        with open(path, "r+b") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            offset = recorded_offset()
            if offset is None or os.fstat(f.fileno()).st_size <= offset:
                return
            f.truncate(offset)
            f.flush()
            os.fsync(f.fileno())

    def sha256(self, attachment_id: str) -> str:
        digest = hashlib.sha256()
        with open(self.path(attachment_id), "rb") as f:
            while block := f.read(READ_BLOCK):
                digest.update(block)
        return digest.hexdigest()

    def size(self, attachment_id: str) -> int:
        path = self.path(attachment_id)
        return path.stat().st_size if path.exists() else 0

    def delete(self, attachment_id: str) -> None:
        self.path(attachment_id).unlink(missing_ok=True)

    def sink(self, attachment_id: str, f: BinaryIO, position: int, block: int) -> UploadSink:
        """A writer for the bytes of one PATCH into `f` (opened by `open_at`) from `position`."""
        return UploadSink(f.fileno(), self.path(attachment_id), position, block)

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.root).free

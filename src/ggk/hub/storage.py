"""The local file store: one file per attachment, written in place by resumable uploads.

Durability rule: a chunk is fsync'ed before the new offset is recorded in the database, and the
recorded offset is the truth: bytes beyond it (a chunk written but not recorded before a crash) are
cut off before the next write or HEAD.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from collections.abc import Callable, Generator
from pathlib import Path
from typing import BinaryIO

from ggk.direct_io import DirectWriter, read_blocks
from ggk.hub.interfaces import StoreUnwritable

READ_BLOCK = 1024 * 1024


class UploadBusy(Exception):
    """Another request is writing this upload right now."""


def _private_dir(path: Path) -> None:
    """Owner-only (0700), whatever the umask."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _open_private(path: Path) -> BinaryIO:
    """Open `path` for reading and writing, creating it owner-only (0600); StoreUnwritable when
    the store cannot be written."""
    try:
        _private_dir(path.parent)
        return os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+b")
    except OSError as e:
        raise StoreUnwritable(f"the hub cannot write its store ({e.strerror})") from e


class FileStore:
    """Attachments on disk: directories 0700, files 0600 (they hold personal data)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        _private_dir(self.root)
        _private_dir(self.root / "attachments")

    def check_writable(self) -> None:
        """StoreUnwritable unless a file can be created in the store now."""
        probe = self.root / "attachments" / f".probe-{os.getpid()}"
        _open_private(probe).close()
        probe.unlink(missing_ok=True)

    def path(self, attachment_id: str) -> Path:
        if not attachment_id.isalnum():
            raise ValueError(f"bad attachment id {attachment_id!r}")
        return self.root / "attachments" / attachment_id[:2] / attachment_id

    def create(self, attachment_id: str, size: int = 0) -> None:
        _open_private(self.path(attachment_id)).close()

    def open_at(self, attachment_id: str, offset: int, size: int = 0) -> BinaryIO:
        """Open for writing at `offset`, dropping anything beyond it.

        Holds an exclusive flock (released on close), so two writers of one upload, in any hub
        process on this host, never interleave: the second gets UploadBusy.
        """
        f = _open_private(self.path(attachment_id))
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

    def sync(self, handle: BinaryIO, upto: int = 0) -> None:
        """fsync the file (everything written, which covers `upto`)."""
        handle.flush()
        os.fsync(handle.fileno())

    def complete(self, attachment_id: str, size: int) -> None:
        """Nothing to do: the file is the attachment."""

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

    def sink(self, attachment_id: str, f: BinaryIO, position: int, block: int) -> DirectWriter:
        """A writer for the bytes of one PATCH into `f` (opened by `open_at`) from `position`:
        past the page cache where the file system allows (an attachment is written once and
        read later by its receiver; see ggk.direct_io for the measurements)."""
        return DirectWriter(f.fileno(), self.path(attachment_id), position, block)

    def read_range(
        self, attachment_id: str, start: int, end: int, block: int
    ) -> Generator[bytes, None, None]:
        """The bytes start..end-1 of an attachment in blocks, past the page cache where the
        file system allows."""
        return read_blocks(self.path(attachment_id), start, end, block)

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.root).free

"""The hub's file store on real files: cutting unrecorded bytes never races a writer."""

from __future__ import annotations

from pathlib import Path

from ggk.hub.storage import FileStore

UPLOAD = "a1b2c3d4e5f6"


def _store_with(tmp_path: Path, data: bytes) -> FileStore:
    store = FileStore(tmp_path)
    store.create(UPLOAD)
    store.path(UPLOAD).write_bytes(data)
    return store


def test_cut_drops_bytes_beyond_the_recorded_offset(tmp_path: Path) -> None:
    store = _store_with(tmp_path, b"x" * 1000)
    store.cut_to(UPLOAD, lambda: 400)
    assert store.size(UPLOAD) == 400
    store.cut_to(UPLOAD, lambda: None)  # e.g. the upload completed meanwhile: leave it
    assert store.size(UPLOAD) == 400


def test_cut_reads_the_offset_only_under_the_writers_lock(tmp_path: Path) -> None:
    """A HEAD that read the offset before a PATCH recorded its progress must not cut the bytes
    that PATCH wrote: while a writer holds the file nothing is read or cut, and afterwards the
    offset is read anew."""
    store = _store_with(tmp_path, b"")
    asked: list[str] = []
    recorded = 0
    writer = store.open_at(UPLOAD, 0)
    writer.write(b"y" * 400_000)
    writer.flush()
    store.cut_to(UPLOAD, lambda: asked.append("while writing") or recorded)
    assert asked == [] and store.size(UPLOAD) == 400_000
    recorded = 400_000  # the writer records its offset, then lets go of the file
    writer.close()
    store.cut_to(UPLOAD, lambda: asked.append("after") or recorded)
    assert asked == ["after"] and store.size(UPLOAD) == 400_000

"""The hub's file store on real files: cutting unrecorded bytes never races a writer; an upload's
bytes land in place whether written past the page cache or through it."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from ggk.hub.storage import FileStore, UploadSink

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


def _write_in_pieces(store: FileStore, data: bytes, start: int, direct: bool, seed: int) -> bool:
    """Write data[start:] as one PATCH would: random piece sizes (TLS reads), blocks of 64 KiB,
    a flush (checkpoint) halfway. Returns whether the direct path was still in use at the end."""
    rng = random.Random(seed)
    with store.open_at(UPLOAD, start) as f:
        sink = UploadSink(f.fileno(), store.path(UPLOAD), start, 64 * 1024, direct=direct)
        position, halfway = start, start + (len(data) - start) // 2
        flushed = False
        while position < len(data):
            parts = []
            for _ in range(rng.randint(1, 5)):
                size = rng.choice([1, 7, 4096, 5000, 65536, 100_003, 300_000])
                parts.append(data[position : position + size])
                position += len(parts[-1])
            sink.write([p for p in parts if p])
            if position >= halfway and not flushed:
                sink.flush()
                flushed = True
                assert store.size(UPLOAD) == position  # a flush leaves nothing only gathered
        used_direct = sink.direct  # still: no write was refused for its alignment
        sink.close()
    return used_direct


@pytest.mark.parametrize("direct", [True, False], ids=["o-direct", "buffered"])
@pytest.mark.parametrize("start", [0, 4096, 1_000_000])
def test_upload_sink_writes_every_byte_in_place(tmp_path: Path, direct: bool, start: int) -> None:
    """Aligned blocks go past the page cache, an unaligned head (a PATCH resuming mid-block),
    the tail and a checkpoint's remainder go buffered: the file must equal the data either way,
    and bytes before `start` (earlier PATCHes) stay as they were."""
    data = os.urandom(1_500_000)
    store = _store_with(tmp_path, data[:start])
    used_direct = _write_in_pieces(store, data, start, direct, seed=start)
    assert store.path(UPLOAD).read_bytes() == data
    if not direct:
        assert not used_direct
    elif os.uname().sysname == "Linux":  # ext4 here and in CI: the direct path must be taken
        assert used_direct, f"O_DIRECT refused on {tmp_path}"

"""ggk.direct_io on real files: every byte lands (and is read back) in place, whether it goes
past the page cache or through it."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from ggk.direct_io import DIRECT_ALIGN, DirectWriter, read_blocks

ON_LINUX = os.uname().sysname == "Linux"  # ext4 here and in CI: O_DIRECT must be taken


def _write_in_pieces(path: Path, data: bytes, start: int, direct: bool, seed: int) -> bool:
    """Write data[start:] as a PATCH arrives: random piece sizes (TLS reads), blocks of 64 KiB,
    a flush (checkpoint) halfway. Returns whether the direct path was still in use at the end."""
    rng = random.Random(seed)
    with open(path, "r+b") as f:
        writer = DirectWriter(f.fileno(), path, start, 64 * 1024, direct=direct)
        position, halfway = start, start + (len(data) - start) // 2
        flushed = False
        while position < len(data):
            parts = []
            for _ in range(rng.randint(1, 5)):
                size = rng.choice([1, 7, 4096, 5000, 65536, 100_003, 300_000])
                parts.append(data[position : position + size])
                position += len(parts[-1])
            writer.write([p for p in parts if p])
            if position >= halfway and not flushed:
                writer.flush()
                flushed = True
                assert path.stat().st_size == position  # a flush leaves nothing only gathered
        used_direct = writer.direct  # still: no write was refused for its alignment
        writer.close()
    return used_direct


@pytest.mark.parametrize("direct", [True, False], ids=["o-direct", "buffered"])
@pytest.mark.parametrize("start", [0, 4096, 1_000_000])
def test_writer_puts_every_byte_in_place(tmp_path: Path, direct: bool, start: int) -> None:
    """Aligned blocks go past the page cache; an unaligned head (resuming mid-block), the tail
    and a checkpoint's remainder go buffered: the file must equal the data either way, and the
    bytes before `start` (earlier requests) stay as they were."""
    data = os.urandom(1_500_000)
    path = tmp_path / "upload.bin"
    path.write_bytes(data[:start])
    used_direct = _write_in_pieces(path, data, start, direct, seed=start)
    assert path.read_bytes() == data
    if not direct:
        assert not used_direct
    elif ON_LINUX:
        assert used_direct, f"O_DIRECT refused on {tmp_path}"


@pytest.mark.parametrize("direct", [True, False], ids=["o-direct", "buffered"])
def test_read_blocks_gives_exactly_the_range(tmp_path: Path, direct: bool) -> None:
    """Ranges starting and ending on and off the alignment, the whole file, the last byte; the
    file's unaligned tail was just written through the page cache and must be seen."""
    size = 3 * 1024 * 1024 + 1234
    data = os.urandom(size)
    path = tmp_path / "attachment.bin"
    with open(path, "wb") as f:
        f.write(data[: size - 1234])
        f.flush()
        f.write(data[size - 1234 :])  # still dirty in the page cache
        f.flush()
        block = 256 * 1024
        for start, end in [(0, size), (1, size), (DIRECT_ALIGN, 2 * DIRECT_ALIGN), (5000, 5001),
                           (size - 1, size), (block - 3, 3 * block + 7), (123_456, size)]:
            blocks = list(read_blocks(path, start, end, block, direct=direct))
            assert b"".join(blocks) == data[start:end], (start, end)
            assert all(len(b) <= block for b in blocks)


def test_read_blocks_refuses_a_range_beyond_the_file(tmp_path: Path) -> None:
    path = tmp_path / "short.bin"
    path.write_bytes(b"x" * 10_000)
    for direct in (True, False):
        with pytest.raises(EOFError, match="ends at byte 10000"):
            list(read_blocks(path, 0, 20_000, 8192, direct=direct))


def test_writer_falls_back_when_a_direct_write_is_refused(tmp_path: Path) -> None:
    """A block that is not a multiple of the alignment makes the kernel refuse the direct write
    (EINVAL): that block and every later byte go through the page cache, nothing is lost."""
    data = os.urandom(100_000)
    path = tmp_path / "odd.bin"
    path.write_bytes(b"")
    with open(path, "r+b") as f:
        writer = DirectWriter(f.fileno(), path, 0, 5000)  # not a multiple of 4096
        assert writer.direct or not ON_LINUX
        writer.write([data[:30_000], data[30_000:]])
        assert not writer.direct  # given up after the refused write
        writer.close()
    assert path.read_bytes() == data

"""Process-level settings of `ggk hub serve`."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_keep_freed_memory_sets_the_allocator_in_a_fresh_process() -> None:
    """Run in its own interpreter: the setting is for the whole process (serve owns its own)."""
    code = (
        "from ggk.hub.server import keep_freed_memory\n"
        "assert keep_freed_memory() is True\n"
        "blocks = [bytearray(300_000) for _ in range(100)]\n"  # still allocates and frees fine
        "del blocks\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr

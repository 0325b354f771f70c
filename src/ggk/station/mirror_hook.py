"""The hook through which the station asks for a spiegelrapport (mirror report).

A MirrorHook writes the report files (json/html/pdf) into a directory and returns their paths;
the station sends every file as an attachment of one `<statistic>.spiegelrapport`. The default
hook is `ggk.mirror.build_spiegelrapport` (a part of ggk: when it cannot be imported, that is an
error).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ggk.definitions import Definition
from ggk.station.checkpoints import checkpoint

# (definition, period, gemeente, accepted data source, output directory) -> written files
MirrorHook = Callable[[Definition, str, str, Any, Path], list[Path]]


class GgkMirror:
    """The default hook: `ggk.mirror.build_spiegelrapport`. A plain picklable object, so the
    station can run it in a worker process (`StationSettings.mirror_workers`)."""

    def __call__(self, definition: Definition, period: str, gemeente: str, source: Any,
                 directory: Path) -> list[Path]:
        from ggk.mirror import build_spiegelrapport

        report = build_spiegelrapport(definition, period, gemeente, source)
        return write_mirror_files(report, directory)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GgkMirror)

    def __hash__(self) -> int:
        return hash(GgkMirror)


def default_mirror_hook() -> MirrorHook:
    """The hook the station uses unless it is given another one: ggk.mirror."""
    return GgkMirror()


def build_into(hook: MirrorHook, definition: Definition, period: str, gemeente: str,
               source: Any, directory: Path) -> list[str]:
    """Run the hook into `<directory>.partial/` and rename that to `directory` when complete, so
    a crash mid-report never leaves a half-written report that would be sent after a restart.
    Returns the file names (empty: the hook made nothing)."""
    directory = Path(directory)
    partial = directory.with_name(directory.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    files = hook(definition, period, gemeente, source, partial)
    checkpoint("mirror-built")  # in the worker process: the report is in `.partial`, not moved
    if not files:
        shutil.rmtree(partial, ignore_errors=True)
        return []
    shutil.rmtree(directory, ignore_errors=True)  # empty, or left by a crash before the rename
    os.replace(partial, directory)
    return sorted(Path(f).name for f in files)


def write_mirror_files(report: Any, directory: Path) -> list[Path]:
    """Write what the mirror package returned: an object with `write(directory)`, a mapping of
    file name -> bytes/str, or a JSON-able dict (then only spiegelrapport.json)."""
    directory.mkdir(parents=True, exist_ok=True)
    if hasattr(report, "write"):
        written = report.write(directory)
        if written:
            return [Path(p) for p in written]
        return sorted(p for p in directory.iterdir() if p.is_file())
    if isinstance(report, dict) and report and all(
            isinstance(v, bytes | str) and "." in k for k, v in report.items()):
        paths = []
        for name, content in report.items():
            path = directory / Path(name).name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, "utf-8")
            paths.append(path)
        return paths
    path = directory / "spiegelrapport.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
    return [path]

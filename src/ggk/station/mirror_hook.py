"""The hook through which the station asks for a spiegelrapport (mirror report).

A MirrorHook writes the report files (json/html/pdf) into a directory and returns their paths;
the station sends every file as an attachment of one `gmsd.spiegelrapport`. The default hook uses
`ggk.mirror.build_spiegelrapport` when that package provides it, and is None otherwise (then no
mirror report is sent and the workflow stays in `goedgekeurd`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ggk.definitions import Definition

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


def default_mirror_hook() -> MirrorHook | None:
    try:
        from ggk.mirror import build_spiegelrapport  # type: ignore[attr-defined]  # noqa: F401
    except ImportError:
        return None
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
    if not files:
        shutil.rmtree(partial, ignore_errors=True)
        return []
    shutil.rmtree(directory, ignore_errors=True)  # empty, or left by a crash before the rename
    os.replace(partial, directory)
    return sorted(Path(f).name for f in files)


def worker_init(nice: int) -> None:
    """In a mirror worker process: lower its priority, so technical reports (the station's own
    process) go first on a busy machine, and load the heavy modules before the first report.
    Ctrl-C in a terminal reaches the whole process group: the station stops its workers itself."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice:
        try:
            os.nice(nice)
        except OSError:  # not allowed here: run at normal priority
            pass
    import importlib

    for module in ("ggk.mirror.report", "ggk.mirror.render", "vl_convert", "weasyprint"):
        try:
            importlib.import_module(module)
        except ImportError:  # the hook itself reports what is missing
            pass


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

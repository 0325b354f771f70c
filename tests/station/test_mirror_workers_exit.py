"""Killing the station (SIGKILL) never leaves its mirror worker processes running (issue 10
finding 9): they end with their parent. A real process starts the station's worker pool, the
test kills it and watches the workers go."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STATION_WITH_WORKERS = """
import os, time

from ggk.station.mirror_jobs import start_worker_pool


def pid_after(seconds):
    time.sleep(seconds)
    return os.getpid()


if __name__ == "__main__":
    pool = start_worker_pool(2, 0)
    # two overlapping tasks, so both workers run one; each answers with its pid
    pids = {f.result() for f in [pool.submit(pid_after, 2.0) for _ in range(2)]}
    print(" ".join(str(p) for p in sorted(pids)), flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (a dead child nobody reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _wait_until_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [p for p in pids if _alive(p)]
        if not alive:
            return []
        time.sleep(0.2)
    return [p for p in pids if _alive(p)]


def test_mirror_workers_exit_when_the_station_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "station_with_workers.py"
    script.write_text(STATION_WITH_WORKERS, "utf-8")
    workers: list[int] = []
    station = subprocess.Popen([sys.executable, str(script)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = station.stdout.readline() if station.stdout else ""
        workers = [int(p) for p in line.split()]
        assert len(workers) == 2, (line, station.stderr.read() if station.poll() is not None
                                   else "")
        assert all(_alive(p) for p in workers)
        os.kill(station.pid, signal.SIGKILL)
        station.wait(10)
        assert _wait_until_gone(workers, 30) == []
    finally:
        if station.poll() is None:
            station.kill()
            station.wait(10)
        for pid in workers:  # a failing run must not leave them either
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)

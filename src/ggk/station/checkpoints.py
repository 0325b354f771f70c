"""Test hook of the crash tests: with GGK_STATION_CHECKPOINT=<name>:<seconds> the process that
reaches that checkpoint (the station, or one of its mirror worker processes) announces itself with
its pid and sleeps there, so a test can SIGKILL it (or the hub) at a known moment.

Every `checkpoint("<name>")` call in the code is a crash point: the fault-injection suite
(tests/station/test_fault_injection.py) finds them in the source and kills at each one."""

from __future__ import annotations

import os
import time

CHECKPOINT_ENV = "GGK_STATION_CHECKPOINT"


def checkpoint(name: str) -> None:
    """Announce and sleep here when GGK_STATION_CHECKPOINT names this checkpoint."""
    spec = os.environ.get(CHECKPOINT_ENV, "")
    if spec.partition(":")[0] == name:
        seconds = float(spec.partition(":")[2] or 60)
        print(f"ggk-station-checkpoint {name} pid={os.getpid()}", flush=True)
        time.sleep(seconds)

"""Test hook of the crash tests: with GGK_STATION_CHECKPOINT=<name>:<seconds> the station announces
itself at that checkpoint and sleeps there, so a test can SIGKILL it at a known moment."""

from __future__ import annotations

import os
import time

CHECKPOINT_ENV = "GGK_STATION_CHECKPOINT"


def checkpoint(name: str) -> None:
    """Announce and sleep here when GGK_STATION_CHECKPOINT names this checkpoint."""
    spec = os.environ.get(CHECKPOINT_ENV, "")
    if spec.partition(":")[0] == name:
        seconds = float(spec.partition(":")[2] or 60)
        print(f"ggk-station-checkpoint {name}", flush=True)
        time.sleep(seconds)

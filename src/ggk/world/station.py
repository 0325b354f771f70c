"""A CBS station of a world, running in a thread (`Station.run_forever`) on a given clock."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ggk.client import HubClient
from ggk.clock import Clock
from ggk.station import Station, StationSettings


@dataclass
class RunningStation:
    station: Station
    client: HubClient
    thread: threading.Thread
    stop_event: threading.Event

    def stop(self, timeout: float = 30) -> None:
        """Stop the loop, wait for the thread, close the station and its hub client."""
        self.stop_event.set()
        self.thread.join(timeout)
        self.close()

    def close(self) -> None:
        """Close the station and its hub client (after the loop has stopped)."""
        self.station.close()
        self.client.close()

    def __enter__(self) -> RunningStation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_station(base_url: str, cert: Path, ca: Path, clock: Clock, settings: StationSettings,
                *, stop: threading.Event | None = None, **station_options: Any) -> RunningStation:
    """Start a station with the CBS certificate `cert` in a daemon thread (ended by `stop`, or
    by `RunningStation.stop()`); `station_options` go to `Station(...)` (registry, mirror,
    events)."""
    client = HubClient(base_url, cert=cert, ca=ca)
    station = Station(settings, client, clock, **station_options)
    stop = stop or threading.Event()
    thread = threading.Thread(target=station.run_forever, args=(stop,), name="ggk-station",
                              daemon=True)
    thread.start()
    return RunningStation(station, client, thread, stop)

"""ggk.station: the CBS side. Takes deliveries from the hub, validates, versions, runs the workflow
per (statistic, period, gemeente, dataset) and sends the reports back (docs/station.md).

Embedding (the pilot):
    from ggk.station import Station, StationSettings, SimulatedClock
    station = Station(StationSettings(data_dir=Path("pilot-data/station")), hub_client, clock)
    station.run_once()            # or station.run_forever(stop_event) in a thread
"""

from __future__ import annotations

from ggk.lazy_exports import lazy_exports

_EXPORTS = {
    "Clock": "ggk.clock",
    "Event": "ggk.station.workflow",
    "Record": "ggk.station.workflow",
    "Refused": "ggk.station.workflow",
    "SimulatedClock": "ggk.clock",
    "State": "ggk.station.workflow",
    "Station": "ggk.station.service",
    "StationAcceptedData": "ggk.station.accepted",
    "StationSettings": "ggk.station.settings",
    "SystemClock": "ggk.clock",
    "accepted_data_source": "ggk.station.accepted",
    "open_accepted_data": "ggk.station.accepted",
    "grant_extension": "ggk.station.service",
    "ReplyIds": "ggk.station.outcomes",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports("ggk.station", _EXPORTS)

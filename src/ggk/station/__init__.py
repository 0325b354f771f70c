"""ggk.station: the CBS side. Takes deliveries from the hub, validates, versions, runs the workflow
per (statistic, period, gemeente, dataset) and sends the reports back (docs/station.md).

Embedding (the pilot):
    from ggk.station import Station, StationSettings, SimulatedClock
    station = Station(StationSettings(data_dir=Path("pilot-data/station")), hub_client, clock)
    station.run_once()            # or station.run_forever(stop_event) in a thread
"""

from ggk.station.accepted import StationAcceptedData
from ggk.station.clock import Clock, SimulatedClock, SystemClock
from ggk.station.service import Station, accepted_data_source, grant_extension, reply_id
from ggk.station.settings import StationSettings
from ggk.station.workflow import Event, Record, Refused, State

__all__ = [
    "Clock",
    "Event",
    "Record",
    "Refused",
    "SimulatedClock",
    "State",
    "Station",
    "StationAcceptedData",
    "StationSettings",
    "SystemClock",
    "accepted_data_source",
    "grant_extension",
    "reply_id",
]

"""Free space of a store's file system as Prometheus gauges, for the hub and the station alike
(alerts GgkHubDiskFilling and GgkStationDiskFilling in deploy/prometheus/ggk-alerts.yml)."""

from __future__ import annotations

import shutil
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily


def store_space(prefix: str, what: str, store: Path) -> tuple[GaugeMetricFamily, ...]:
    """`<prefix>_free_bytes` and `<prefix>_size_bytes` of the file system holding `store` (the
    nearest existing folder: stores are created lazily); `what` names the store in the help."""
    path = Path(store)
    while not path.exists() and path != path.parent:
        path = path.parent
    usage = shutil.disk_usage(path)
    free = GaugeMetricFamily(f"{prefix}_free_bytes", f"Free bytes on the file system of {what}")
    free.add_metric([], usage.free)
    size = GaugeMetricFamily(f"{prefix}_size_bytes",
                             f"Size in bytes of the file system of {what}")
    size.add_metric([], usage.total)
    return free, size

"""The console's tests use the dashboard's chain (hub, station, both web applications)."""

from tests.dashboard.conftest import (  # noqa: F401
    browser,
    cbs,
    chain,
    chain_without_station,
    database_url,
    hub_pki,
    running_hub,
    shared_cbs,
    shared_hub,
    smtp,
    start_hub,
)

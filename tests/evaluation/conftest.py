"""The evaluation is tested after a real chain run: the station fixtures (real hub, station on
SQLite and PostgreSQL) of tests/station/conftest.py."""

from tests.hub.conftest import hub_pki, running_hub, start_hub  # noqa: F401
from tests.station.conftest import world  # noqa: F401

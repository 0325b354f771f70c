"""ggk.world: one harness that builds a whole chain on this machine: a TEST PKI, a hub on real TLS
(loopback), a CBS station in a thread and municipality clients. Used by the pilot, the tests and
the benchmarks, so there is one way to stand the chain up (docs/design.md).

    pki = build_pki(folder, [cbs_party(), gemeente_party("GM0363")])
    with start_hub(pki, database_url, store_dir) as hub:               # parties registered
        with run_station(hub.base_url, pki, clock, StationSettings(...)) as station:
            client = hub.client_for(pki, "GM0363")                      # a HubClient
"""

from __future__ import annotations

from ggk.lazy_exports import lazy_exports

_EXPORTS = {
    "Party": "ggk.world.pki",
    "WorldPki": "ggk.world.pki",
    "build_pki": "ggk.world.pki",
    "cbs_party": "ggk.world.pki",
    "gemeente_party": "ggk.world.pki",
    "operator_party": "ggk.world.pki",
    "RunningHub": "ggk.world.hub",
    "register_parties": "ggk.world.hub",
    "start_hub": "ggk.world.hub",
    "RunningStation": "ggk.world.station",
    "run_station": "ggk.world.station",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports("ggk.world", _EXPORTS)

"""ggk.publication: the opted-in figures of a period as open, standard, disclosure-safe data
(SDMX-CSV 2.0 with its SDMX-ML structure, a plain CSV, an Excel table, a JSON manifest), in
versioned, immutable releases (docs/publication.md)."""

from __future__ import annotations

from ggk.lazy_exports import lazy_exports

_EXPORTS = {
    "ConsentedDataSource": "ggk.publication.interfaces",
    "NothingToPublish": "ggk.publication.interfaces",
    "PublicationError": "ggk.publication.interfaces",
    "Release": "ggk.publication.models",
    "ReleaseExists": "ggk.publication.interfaces",
    "PublicationStep": "ggk.publication.station_step",
    "build_table": "ggk.publication.services",
    "latest_release": "ggk.publication.services",
    "publish": "ggk.publication.services",
    "releases": "ggk.publication.services",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports("ggk.publication", _EXPORTS)

"""The spiegelrapport (mirror report): indicators as data, peers, plausibility flags, disclosure."""

from __future__ import annotations

from ggk.lazy_exports import lazy_exports

_EXPORTS = {
    "AcceptedDataSource": "ggk.mirror.interfaces",
    "CsvFolderSource": "ggk.mirror.sources",
    "InMemorySource": "ggk.mirror.sources",
    "Indicator": "ggk.mirror.interfaces",
    "IndicatorError": "ggk.mirror.interfaces",
    "IndicatorSet": "ggk.mirror.interfaces",
    "MirrorError": "ggk.mirror.interfaces",
    "MirrorReport": "ggk.mirror.report",
    "PeerRule": "ggk.mirror.interfaces",
    "Reference": "ggk.mirror.reference",
    "build_spiegelrapport": "ggk.mirror.report",
    "load_indicators": "ggk.mirror.indicators",
    "load_reference": "ggk.mirror.reference",
    "period_values": "ggk.mirror.report",
    "RenderedReport": "ggk.mirror.render",
    "render_pdf": "ggk.mirror.render",
    "vegalite_svg": "ggk.mirror.render",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports("ggk.mirror", _EXPORTS)

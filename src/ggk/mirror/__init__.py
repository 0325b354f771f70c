"""The spiegelrapport (mirror report): indicators as data, peers, plausibility flags, disclosure."""

from ggk.mirror.indicators import load_indicators
from ggk.mirror.interfaces import (
    AcceptedDataSource,
    Indicator,
    IndicatorError,
    IndicatorSet,
    MirrorError,
    PeerRule,
)
from ggk.mirror.reference import Reference, load_reference
from ggk.mirror.report import MirrorReport, build_spiegelrapport
from ggk.mirror.sources import CsvFolderSource, InMemorySource

__all__ = [
    "AcceptedDataSource",
    "CsvFolderSource",
    "InMemorySource",
    "Indicator",
    "IndicatorError",
    "IndicatorSet",
    "MirrorError",
    "MirrorReport",
    "PeerRule",
    "Reference",
    "build_spiegelrapport",
    "load_indicators",
    "load_reference",
]

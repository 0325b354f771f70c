"""Reference data about Dutch municipalities, shipped with its provenance (data/PROVENANCE.md)."""

from ggk.refdata.interfaces import Gemeente, GemeenteRegister, SizeClass, UnknownGemeente
from ggk.refdata.register import REFERENCE_YEAR, register, size_class_for

__all__ = [
    "REFERENCE_YEAR",
    "Gemeente",
    "GemeenteRegister",
    "SizeClass",
    "UnknownGemeente",
    "register",
    "size_class_for",
]

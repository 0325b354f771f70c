"""ggk: standardised delivery of municipal statistics to CBS through one data hub."""

__version__ = "0.1.0"

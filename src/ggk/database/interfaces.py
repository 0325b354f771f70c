"""The contract of ggk.database: its one exception."""

from __future__ import annotations


class SchemaNotCurrent(RuntimeError):
    """A package's tables are not migrated to this ggk's head revision; the message names the
    command to run."""

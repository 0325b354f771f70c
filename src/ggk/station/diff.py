"""What a correction changed against the previous accepted delivery: rows added, removed, changed.

Rows are matched on the dataset's primary key (with the pseudonymised bsn); a dataset without a
primary key is compared on all its fields (so a change shows as one removed and one added row).
Duplicate keys are numbered in file order so that every row is matched at most once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import polars as pl

ROW_NUMBER = "__ggk_n"


@dataclass(frozen=True, slots=True)
class Changes:
    previous_version: int
    rows_before: int
    rows_after: int
    added: int
    removed: int
    changed: int
    unchanged: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def dutch(self) -> dict[str, int]:
        """The shape in the report (Dutch keys)."""
        return {
            "vorige_versie": self.previous_version, "rijen_vorige": self.rows_before,
            "rijen_nieuw": self.rows_after, "toegevoegd": self.added, "verwijderd": self.removed,
            "gewijzigd": self.changed, "ongewijzigd": self.unchanged,
        }


def compare(previous: pl.DataFrame, current: pl.DataFrame, key: tuple[str, ...],
            previous_version: int) -> Changes:
    columns = [c for c in current.columns if c in previous.columns]
    key_columns = list(key) if key else columns
    others = [c for c in columns if c not in key_columns]

    def numbered(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(columns).with_columns(
            pl.int_range(pl.len()).over(key_columns).alias(ROW_NUMBER))

    before, after = numbered(previous), numbered(current)
    join_on = [*key_columns, ROW_NUMBER]
    matched = before.join(after, on=join_on, how="inner", suffix="__new", nulls_equal=True)
    if others:
        differs = pl.any_horizontal([
            pl.col(c).ne_missing(pl.col(f"{c}__new")) for c in others])
        changed = matched.filter(differs).height
    else:
        changed = 0
    return Changes(
        previous_version=previous_version, rows_before=before.height, rows_after=after.height,
        added=after.height - matched.height, removed=before.height - matched.height,
        changed=changed, unchanged=matched.height - changed,
    )

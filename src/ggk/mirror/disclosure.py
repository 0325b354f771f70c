"""Disclosure control (statistische geheimhouding): the ONE place that decides what may be shown.

Rules (docs/mirror.md):
- no figure of another single municipality: other municipalities only appear inside peer or
  national statistics, and those are made over at least MIN_GROUP municipalities;
- counts are rounded to multiples of ROUND_TO; counts below MIN_COUNT are suppressed (SUPPRESSED);
- a ratio (rate, share, mean) whose numerator count (`teller`) is below MIN_COUNT is suppressed too;
- a change against the previous period is only shown when both values are shown;
- in a table with totals (a publication), secondary suppression (`protect_table`) so that no
  suppressed count can be derived from the shown ones (docs/publication.md).
Every output format renders the disclosure-controlled JSON, never the raw values.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

MIN_COUNT = 10
ROUND_TO = 5
MIN_GROUP = 5
SUPPRESSED = "."

Shown = float | int | str  # a number, or SUPPRESSED


def rounded_count(value: float) -> int | str:
    """A count as it may be shown: below MIN_COUNT suppressed, otherwise rounded to ROUND_TO."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value < MIN_COUNT:
        return SUPPRESSED
    return int(ROUND_TO * math.floor(value / ROUND_TO + 0.5))


def own_value(
    value: float | None, teller: int | None, telling: bool, decimalen: int
) -> Shown | None:
    """One municipality's own indicator value: None when not available, SUPPRESSED when its count
    is below MIN_COUNT, a rounded count for counts, a rounded ratio otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if teller is None or teller < MIN_COUNT:
        return SUPPRESSED
    if telling:
        return rounded_count(value)
    return round(float(value), decimalen)


def group_value(value: float, telling: bool, decimalen: int) -> Shown:
    """A statistic over a group of at least MIN_GROUP municipalities (median, percentile, total)."""
    if telling:
        return rounded_count(value)
    return round(float(value), decimalen)


def group_statistics(
    values: Sequence[float], telling: bool, decimalen: int
) -> dict[str, Shown] | None:
    """Median and P10-P90 over a group; None when fewer than MIN_GROUP municipalities."""
    clean = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if len(clean) < MIN_GROUP:
        return None
    arr = np.asarray(clean)
    return {
        "mediaan": group_value(float(np.median(arr)), telling, decimalen),
        "p10": group_value(float(np.percentile(arr, 10)), telling, decimalen),
        "p90": group_value(float(np.percentile(arr, 90)), telling, decimalen),
        "aantal_gemeenten": len(clean),
    }


def change(
    own: Shown | None, previous: Shown | None, raw_own: float | None, raw_previous: float | None
) -> int | None:
    """Relative change in whole percent, only when both values are shown and the previous is > 0."""
    if not isinstance(own, int | float) or not isinstance(previous, int | float):
        return None
    if raw_own is None or raw_previous is None or raw_previous == 0:
        return None
    return round(100 * (raw_own - raw_previous) / raw_previous)


def shown_number(value: Shown | None) -> float | None:
    """A shown value as a number for charts; None when suppressed or absent."""
    return float(value) if isinstance(value, int | float) else None


def format_nl(value: Shown | None, decimalen: int) -> str:
    """Dutch number formatting (1.234,5); SUPPRESSED stays '.', absent becomes '-'."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    text = f"{value:,.{decimalen}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


# -- tables with totals: secondary suppression (publication; any table a reader can add up) -----
#
# A published table also has relations between its cells: the national figure is the sum of the
# municipalities, the clients of all publication groups cover the clients in total. Suppressing a
# small cell (primary) is not enough when such a relation gives it back ("national minus the
# published municipalities"). `protect_table` adds secondary suppressions until, for every
# primary cell, a reader who knows every SHOWN count exactly (the worst case: rounding ignored,
# counts recovered from rates and inhabitants) and all relations can conclude nothing more than
# "below MIN_COUNT": the smallest and largest value consistent with everything shown, found by
# linear programming (`feasible_range`), are still 0 and MIN_COUNT - 1.

PRIMARY = "primair"  # the cell's own count is below MIN_COUNT
SECONDARY = "secundair"  # suppressed so that a primary cell cannot be derived

RelationKind = Literal["som", "dekkend", "deel"]


@dataclass(frozen=True, slots=True)
class Relation:
    """A relation between the counts (`teller`) of cells that a reader may know and use.

    `som`: total == sum of parts (the national figure over municipalities, the same count twice);
    `dekkend`: every part <= total <= sum of parts (parts cover the total; one unit, e.g. a
    client, may be in several parts); `deel`: every part <= total."""

    total: Hashable
    parts: tuple[Hashable, ...]
    kind: RelationKind = "som"


def holds(relation: Relation, tellers: Mapping[Hashable, int]) -> bool:
    """Whether the relation is true of these counts (a false one would make the audit wrong)."""
    total = tellers[relation.total]
    parts = [tellers[p] for p in relation.parts]
    if relation.kind == "som":
        return total == sum(parts)
    if any(p > total for p in parts):
        return False
    return relation.kind == "deel" or total <= sum(parts)


def feasible_range(
    tellers: Mapping[Hashable, int],
    suppressed: Mapping[Hashable, str],
    relations: Sequence[Relation],
    cell: Hashable,
    secondary_known: bool = True,
) -> tuple[float, float]:
    """The smallest and largest count of suppressed `cell` consistent with every shown count
    (taken as exactly known), the relations, and the rule (a primary cell is 0..MIN_COUNT-1, a
    secondary one at least MIN_COUNT; with `secondary_known=False` the reader cannot tell them
    apart, as in the published files, and a suppressed cell is anything from 0). A linear
    programme (scipy/HiGHS); counts are not forced to be whole."""
    from scipy.optimize import linprog

    variables = sorted(suppressed, key=str)
    index = {k: i for i, k in enumerate(variables)}
    eq_rows: list[list[float]] = []
    eq_rhs: list[float] = []
    ub_rows: list[list[float]] = []
    ub_rhs: list[float] = []

    def term(rows: list[list[float]], rhs: list[float], coefs: dict[Hashable, float]) -> None:
        # sum(coef * count) (== or <=) 0, shown counts moved to the right-hand side
        row = [0.0] * len(variables)
        constant = 0.0
        for key, coef in coefs.items():
            if key in index:
                row[index[key]] += coef
            else:
                constant += coef * tellers[key]
        if any(row):
            rows.append(row)
            rhs.append(-constant)

    for r in relations:
        if r.total not in index and not any(p in index for p in r.parts):
            continue
        if r.kind == "som":
            term(eq_rows, eq_rhs, {r.total: -1.0, **{p: 1.0 for p in r.parts}})
            continue
        for p in r.parts:  # part <= total
            term(ub_rows, ub_rhs, {p: 1.0, r.total: -1.0})
        if r.kind == "dekkend":  # total <= sum of parts
            coefs: dict[Hashable, float] = {p: -1.0 for p in r.parts}
            coefs[r.total] = coefs.get(r.total, 0.0) + 1.0
            term(ub_rows, ub_rhs, coefs)
    bounds = [
        (0, None) if not secondary_known
        else (0, MIN_COUNT - 1) if suppressed[k] == PRIMARY else (MIN_COUNT, None)
        for k in variables
    ]
    found = []
    for sign in (1.0, -1.0):
        objective = [0.0] * len(variables)
        objective[index[cell]] = sign
        result = linprog(
            objective,
            A_ub=ub_rows or None,
            b_ub=ub_rhs or None,
            A_eq=eq_rows or None,
            b_eq=eq_rhs or None,
            bounds=bounds,
            method="highs",
        )
        if result.status == 3:  # unbounded: no upper limit at all
            found.append(math.inf)
            continue
        if result.status != 0:
            raise ValueError(f"disclosure audit of {cell!r} failed: {result.message}")
        found.append(sign * result.fun)
    return found[0], found[1]


def is_protected(low: float, high: float, status: str) -> bool:
    """A primary cell is protected when the reader can only tell that it is below MIN_COUNT
    (0 and MIN_COUNT - 1 both still possible); a secondary one when at least MIN_COUNT values
    remain possible, so it cannot be worked out either."""
    if status == PRIMARY:
        return low <= 1e-6 and high >= MIN_COUNT - 1 - 1e-6
    return high - low >= MIN_COUNT - 1 - 1e-6


def protect_table(
    tellers: Mapping[Hashable, int], relations: Sequence[Relation]
) -> dict[Hashable, str]:
    """Which cells to suppress: {cell: PRIMARY | SECONDARY}; the others may be shown.

    Primary: teller below MIN_COUNT. Secondary, added one at a time until every suppressed cell
    is protected (`feasible_range`, `is_protected`): a shown cell that shares a relation with
    the exposed cell or with a cell suppressed in those relations; parts before totals, the
    smallest count first (so the national figure and row totals are suppressed last). Adding a
    suppression never narrows another cell's range, so each cell is audited until it holds and
    stays protected; every secondary cell is audited too, so none can be worked out.
    Raises ValueError when a relation is not true of the counts."""
    for r in relations:
        if not holds(r, tellers):
            raise ValueError(f"relation {r} does not hold for these counts")
    suppressed: dict[Hashable, str] = {
        k: PRIMARY for k in sorted(tellers, key=str) if tellers[k] < MIN_COUNT
    }
    totals = {r.total for r in relations}
    touching: dict[Hashable, list[Relation]] = {}
    for r in relations:
        for k in (r.total, *r.parts):
            touching.setdefault(k, []).append(r)
    queue = list(suppressed)
    while queue:
        cell = queue.pop(0)
        while not is_protected(*feasible_range(tellers, suppressed, relations, cell),
                               suppressed[cell]):
            near = {k for r in touching.get(cell, []) for k in (r.total, *r.parts)}
            near |= {
                k
                for other in list(near)
                if other in suppressed
                for r in touching.get(other, [])
                for k in (r.total, *r.parts)
            }
            candidates = sorted(
                (k for k in near if k not in suppressed),
                key=lambda k: (k in totals, tellers[k], str(k)),
            )
            if not candidates:  # everything around it is suppressed already: the reader
                # cannot tell primary from secondary cells, so audit it as the files show it
                low, high = feasible_range(tellers, suppressed, relations, cell, False)
                if is_protected(low, high, suppressed[cell]):
                    break
                raise ValueError(f"cell {cell!r} cannot be protected by suppressing more cells")
            suppressed[candidates[0]] = SECONDARY
            queue.append(candidates[0])
    return suppressed

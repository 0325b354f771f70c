"""Reports made with the per-process cache (typed frames and indicator values per gemeente, the
national figure per state of the data) are the reports made from scratch, through corrections,
withdrawals, restores, a first facultatief delivery and a previous period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ggk.definitions import Definition
from ggk.mirror import InMemorySource, build_spiegelrapport, synthetic
from ggk.mirror.report import clear_cache
from ggk.refdata import register
from tests.mirror.conftest import PERIOD, basis_frame, class_members, synthetic_source

NOW = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)


class Versioned:
    """A source with version tokens (as the station's snapshot): data read only on a change."""

    def __init__(self, inner: InMemorySource) -> None:
        self.inner = inner
        self.reads = 0

    def accepted(self, statistic: str, period: str, dataset: str) -> dict[str, Any]:
        self.reads += 1
        return self.inner.accepted(statistic, period, dataset)

    def versions(self, statistic: str, period: str, dataset: str) -> dict[str, str]:
        return {g: str(id(f)) for g, f in self.inner.accepted(statistic, period, dataset).items()}


class VersionedSubset(Versioned):
    """... that also hands out only the frames asked for (as the station's snapshot does)."""

    def accepted_of(self, statistic: str, period: str, dataset: str,
                    gemeenten: list[str]) -> dict[str, Any]:
        frames = self.inner.accepted(statistic, period, dataset)
        return {g: frames[g] for g in gemeenten if g in frames}


def _check(definition: Definition, source: Any, codes: list[str]) -> list[dict[str, Any]]:
    warm = [build_spiegelrapport(definition, PERIOD, c, source, now=NOW).data for c in codes]
    clear_cache()
    cold = [build_spiegelrapport(definition, PERIOD, c, source, now=NOW).data for c in codes]
    assert warm == cold
    return warm


def test_cached_reports_equal_reports_from_scratch(definition: Definition) -> None:
    codes = class_members(4)[:9]
    inner = synthetic_source(codes, facultatief=False)
    for source in (inner, Versioned(inner), VersionedSubset(inner)):
        clear_cache()
        first = _check(definition, source, codes[:3])
        # a correction of one gemeente changes its value, peers and the national figure
        basis = inner.data[("gmsd", PERIOD, "basis")][codes[1]]
        inner.put("gmsd", PERIOD, "basis", codes[1], basis.head(basis.height // 2))
        corrected = _check(definition, source, codes[:3])
        assert corrected[1]["indicators"] != first[1]["indicators"]
        assert corrected[0]["indicators"] != first[0]["indicators"]  # the national figure moved
        # a withdrawal leaves its data out of every figure; a restore brings the same back
        withdrawn = inner.data[("gmsd", PERIOD, "basis")].pop(codes[2])
        _check(definition, source, codes[:2])
        inner.put("gmsd", PERIOD, "basis", codes[2], withdrawn)
        assert _check(definition, source, codes[:3]) == corrected
        # facultatief arrives for one gemeente: its indicator appears for everyone
        reg = register()
        # (drawn with the seed of synthetic_source: it refers to the basis records above)
        kosten = synthetic.accepted(definition, reg.get(codes[0]), PERIOD, 5)["facultatief"]
        inner.put("gmsd", PERIOD, "facultatief", codes[0], kosten)
        _check(definition, source, codes[:3])
        del inner.data[("gmsd", PERIOD, "facultatief")]
        # an accepted previous period for one gemeente
        inner.put("gmsd", "2025-H2", "basis", codes[0],
                  basis_frame(codes[0], "2025-H2", 9))
        assert _check(definition, source, codes[:1])[0]["vorige_periode"]["bron"] == "aanlevering"
        del inner.data[("gmsd", "2025-H2", "basis")]


def test_unchanged_versioned_data_is_not_read_again(definition: Definition) -> None:
    codes = class_members(4)[:6]
    source = Versioned(synthetic_source(codes))
    clear_cache()
    build_spiegelrapport(definition, PERIOD, codes[0], source)
    reads = source.reads
    for code in codes[1:]:
        build_spiegelrapport(definition, PERIOD, code, source)
    assert source.reads == reads

"""Peer-group rule, fallback to the previous period's (synthetic) reference, plausibility flags."""

from __future__ import annotations

import polars as pl
import pytest

from ggk.definitions import Definition
from ggk.mirror import build_spiegelrapport, load_indicators
from ggk.mirror.peers import peer_group
from ggk.mirror.plausibility import flags_for, robust_z
from ggk.refdata import register
from tests.mirror.conftest import PERIOD, basis_frame, class_members, synthetic_source


def test_peer_group_is_own_size_class(definition: Definition) -> None:
    rule = load_indicators(definition).peer_rule
    reg = register()
    own = reg.get(class_members(4)[0])
    group = peer_group(own, reg, rule)
    assert group.grootteklassen == (4,)
    assert set(group.members) == set(class_members(4)) - {own.code}
    assert "stedelijkheid" in group.beschrijving and "niet bekend" in group.beschrijving


def test_small_size_class_widened_with_adjacent_classes(definition: Definition) -> None:
    rule = load_indicators(definition).peer_rule
    reg = register()
    group = peer_group(reg.get("GM0363"), reg, rule)  # class 8 has only 4 municipalities
    assert group.grootteklassen == (7, 8)
    assert len(group.members) >= 5 and "GM0363" not in group.members
    tiny = [g for g in reg.all() if g.grootteklasse == 1][0]  # class 1 has 5 municipalities
    assert peer_group(tiny, reg, rule).grootteklassen == (1, 2)


def test_fewer_than_five_peers_falls_back_to_synthetic_reference(definition: Definition) -> None:
    peers = class_members(4)
    source = synthetic_source(peers[:5], facultatief=False)  # own + 4 peers
    report = build_spiegelrapport(definition, PERIOD, peers[0], source)
    pg = report.data["peergroep"]
    assert pg["aantal_geleverd"] == 4
    assert (pg["vergelijking_bron"], pg["vergelijking_periode"]) == ("referentie", "2025-H2")
    assert pg["vergelijking_synthetisch"] is True
    html = report.html()
    assert "minder dan 5" in html and "SYNTHETISCH" in html
    # national figure: 5 municipalities delivered, so it is this period's
    assert report.data["landelijk"]["bron"] == "periode"


def test_five_peers_compare_with_this_period(definition: Definition) -> None:
    peers = class_members(4)
    source = synthetic_source(peers[:6], facultatief=False)
    report = build_spiegelrapport(definition, PERIOD, peers[0], source)
    pg = report.data["peergroep"]
    assert (pg["vergelijking_bron"], pg["aantal_geleverd"]) == ("periode", 5)
    assert all(i["peers"]["aantal_gemeenten"] == 5 for i in report.data["indicators"])


def test_previous_period_from_own_delivery_when_there(definition: Definition) -> None:
    code = class_members(4)[0]
    source = synthetic_source([code], facultatief=False)
    source.put("gmsd", "2025-H2", "basis", code, basis_frame(code, "2025-H2", 9))
    report = build_spiegelrapport(definition, PERIOD, code, source)
    assert report.data["vorige_periode"] == {
        "bron": "aanlevering",
        "periode": "2025-H2",
        "synthetisch": False,
    }


def test_robust_z_known_answer() -> None:
    peers = [10.0, 11.0, 12.0, 13.0, 14.0]  # median 12, MAD 1
    assert robust_z(18.0, peers) == pytest.approx(6 / 1.4826)
    assert robust_z(18.0, peers[:4]) is None  # fewer than 5 peers
    assert robust_z(18.0, [5.0] * 6) is None  # no spread


def test_flags_with_reasons(definition: Definition) -> None:
    ind = load_indicators(definition).get("clienten_per_1000")
    peers = [50.0, 52.0, 54.0, 56.0, 58.0]
    far = flags_for(ind, 90.0, 88.0, peers, 2)
    assert [f.soort for f in far] == ["afwijking-peers"] and "hoger" in far[0].reden
    changed = flags_for(ind, 54.0, 40.0, peers, 35)
    assert [f.soort for f in changed] == ["verandering"] and "35%" in changed[0].reden
    zero = flags_for(ind, 0.0, None, peers, None)
    assert "nul" in [f.soort for f in zero]
    assert flags_for(ind, 54.0, 53.0, peers, 2) == []


def test_flags_ordered_by_weight_and_never_reject(definition: Definition) -> None:
    peers = class_members(4)[:8]
    source = synthetic_source(peers, facultatief=False)
    own = peers[0]
    # remove all 'Verblijf en opvang' records and double the clients: strong signals
    basis = source.data[("gmsd", PERIOD, "basis")][own]
    doubled = pl.concat([basis, basis.with_columns(pl.col("bsn") + "-x")])
    source.put(
        "gmsd",
        PERIOD,
        "basis",
        own,
        doubled.filter(~pl.col("productcategorie").is_in(["15", "16", "17", "18"])),
    )
    report = build_spiegelrapport(definition, PERIOD, own, source)
    flags = report.data["flags"]
    assert flags, "expected signals"
    weights = [f["gewicht"] for f in flags]
    assert weights == sorted(weights, reverse=True)
    kinds = {(f["indicator"], f["soort"]) for f in flags}
    assert ("clienten_verblijf_per_1000", "nul") in kinds
    assert ("clienten_per_1000", "afwijking-peers") in kinds
    first_page = report.html().split('class="page-break"')[0]
    assert flags[0]["reden"] in first_page.replace("&#39;", "'")


def test_correction_is_reflected_in_next_report(definition: Definition) -> None:
    peers = class_members(4)[:6]
    source = synthetic_source(peers, facultatief=False)
    first = build_spiegelrapport(definition, PERIOD, peers[0], source)
    basis = source.data[("gmsd", PERIOD, "basis")][peers[0]]
    source.put("gmsd", PERIOD, "basis", peers[0], basis.head(basis.height // 2))
    second = build_spiegelrapport(definition, PERIOD, peers[0], source)
    value = {r["code"]: r["eigen"] for r in first.data["indicators"]}["gestart"]
    after = {r["code"]: r["eigen"] for r in second.data["indicators"]}["gestart"]
    assert isinstance(value, int) and isinstance(after, int) and after < value

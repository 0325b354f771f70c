"""The second real statistic, Iv3 (quarterly financial data), exists only as data: generated files
are realistic and the validator reports exactly their answer keys."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ggk.definitions import shipped
from ggk.mirror.indicators import compute, load_indicators
from ggk.refdata import register
from ggk.testdata import FileStyle, generate
from ggk.validation import validate_file
from tests.testdata.reports import mismatches
from tests.testdata.strategies import defect_mix

IV3 = shipped().for_period("iv3", "2026-Q1")
QUARTERS = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")


def test_iv3_is_a_quarterly_definition_of_its_own() -> None:
    assert IV3.period_kind == "quarter" and IV3.periods == QUARTERS
    assert IV3.dataset_names == ("verdelingsmatrix",)
    cal = IV3.calendar("2026-Q4")
    assert (str(cal.start), str(cal.end)) == ("2026-10-01", "2026-12-31")
    assert str(cal.events["aanlevering_sluit"]) == "2027-01-31"
    assert (IV3.root / "SOURCES.md").is_file()
    assert [i.code for i in load_indicators(IV3).indicators] == [
        "lasten_per_inwoner", "baten_per_inwoner", "aandeel_sociaal_domein",
        "personele_lasten_per_inwoner", "lokale_belastingen_per_inwoner"]


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, separator=";", schema_overrides={"taakveld": pl.String,
                                                              "categorie": pl.String})


def test_clean_files_are_realistic_and_cumulative(tmp_path: Path) -> None:
    totals = []
    for quarter in QUARTERS:
        g = generate(IV3, "verdelingsmatrix", "GM0363", quarter, seed=3, out=tmp_path / quarter)
        assert g.key.verdict == "goedgekeurd" and g.key.findings == ()
        frame = _read(g.path)
        cells = set(zip(frame["taakveld"], frame["categorie"], strict=True))
        assert ("0.7", "4.3.1") in cells  # the algemene uitkering, always on 0.7
        assert ("0.61", "2.2.2") in cells and ("0.62", "2.2.1") in cells  # OZB
        assert not frame.filter(pl.col("taakveld") == "0.10").height
        assert set(frame.filter(pl.col("categorie") == "1.1")["soort"]) == {"L"}
        assert (frame["bedrag"] >= 0).all()
        totals.append(frame.filter(pl.col("soort") == "L")["bedrag"].sum())
        result = validate_file(g.path, dataset="verdelingsmatrix", gemeente="GM0363",
                               period=quarter, statistic="iv3")
        assert result.accepted, result.report["findings"]
    # cumulative from 1 January: each quarter's lasten are larger than the previous quarter's
    assert totals == sorted(totals) and totals[3] > 3 * totals[0]
    per_inwoner = totals[3] * 1000 / register().get("GM0363").inwoners
    assert 1500 < per_inwoner < 6000  # euro lasten per inhabitant per year


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(errors=defect_mix("verdelingsmatrix", definition=IV3),
       quarter=st.sampled_from(QUARTERS),
       gemeente=st.sampled_from(["GM0363", "GM0014", "GM0088"]),
       seed=st.integers(0, 2**31 - 1), style=st.one_of(st.none(), st.integers(0, 10_000)))
def test_validator_reports_exactly_the_answer_key(errors, quarter, gemeente, seed, style) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        g = generate(IV3, "verdelingsmatrix", gemeente, quarter, errors=errors, seed=seed,
                     out=Path(tmp), style=FileStyle.varied(style) if style is not None else None)
        report = validate_file(g.path, dataset="verdelingsmatrix", gemeente=gemeente,
                               period=quarter, definition=IV3).report
        assert not mismatches(report, g.key), (errors, mismatches(report, g.key))


def test_indicators_run_on_generated_files(tmp_path: Path) -> None:
    codes = ["GM0363", "GM0014", "GM0599"]
    frames = []
    for code in codes:
        g = generate(IV3, "verdelingsmatrix", code, "2026-Q4", seed=1, out=tmp_path)
        frames.append(_read(g.path).with_columns(pl.col("bedrag").cast(pl.Int64)))
    gemeenten = pl.DataFrame([(g.code, g.naam, g.inwoners, 1) for g in map(register().get, codes)],
                             schema={"gemeentecode": pl.String, "naam": pl.String,
                                     "inwoners": pl.Int64, "grootteklasse": pl.Int64},
                             orient="row")
    cal = IV3.calendar("2026-Q4")
    values = compute(load_indicators(IV3), {"verdelingsmatrix": pl.concat(frames)}, gemeenten,
                     cal.start, cal.end)
    by = {(r["gemeentecode"], r["indicator"]): r["waarde"] for r in values.iter_rows(named=True)}
    for code in codes:
        assert 1500 < by[(code, "lasten_per_inwoner")] < 6000
        assert 20 < by[(code, "aandeel_sociaal_domein")] < 80
        assert 100 < by[(code, "lokale_belastingen_per_inwoner")] < 900
    indicators = load_indicators(IV3).indicators
    assert Counter(k[1] for k in by) == Counter({i.code: 3 for i in indicators})

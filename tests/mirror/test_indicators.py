"""Known answers: indicators computed by hand on a small file; broken indicator files refused."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest

from ggk.definitions import Definition, load_definition
from ggk.mirror import IndicatorError, InMemorySource, build_spiegelrapport, load_indicators
from ggk.mirror.indicators import compute
from ggk.mirror.population import gemeente_table

D = dt.date
GRONINGEN_INWONERS = 245250  # GM0014 in the shipped register


def hand_basis(code: str = "GM0014") -> pl.DataFrame:
    rows = [
        # bsn, categorie, vorm, begin, eind
        ("p-a", "01", "ZIN", D(2025, 5, 1), None),  # active, HH
        ("p-a", "02", "PGB", D(2026, 2, 1), D(2026, 4, 30)),  # started+ended, 88 days, thuis
        ("p-b", "15", "ZIN", D(2024, 1, 1), D(2026, 1, 31)),  # ended, 761 days, verblijf
        ("p-c", "11", "ZIN", D(2026, 6, 30), None),  # started, hulpmiddelen
        ("p-d", "10", "ZIN", D(2023, 1, 1), D(2025, 12, 31)),  # not active in 2026-H1
    ]
    return pl.DataFrame(
        [(code, b, c, v, s, e, None, None, None) for b, c, v, s, e in rows],
        schema={
            "gemeentecode": pl.String,
            "bsn": pl.String,
            "productcategorie": pl.String,
            "leveringsvorm": pl.String,
            "begindatum": pl.Date,
            "einddatum": pl.Date,
            "intensiteit": pl.Float64,
            "eenheid": pl.String,
            "reden_beeindiging": pl.String,
        },
        orient="row",
    )


def hand_facultatief(code: str = "GM0014") -> pl.DataFrame:
    return pl.DataFrame(
        [
            (code, "p-a", "01", D(2025, 5, 1), 100.5),
            (code, "p-a", "02", D(2026, 2, 1), 200.0),
            (code, "p-b", "15", D(2024, 1, 1), 99.5),
        ],
        schema={
            "gemeentecode": pl.String,
            "bsn": pl.String,
            "productcategorie": pl.String,
            "begindatum": pl.Date,
            "betaald_bedrag": pl.Float64,
        },
        orient="row",
    )


def test_indicators_computed_by_hand(definition: Definition) -> None:
    indicators = load_indicators(definition)
    values = compute(
        indicators,
        {"basis": hand_basis(), "facultatief": hand_facultatief()},
        gemeente_table(["GM0014"]),
        D(2026, 1, 1),
        D(2026, 6, 30),
    )
    got = {r["indicator"]: (r["waarde"], r["teller"]) for r in values.iter_rows(named=True)}
    per_1000 = 1000 / GRONINGEN_INWONERS
    assert got["clienten_per_1000"] == pytest.approx((3 * per_1000, 3))
    assert got["clienten_hh_per_1000"] == pytest.approx((1 * per_1000, 1))
    assert got["clienten_thuis_per_1000"] == pytest.approx((1 * per_1000, 1))
    assert got["clienten_hulpmiddelen_per_1000"] == pytest.approx((1 * per_1000, 1))
    assert got["clienten_verblijf_per_1000"] == pytest.approx((1 * per_1000, 1))
    assert got["clienten_overig_per_1000"] == (0.0, 0)  # p-d is not active in the period
    assert got["aandeel_pgb"] == pytest.approx((100 / 3, 1))
    assert got["gestart"] == (2.0, 2)
    assert got["beeindigd"] == (2.0, 2)
    assert got["duur_beeindigd"] == pytest.approx(((88 + 761) / 2, 2))
    assert got["bedrag_per_client"] == pytest.approx((400.0 / 2, 2))


def test_facultatief_indicator_absent_without_facultatief(definition: Definition) -> None:
    values = compute(
        load_indicators(definition),
        {"basis": hand_basis()},
        gemeente_table(["GM0014"]),
        D(2026, 1, 1),
        D(2026, 6, 30),
    )
    assert "bedrag_per_client" not in set(values["indicator"])
    assert "clienten_per_1000" in set(values["indicator"])


def test_report_of_tiny_delivery_suppresses_every_small_figure(definition: Definition) -> None:
    source = InMemorySource()
    source.put("gmsd", "2026-H1", "basis", "GM0014", hand_basis())
    report = build_spiegelrapport(definition, "2026-H1", "GM0014", source)
    own = {i["code"]: i["eigen"] for i in report.data["indicators"]}
    assert set(own.values()) == {"."}  # every teller is below 10
    assert report.data["datasets"] == {"basis": True, "facultatief": False}
    assert report.data["peergroep"]["vergelijking_bron"] == "referentie"
    assert report.data["peergroep"]["vergelijking_synthetisch"] is True


def _copy_with(definition: Definition, tmp_path: Path, extra: str) -> Definition:
    root = tmp_path / "gmsd" / "2026"
    shutil.copytree(definition.root, root)
    path = root / "indicators.toml"
    path.write_text(path.read_text("utf-8") + extra, "utf-8")
    return load_definition(root)


def test_bad_sql_names_file_and_indicator(definition: Definition, tmp_path: Path) -> None:
    broken = _copy_with(
        definition,
        tmp_path,
        """
[[indicator]]
code = "kapot"
naam = "Kapot"
eenheid = "aantal"
toelichting = "x"
datasets = ["basis"]
sql = '''SELECT gemeentecode, COUNT(*) AS teller, COUNT(*) AS waarde FROM basis
WHERE nope > 1 GROUP BY gemeentecode'''
""",
    )
    with pytest.raises(IndicatorError) as e:
        load_indicators(broken)
    assert "indicators.toml" in str(e.value) and "'kapot'" in str(e.value)


def test_unknown_dataset_refused(definition: Definition, tmp_path: Path) -> None:
    broken = _copy_with(
        definition,
        tmp_path,
        """
[[indicator]]
code = "onbekend"
naam = "Onbekend"
eenheid = "aantal"
toelichting = "x"
datasets = ["kosten"]
sql = "SELECT gemeentecode, 1 AS teller, 1 AS waarde FROM kosten GROUP BY gemeentecode"
""",
    )
    with pytest.raises(
        IndicatorError, match=r"indicators\.toml: indicator 'onbekend'.*unknown dataset 'kosten'"
    ):
        load_indicators(broken)


def test_query_must_return_the_agreed_columns(definition: Definition, tmp_path: Path) -> None:
    broken = _copy_with(
        definition,
        tmp_path,
        """
[[indicator]]
code = "zonder_teller"
naam = "Zonder teller"
eenheid = "aantal"
toelichting = "x"
datasets = ["basis"]
sql = "SELECT gemeentecode, COUNT(*) AS waarde FROM basis GROUP BY gemeentecode"
""",
    )
    with pytest.raises(IndicatorError, match="missing teller"):
        load_indicators(broken)


def test_new_indicator_is_data_only(definition: Definition, tmp_path: Path) -> None:
    extended = _copy_with(
        definition,
        tmp_path,
        '''
[[indicator]]
code = "voorzieningen_actief"
naam = "Actieve voorzieningen"
eenheid = "aantal"
toelichting = "Aantal voorzieningen actief in de periode."
datasets = ["basis"]
telling = true
decimalen = 0
leeg = 0
sql = """SELECT gemeentecode, COUNT(*) AS teller, COUNT(*) AS waarde FROM basis
WHERE begindatum <= :period_end AND (einddatum IS NULL OR einddatum >= :period_start)
GROUP BY gemeentecode"""
''',
    )
    values = compute(
        load_indicators(extended),
        {"basis": hand_basis()},
        gemeente_table(["GM0014"]),
        D(2026, 1, 1),
        D(2026, 6, 30),
    )
    row = values.filter(pl.col("indicator") == "voorzieningen_actief").row(0, named=True)
    assert (row["waarde"], row["teller"]) == (4.0, 4)

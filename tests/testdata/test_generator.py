"""The generator: clean lines are clean, defects sit exactly where the answer key says."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ggk.definitions import shipped
from ggk.refdata import register
from ggk.testdata import (
    AnswerKey,
    FileStyle,
    TestdataError,
    UnknownDefect,
    draw_accepted,
    generate,
    parse_errors,
)
from ggk.testdata.recipe import load_recipe
from tests.testdata.oracle import elfproef, findings_per_line, keys_of

DEFINITION = shipped().for_period("gmsd", "2026-H1")
ALL_BASIS = (
    "verplicht=6,type=4,patroon=3,codelijst=5,minimum=2,elfproef=4,gemeentecode-afzender=2,"
    "einddatum-voor-begindatum=2,buiten-periode=3,eenheid-ontbreekt=2,reden-ontbreekt=2,"
    "dubbel-record=3,aantal-velden=3"
)


def _oracle_counts(data: bytes, **kw) -> Counter:
    per_line = findings_per_line(data, DEFINITION, **kw)
    return Counter(f for found in per_line.values() for f in found)


@pytest.mark.parametrize("style_seed", [None, 1, 2, 3, 4])
def test_clean_basis_file_has_no_finding(tmp_path: Path, style_seed: int | None) -> None:
    style = FileStyle.varied(style_seed) if style_seed is not None else FileStyle()
    g = generate(
        DEFINITION, "basis", "GM0363", "2026-H1", rows=3000, seed=7, out=tmp_path, style=style
    )
    assert g.key.verdict == "goedgekeurd" and g.key.findings == ()
    assert findings_per_line(g.path.read_bytes(), DEFINITION, "basis", "GM0363", "2026-H1") == {}


def test_every_defect_sits_on_the_keyed_line(tmp_path: Path) -> None:
    g = generate(
        DEFINITION,
        "basis",
        "GM0363",
        "2026-H1",
        rows=400,
        errors=ALL_BASIS,
        seed=11,
        out=tmp_path,
        style=FileStyle.varied(9),
    )
    per_line = findings_per_line(g.path.read_bytes(), DEFINITION, "basis", "GM0363", "2026-H1")
    assert all(len(found) == 1 for found in per_line.values()), per_line
    got = {(f.code, f.column, line) for line, found in per_line.items() for f in [_F(*found[0])]}
    want = {(f.code, f.column, line) for f in g.key.findings for line in f.lines}
    assert got == want
    requested = parse_errors(ALL_BASIS)
    by_code = Counter()
    for f in g.key.findings:
        by_code[f.code] += f.count
    assert dict(by_code) == requested
    assert g.key.errors == sum(requested.values()) - requested["reden-ontbreekt"]
    assert g.key.warnings == 2 and g.key.verdict == "afgekeurd"
    assert g.key.rows == 400 and g.key.rows_with_errors == g.key.errors


class _F:
    def __init__(self, code: str, column: str | None) -> None:
        self.code, self.column = code, column


def test_synthetic_bsns_and_realistic_mix(tmp_path: Path) -> None:
    g = generate(DEFINITION, "basis", "GM0363", "2026-H1", rows=20000, seed=3, out=tmp_path)
    lines = g.path.read_text().splitlines()[1:]
    cells = [line.split(";") for line in lines]
    bsns = {c[1] for c in cells}
    assert all(b.startswith("999") and elfproef(b) for b in bsns)
    per_client = Counter(c[1] for c in cells)
    assert set(per_client.values()) <= {1, 2, 3}
    assert 1.5 < len(cells) / len(bsns) < 1.8
    pgb = sum(c[3] == "PGB" for c in cells) / len(cells)
    assert 0.07 < pgb < 0.13
    categories = Counter(c[2] for c in cells)
    assert categories.most_common(1)[0][0] == "01"  # hulp bij het huishouden leads
    assert len(categories) == 18
    ended = [c for c in cells if c[5] and "2026-01-01" <= c[5] <= "2026-06-30"]
    assert ended and all(c[8] for c in ended)


def test_default_size_follows_population(tmp_path: Path) -> None:
    gm = register().get("GM0037")  # Stadskanaal
    g = generate(DEFINITION, "basis", "GM0037", "2026-H2", seed=1, out=tmp_path)
    clients = round(gm.inwoners * 60 / 1000)
    assert clients * 1.5 < g.key.rows < clients * 1.8


def test_same_seed_same_file(tmp_path: Path) -> None:
    a = generate(
        DEFINITION,
        "basis",
        "GM0363",
        "2026-H1",
        rows=500,
        errors="elfproef=3",
        seed=5,
        out=tmp_path / "a",
    )
    b = generate(
        DEFINITION,
        "basis",
        "GM0363",
        "2026-H1",
        rows=500,
        errors="elfproef=3",
        seed=5,
        out=tmp_path / "b",
    )
    c = generate(
        DEFINITION,
        "basis",
        "GM0363",
        "2026-H1",
        rows=500,
        errors="elfproef=3",
        seed=6,
        out=tmp_path / "c",
    )
    assert a.path.read_bytes() == b.path.read_bytes() != c.path.read_bytes()
    assert AnswerKey.read(a.key_path) == a.key


def test_facultatief_refers_to_basis_keys(tmp_path: Path) -> None:
    basis = generate(DEFINITION, "basis", "GM0363", "2026-H1", rows=1000, seed=2, out=tmp_path)
    fac = generate(
        DEFINITION,
        "facultatief",
        "GM0363",
        "2026-H1",
        errors=("geen-basisrecord=4,minimum=2,type:betaald_bedrag=1,elfproef=1,aantal-velden=1"),
        seed=2,
        referenced=basis,
        out=tmp_path,
        style=FileStyle.varied(3),
    )
    assert 800 < fac.key.rows < 900  # ~85% of the voorzieningen have a payment
    basis_keys = keys_of(basis.path.read_bytes())
    counts = _oracle_counts(
        fac.path.read_bytes(),
        dataset="facultatief",
        gemeente="GM0363",
        period="2026-H1",
        basis_keys=basis_keys,
    )
    assert counts == Counter(fac.key.counts())
    assert fac.key.counts()[("geen-basisrecord", None)] == 4
    assert fac.key.verdict == "afgekeurd" and fac.key.warnings == 4


def test_file_level_defects(tmp_path: Path) -> None:
    empty = generate(
        DEFINITION,
        "basis",
        "GM0363",
        "2026-H1",
        rows=10,
        errors="bestand-leeg=1",
        out=tmp_path / "e",
    )
    assert empty.path.read_bytes().strip() == b"" and empty.key.counts() == {
        ("bestand-leeg", None): 1
    }
    for seed in (1, 2):
        enc = generate(
            DEFINITION,
            "basis",
            "GM0363",
            "2026-H1",
            rows=10,
            errors="codering=1",
            seed=seed,
            out=tmp_path / f"c{seed}",
        )
        with pytest.raises(UnicodeDecodeError):
            enc.path.read_bytes().decode("utf-8")
    sep = generate(
        DEFINITION,
        "basis",
        "GM0363",
        "2026-H1",
        rows=10,
        errors="scheidingsteken=1",
        out=tmp_path / "s",
    )
    head = sep.path.read_text().splitlines()[0]
    assert ";" not in head and ("," in head or "\t" in head)
    cols = generate(
        DEFINITION,
        "basis",
        "GM0363",
        "2026-H1",
        rows=10,
        seed=4,
        errors="kolom-ontbreekt:eenheid=1,kolom-onbekend=2,kolom-dubbel:bsn=1",
        out=tmp_path / "k",
    )
    head = cols.path.read_text().splitlines()[0].split(";")
    assert "eenheid" not in head and head.count("bsn") == 2 and "opmerking" in head
    assert cols.key.counts() == {
        ("kolom-ontbreekt", "eenheid"): 1,
        ("kolom-onbekend", "opmerking"): 1,
        ("kolom-onbekend", "clientnummer"): 1,
        ("kolom-dubbel", "bsn"): 1,
    }
    assert cols.key.file_level and cols.key.verdict == "afgekeurd"


@pytest.mark.parametrize(
    ("errors", "message"),
    [
        ("foo=1", "unknown defect 'foo'"),
        ("codelijst:bsn=1", "does not apply to column 'bsn'"),
        ("elfproef", "must look like code=N"),
        ("elfproef=x", "is not a whole number"),
        ("codering=1,elfproef=1", "cannot be combined"),
        ("elfproef=11", "do not fit in 10 rows"),
    ],
)
def test_bad_requests_say_why(tmp_path: Path, errors: str, message: str) -> None:
    with pytest.raises(TestdataError, match=message):
        generate(DEFINITION, "basis", "GM0363", "2026-H1", rows=10, errors=errors, out=tmp_path)


def test_geen_basisrecord_needs_a_basis(tmp_path: Path) -> None:
    with pytest.raises(TestdataError, match="needs the file of the referenced dataset"):
        generate(
            DEFINITION,
            "facultatief",
            "GM0363",
            "2026-H1",
            rows=10,
            errors="geen-basisrecord=1",
            out=tmp_path,
        )
    with pytest.raises(UnknownDefect, match="dubbel-record"):
        generate(
            DEFINITION,
            "facultatief",
            "GM0363",
            "2026-H1",
            rows=10,
            errors="dubbel-record=1",
            out=tmp_path,
        )


def _ggk(*args: str) -> subprocess.CompletedProcess[str]:
    ggk = Path(sys.executable).with_name("ggk")
    return subprocess.run([str(ggk), *args], capture_output=True, text=True, timeout=120)


def test_cli_writes_file_and_key(tmp_path: Path) -> None:
    r = _ggk(
        "testdata",
        "--gemeente",
        "GM0363",
        "--period",
        "2026-H1",
        "--rows",
        "200",
        "--errors",
        "elfproef=10,dubbel-record=5,verplicht:bsn=3,codelijst:eenheid=2",
        "--seed",
        "4",
        "--out",
        str(tmp_path),
    )
    assert r.returncode == 0, r.stderr
    assert "GM0363-2026-H1-basis.csv" in r.stdout and "antwoorden.json" in r.stdout
    key = AnswerKey.read(tmp_path / "GM0363-2026-H1-basis-antwoorden.json")
    assert key.counts() == {
        ("elfproef", "bsn"): 10,
        ("dubbel-record", None): 5,
        ("verplicht", "bsn"): 3,
        ("codelijst", "eenheid"): 2,
    }
    r = _ggk(
        "testdata",
        "--gemeente",
        "GM0363",
        "--period",
        "2026-H1",
        "--dataset",
        "facultatief",
        "--referenced-file",
        str(tmp_path / "GM0363-2026-H1-basis.csv"),
        "--errors",
        "geen-basisrecord=2",
        "--out",
        str(tmp_path),
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "GM0363-2026-H1-facultatief-antwoorden.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gemeente", "GM9999"], "onbekende gemeentecode"),
        (["--gemeente", "GM0363", "--errors", "elfproef=1,nope=2"], "unknown defect 'nope'"),
        (["--gemeente", "GM0363", "--period", "2031-H1"], "unknown period"),
        (["--gemeente", "GM0363", "--dataset", "kosten"], "unknown dataset"),
    ],
)
def test_cli_refuses_clearly(tmp_path: Path, args: list[str], message: str) -> None:
    base = ["testdata", "--period", "2026-H1", "--rows", "10", "--out", str(tmp_path)]
    r = _ggk(*base, *args)
    assert r.returncode == 2
    assert message in r.stderr


def test_draw_accepted_in_memory_is_deterministic_and_refers_to_its_parent() -> None:
    frames = draw_accepted(DEFINITION, "GM0014", "2026-H1", seed=3)
    again = draw_accepted(DEFINITION, "GM0014", "2026-H1", seed=3)
    other = draw_accepted(DEFINITION, "GM0014", "2025-H2", seed=3)
    assert set(frames) == set(DEFINITION.dataset_names)
    for name, frame in frames.items():
        assert frame.equals(again[name])
        assert not frame.equals(other[name])
        assert frame.columns == list(DEFINITION.dataset(name).field_names)
    for name, frame in frames.items():
        for fk in DEFINITION.dataset(name).foreign_keys:
            parent = frames[fk.resource].select(fk.reference_fields)
            keys = frame.select(fk.fields).rename(
                dict(zip(fk.fields, fk.reference_fields, strict=True)))
            assert keys.height and keys.join(parent, on=list(fk.reference_fields),
                                             how="anti").height == 0
    # `units`: the rows of that many units (persons here) instead of the population's
    small = draw_accepted(DEFINITION, "GM0014", "2026-H1", seed=3, units=17)
    for name, ds in load_recipe(DEFINITION).datasets.items():
        if ds.units_per_1000_inhabitants is not None:
            values = ds.rows_per_unit[0]
            assert 17 * min(values) <= small[name].height <= 17 * max(values)
            assert frames[name].height > 100 * max(values)

"""Files made to hurt the validator or the station behind it (issue 10, findings 13, 15, 16).

The station calls `validate_file` with the definition and writes report.json (json.dumps),
report.html (render_html) and findings.csv (write_findings_csv); these tests do the same. Memory
is measured as the peak RSS of a child process doing exactly that.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ggk.definitions import FieldSpec, shipped
from ggk.validation import ValidationInputError, validate_file

GGK = Path(sys.executable).parent / "ggk"
HEADER = ("gemeentecode;bsn;productcategorie;leveringsvorm;begindatum;einddatum;intensiteit;"
          "eenheid;reden_beeindiging")
ROW = "GM0363;123456782;01;ZIN;2026-01-10;;;;"
ARGS = ["--gemeente", "GM0363", "--period", "2026-H1", "--dataset", "basis"]
DEFINITION = shipped().for_period("gmsd", "2026-H1")


def _as_the_station(path: Path, tmp_path: Path) -> tuple[dict, dict[str, int]]:
    result = validate_file(path, dataset="basis", gemeente="GM0363", period="2026-H1",
                           definition=DEFINITION, referenced_keys=None)
    csv_path = tmp_path / "findings.csv"
    result.write_findings_csv(csv_path)
    sizes = {"json": len(json.dumps(result.report, indent=2, ensure_ascii=False).encode()),
             "html": len(result.render_html().encode()), "csv": csv_path.stat().st_size}
    return result.report, sizes


def _wide_header(path: Path, names: int) -> None:
    path.write_text(HEADER + "".join(f";x{i:06d}" for i in range(names)) + "\n" + ROW + "\n",
                    encoding="utf-8")


# -- finding 13: a report does not grow with the header ---------------------------------------

def test_many_unknown_columns_are_one_finding(tmp_path: Path) -> None:
    path = tmp_path / "breed.csv"
    _wide_header(path, 5_000)  # 40 KB: below the header limit, so the names are read
    report, sizes = _as_the_station(path, tmp_path)
    assert [(f["code"], f["count"]) for f in report["findings"]] == [("kolommen-onbekend", 1)]
    value = report["findings"][0]["examples"][0]["value"]
    assert value.startswith("5000 kolommen, waaronder 'x000000', 'x000001'")
    assert max(sizes.values()) < 20_000, sizes


def test_up_to_twenty_unknown_columns_are_named_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "breed.csv"
    _wide_header(path, 20)
    report, _ = _as_the_station(path, tmp_path)
    assert {f["code"] for f in report["findings"]} == {"kolom-onbekend"}
    assert len(report["findings"]) == 20


def test_many_duplicate_names_are_reported_once_each(tmp_path: Path) -> None:
    path = tmp_path / "dubbel.csv"
    path.write_text(HEADER + ";bsn" * 2_000 + "".join(f";y{i};y{i}" for i in range(2_500))
                    + "\n", encoding="utf-8")  # was quadratic in the number of doubled names
    report, sizes = _as_the_station(path, tmp_path)
    assert {(f["code"], f["column"]) for f in report["findings"]} == {
        ("kolom-dubbel", "bsn"), ("kolommen-onbekend", None)}
    assert max(sizes.values()) < 20_000, sizes


def test_a_million_names_cost_neither_memory_nor_report_size(tmp_path: Path) -> None:
    path = tmp_path / "miljoen.csv"
    _wide_header(path, 1_000_000)  # 8 MB header: was 3.4 GB RSS, 284 MB JSON, 586 MB HTML
    report, sizes = _as_the_station(path, tmp_path)
    assert [f["code"] for f in report["findings"]] == ["kopregel-te-lang"]
    assert report["summary"]["rows"] == 1
    assert max(sizes.values()) < 20_000, sizes
    child = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from ggk.validation import validate_file\n"
        "r = validate_file(Path(sys.argv[1]), dataset='basis', gemeente='GM0363',"
        " period='2026-H1')\n"
        "json.dumps(r.report); r.render_html(); r.write_findings_csv(Path(sys.argv[2]))\n"
        "print(next(line.split()[1] for line in open('/proc/self/status')"
        " if line.startswith('VmHWM:')))\n"
    )
    out = subprocess.run([sys.executable, "-c", child, str(path), str(tmp_path / "f.csv")],
                         capture_output=True, text=True, timeout=300, check=True)
    # VmHWM (KiB) is this process's own peak; ru_maxrss would not do: Linux carries the parent's
    # peak across the vfork + exec that subprocess uses, so under a large pytest it reads high
    peak_mib = int(out.stdout.split()[-1]) / 1024
    assert peak_mib < 400, f"peak RSS {peak_mib:.0f} MiB for an 8 MB header"


# -- finding 15: not a regular file, or an internal error: exit 2, one line ---------------------

def _ggk(*args: str | Path, **kw) -> subprocess.CompletedProcess[str]:  # noqa: ANN003
    return subprocess.run([str(GGK), "validate", *map(str, args), *ARGS], capture_output=True,
                          text=True, timeout=60, **kw)


def _one_line(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-500:])
    assert len(result.stderr.strip().splitlines()) == 1 and text in result.stderr


def test_a_device_is_refused_without_reading_it() -> None:
    _one_line(_ggk("/dev/zero"), "geen gewoon bestand")  # used to read until memory ran out
    with pytest.raises(ValidationInputError, match="geen gewoon bestand"):
        validate_file(Path("/dev/zero"), dataset="basis", gemeente="GM0363", period="2026-H1")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "aanlevering.csv"
    os.mkfifo(fifo)
    _one_line(_ggk(fifo), "geen gewoon bestand")  # used to hang


def test_an_internal_error_is_not_afgekeurd(tmp_path: Path) -> None:
    path = tmp_path / "basis.csv"
    path.write_text(HEADER + "\n" + ROW.replace("123456782", "123456783") + "\n")
    # with standard output closed, writing the JSON report fails inside ggk (sys.stdout is None)
    closed = _ggk(path, "--format", "json", preexec_fn=lambda: os.close(1))
    _one_line(closed, "interne fout")
    assert "Traceback" not in closed.stderr


def test_a_directory_is_refused(tmp_path: Path) -> None:
    _one_line(_ggk(tmp_path), "is een map")


# -- finding 16: what was not checked is said; out-of-range values are refused -----------------

def test_an_unterminated_quote_says_how_many_lines_went_unchecked(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    lines = [HEADER, 'GM0363;"123456782;01;ZIN;2026-01-10;;;;'] + [ROW] * 19_999
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report, _ = _as_the_station(path, tmp_path)
    [finding] = report["findings"]
    assert finding["code"] == "aanhalingsteken-open" and finding["count"] == 1
    assert finding["examples"] == [
        {"line": 2, "value": "regels 2 t/m 20001 (20000 regels) niet gecontroleerd"}]


def test_an_unterminated_quote_in_the_last_field_is_not_read_as_a_value(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text(f'{HEADER}\n{ROW}\n{ROW[:-1]}"01\n' + f"{ROW}\n" * 50, encoding="utf-8")
    report, _ = _as_the_station(path, tmp_path)
    assert [(f["code"], f["examples"][0]["line"]) for f in report["findings"]] == [
        ("aanhalingsteken-open", 3)]
    assert report["summary"]["rows"] == 2


def test_an_unterminated_quote_in_the_header_is_a_file_finding(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text(f'"{HEADER}\n{ROW}\n', encoding="utf-8")
    report, _ = _as_the_station(path, tmp_path)
    assert "aanhalingsteken-open" in {f["code"] for f in report["findings"]}
    assert report["verdict"] == "afgekeurd"


def test_a_header_made_long_by_an_open_quote_says_both(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text(f'"{HEADER}\n' + f"{ROW}\n" * 3_000, encoding="utf-8")  # 120 KB record
    report, sizes = _as_the_station(path, tmp_path)
    assert [f["code"] for f in report["findings"]] == ["kopregel-te-lang", "aanhalingsteken-open"]
    assert max(sizes.values()) < 20_000, sizes


@pytest.mark.parametrize(("row", "column"), [
    (ROW.replace(";;;;", ";;" + "9" * 400 + ";uur;"), "intensiteit"),  # read as inf
    (ROW.replace(";;;;", ";;1000000000000000;uur;"), "intensiteit"),
    (ROW.replace(";;;;", ";;-1000000000000000;uur;"), "intensiteit"),
    (ROW.replace("2026-01-10", "0000-01-01"), "begindatum"),
    (ROW.replace(";;;;", ";0000-12-31;;;"), "einddatum"),
], ids=["400 nines", "10^15", "-10^15", "begindatum in year 0", "einddatum in year 0"])
def test_numbers_and_dates_out_of_range_are_refused(tmp_path: Path, row: str, column: str
                                                   ) -> None:
    path = tmp_path / "bereik.csv"
    path.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    report, _ = _as_the_station(path, tmp_path)
    assert report["verdict"] == "afgekeurd"
    assert [(f["code"], f["column"]) for f in report["findings"]] == [("bereik", column)]


def test_the_largest_numbers_and_earliest_dates_in_range_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bereik.csv"
    row = ROW.replace("2026-01-10;;;;", "0001-01-01;;999999999999999;uur;")
    path.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    report, _ = _as_the_station(path, tmp_path)
    assert report["verdict"] == "goedgekeurd", report["findings"]


def test_the_html_report_shows_at_most_100_finding_cards(tmp_path: Path) -> None:
    names = [f"veld{i}" for i in range(150)]
    spec = dataclasses.replace(
        DEFINITION.dataset("basis"), name="breed", primary_key=(), foreign_keys=(),
        fields=tuple(FieldSpec(n, "string", n, "", required=True) for n in names))
    definition = dataclasses.replace(DEFINITION, datasets=(spec,), rules=())
    path = tmp_path / "breed.csv"
    path.write_text(";".join(names) + "\n" + ";" * 149 + "\n", encoding="utf-8")
    result = validate_file(path, dataset="breed", gemeente="GM0363", period="2026-H1",
                           definition=definition)
    assert len(result.report["findings"]) == 150  # the JSON report keeps every entry
    html = result.render_html()
    assert html.count('class="card finding') == 100
    assert "… en nog 50 soorten bevindingen" in html

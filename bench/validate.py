"""Benchmark of `ggk validate` on a 1,000,000-row GMSD basis file (run by `make bench`).

Side by side in one run, each in a fresh child process (peak RSS = ru_maxrss of that child):
- `ggk validate` through the real CLI,
- Polars' plain `read_csv` of the same CSV (the floor: reading without any check),
- frictionless-py validating a 100,000-row slice with the same Table Schema.
Goals (issue 2): ggk within 3x of the plain read, and >= 50x faster than frictionless (rows/s).
The generated files are cached under bench/out/ (gitignored). Figures are appended to the
`## validate` section of bench/RESULTS.md unless --no-record is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
GGK = Path(sys.executable).with_name("ggk")
GEMEENTE, PERIOD, SEED = "GM0363", "2026-H1", 2026
# a realistic delivery has a few defects; they make the validator report (and mask) findings
DEFECTS = "elfproef=120,dubbel-record=60,verplicht=80,codelijst=60,type=40,reden-ontbreekt=200"

# Runs one command as its child and reports wall time and the child's peak RSS (ru_maxrss, KiB).
MEASURE = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "rss_kib": rss, "rc": p.returncode, "stderr": p.stderr[-2000:]}))
"""

POLARS_READ = "import polars as pl, sys; pl.read_csv(sys.argv[1], separator=';')"

FRICTIONLESS = """
import json, sys
from frictionless import Resource, Schema, formats
from ggk.definitions import shipped
resources = shipped().for_period("gmsd", sys.argv[2]).raw["resources"]
raw = next(r for r in resources if r["name"] == "basis")
from pathlib import Path
p = Path(sys.argv[1])
r = Resource(path=p.name, basepath=str(p.parent), schema=Schema.from_descriptor(raw["schema"]),
             control=formats.CsvControl(delimiter=";"))
report = r.validate(limit_errors=10_000_000)
print(len(report.flatten(["rowNumber"])), file=sys.stderr)
"""


def basis_file(rows: int) -> tuple[Path, int, float | None]:
    """The cached benchmark file (generated once per size) and the seconds generation took."""
    from ggk.definitions import shipped
    from ggk.testdata import AnswerKey, generate

    folder = OUT / f"basis-{rows}"
    key_path = folder / f"{GEMEENTE}-{PERIOD}-basis-antwoorden.json"
    if key_path.exists():
        key = AnswerKey.read(key_path)
        if key.rows == rows and key.seed == SEED and (folder / key.file).exists():
            return folder / key.file, key.rows, None
    definition = shipped().for_period("gmsd", PERIOD)
    started = time.perf_counter()
    g = generate(
        definition, "basis", GEMEENTE, PERIOD, rows=rows, errors=DEFECTS, seed=SEED, out=folder
    )
    return g.path, g.key.rows, time.perf_counter() - started


def slice_file(path: Path, rows: int) -> Path:
    target = path.with_name(f"slice-{rows}.csv")
    if not target.exists():
        with path.open("rb") as src, target.open("wb") as dst:
            for i, line in enumerate(src):
                if i > rows:
                    break
                dst.write(line)
    return target


def measure(cmd: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def machine() -> str:
    import psutil

    ram = psutil.virtual_memory().total / 2**30
    cpu = platform.processor() or platform.machine()
    python = platform.python_version()
    return f"{os.cpu_count()} CPUs (nproc), {ram:.1f} GiB RAM, {cpu}, Python {python}"


def record(text: str) -> None:
    """Add an entry at the end of the `## validate` section (created when missing)."""
    content = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
    lines = content.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.strip() == "## validate"), None)
    if start is None:
        content = content.rstrip("\n") + "\n\n## validate\n\n" + text
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        before = "".join(lines[:end]).rstrip("\n") + "\n\n"
        after = "".join(lines[end:])
        content = before + text + ("\n" + after if after else "")
    RESULTS.write_text(content, "utf-8")


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--slice", type=int, default=100_000, help="rows for frictionless")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    console = Console()

    with console.status(f"generating / reusing the {args.rows:,}-row file under bench/out ..."):
        path, rows, generated = basis_file(args.rows)
        small = slice_file(path, args.slice)
    size_mb = path.stat().st_size / 1e6
    if generated is not None:
        console.print(f"generated {path.relative_to(ROOT)} in {generated:.1f} s (ggk testdata)")
    validate = [
        str(GGK),
        "validate",
        str(path),
        "--gemeente",
        GEMEENTE,
        "--period",
        PERIOD,
        "--dataset",
        "basis",
        "--format",
        "json",
    ]
    runs = {}
    with console.status("ggk validate ..."):
        runs["ggk validate"] = (rows, measure(validate))
    with console.status("polars read_csv ..."):
        runs["polars read_csv (floor)"] = (
            rows,
            measure([sys.executable, "-c", POLARS_READ, str(path)]),
        )
    with console.status(f"frictionless on {args.slice:,} rows ..."):
        runs["frictionless-py"] = (
            args.slice,
            measure([sys.executable, "-c", FRICTIONLESS, str(small), PERIOD]),
        )

    table = Table(title=f"validate: {rows:,}-row basis file ({size_mb:.0f} MB)")
    for col in ("tool", "rows", "seconds", "rows/s", "peak RSS MiB", "exit"):
        table.add_column(col, justify="left" if col == "tool" else "right")
    rates = {}
    for name, (n, r) in runs.items():
        rates[name] = n / r["wall"]
        table.add_row(
            name,
            f"{n:,}",
            f"{r['wall']:.2f}",
            f"{rates[name]:,.0f}",
            f"{r['rss_kib'] / 1024:,.0f}",
            str(r["rc"]),
        )
    console.print(table)
    ggk, floor, fl = (runs[k][1] for k in runs)
    ok = ggk["rc"] in (0, 1)
    if not ok:
        console.print(f"[red]ggk validate failed (exit {ggk['rc']}):[/red] {ggk['stderr']}")
    vs_floor = ggk["wall"] / floor["wall"]
    vs_fl = rates["ggk validate"] / rates["frictionless-py"]
    console.print(
        f"ggk / plain read time: {vs_floor:.2f}x (goal <= 3x)   "
        f"ggk / frictionless rows/s: {vs_fl:,.0f}x (goal >= 50x)"
    )
    if ok and not args.no_record:
        today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            f"### {today}",
            "",
            f"- command: `make bench` (`python bench/validate.py --rows {rows}`)",
            f"- machine: {machine()}",
            f"- file: {rows:,} rows, {size_mb:.0f} MB, defects `{DEFECTS}`",
            "",
            "| tool | rows | seconds | rows/s | peak RSS MiB |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, (n, r) in runs.items():
            lines.append(
                f"| {name} | {n:,} | {r['wall']:.2f} | {rates[name]:,.0f} "
                f"| {r['rss_kib'] / 1024:,.0f} |"
            )
        lines += [
            "",
            f"ggk / plain read (time): **{vs_floor:.2f}x** (goal <= 3x); "
            f"ggk / frictionless (rows/s): **{vs_fl:,.0f}x** (goal >= 50x).",
            "",
        ]
        record("\n".join(lines) + "\n")
        console.print(f"recorded in {RESULTS.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: time from acceptance (accepted data available) to spiegelrapport (json+html+pdf).

Synthetic accepted data (ggk.mirror.synthetic: drawn from the definition's test-file recipe) for
all 342 municipalities of 2026-H1, stored as
Parquet (as the station stores accepted data) and read lazily through an AcceptedDataSource.
Measures: a typical municipality, the largest (GM0363, ~57,000 clients), and all 342 in turn.

    .venv/bin/python bench/mirror.py [--all N]   # N municipalities for the batch (default 342)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from ggk.definitions import Definition, shipped
from ggk.mirror import InMemorySource, build_spiegelrapport
from ggk.mirror import report as report_module
from ggk.mirror.synthetic import accepted
from ggk.refdata import register

PERIOD = "2026-H1"
LARGEST = "GM0363"
LARGEST_CLIENTS = 57_000


def prepare(definition: Definition, folder: Path) -> tuple[InMemorySource, int]:
    source = InMemorySource()
    rows = 0
    for g in register().all():
        frames = accepted(definition, g, PERIOD, 42, LARGEST_CLIENTS if g.code == LARGEST else None)
        rows += frames["basis"].height
        for name, frame in frames.items():
            path = folder / f"{g.code}-{name}.parquet"
            frame.write_parquet(path)
            source.put("gmsd", PERIOD, name, g.code, pl.scan_parquet(path))
    return source, rows


def one(definition, source, code: str, out: Path,  # type: ignore[no-untyped-def]
        cold: bool = True) -> dict[str, float]:
    if cold:  # a new acceptance changes the data: nothing of the period is cached
        report_module.clear_cache()
    t0 = time.perf_counter()
    report = build_spiegelrapport(definition, PERIOD, code, source)
    t1 = time.perf_counter()
    (out / f"{code}.json").write_text(report.json(), "utf-8")
    html = report.html()
    (out / f"{code}.html").write_text(html, "utf-8")
    t2 = time.perf_counter()
    (out / f"{code}.pdf").write_bytes(report.pdf())
    t3 = time.perf_counter()
    return {"build": t1 - t0, "html": t2 - t1, "pdf": t3 - t2, "total": t3 - t0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--all", type=int, default=342)
    args = parser.parse_args()
    definition = shipped().for_period("gmsd", PERIOD)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        source, rows = prepare(definition, folder)
        print(f"synthetic data: 342 municipalities, {rows:,} basis rows "
              f"({time.perf_counter() - t:.1f} s to generate)")
        out = folder / "out"
        out.mkdir()
        one(definition, source, "GM0014", out)  # warm-up (imports, vl-convert, fonts)
        reg = register()
        sizes = sorted(reg.all(), key=lambda g: g.inwoners)
        typical = sizes[len(sizes) // 2].code
        for label, code in (("typical", typical), ("largest", LARGEST)):
            runs = [one(definition, source, code, out) for _ in range(3)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{label} {code} ({reg.get(code).naam}, {reg.get(code).inwoners:,} inw.), "
                  "cold (empty cache, e.g. a new worker): "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in med.items()))
        # In the station the worker keeps the period's data: after an acceptance only that
        # gemeente's file is new (read, typed, its values computed) and the national figure is
        # recomputed over all data.
        runs = []
        for _ in range(3):
            one(definition, source, typical, out, cold=False)  # cache warm
            path = folder / f"{typical}-basis.parquet"
            source.put("gmsd", PERIOD, "basis", typical, pl.scan_parquet(path))  # a new version
            runs.append(one(definition, source, typical, out, cold=False))
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"typical {typical} after its acceptance (the station's case: cache warm, its data "
              "new): " + ", ".join(f"{k} {v:.2f} s" for k, v in med.items()))
        codes = [g.code for g in reg.all()][: args.all]
        t = time.perf_counter()
        totals = [one(definition, source, c, out, cold=False)["total"] for c in codes]
        wall = time.perf_counter() - t
        print(f"all {len(codes)} (one batch, period values computed once): {wall:.0f} s wall, "
              f"per report median {statistics.median(totals):.2f} s, max {max(totals):.2f} s")


if __name__ == "__main__":
    main()

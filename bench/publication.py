"""Benchmark: disclosure control of a national publication (protect_table with its LP audit).

The table is the shipped SYNTHETIC 2025-H2 reference (ggk.mirror.synthetic: indicator values and
counts of all 342 municipalities and NL), so the counts have realistic sizes; the first N
municipalities (by code) are taken as the opted-in ones, NL pooled over all 342 is replaced by
the sum over those N (as a publication pools over exactly the published municipalities).
Prints cells, primary and secondary suppressions, linear programmes solved and seconds; appends
them to bench/RESULTS.md.

    .venv/bin/python bench/publication.py [--gemeenten 40 100 342]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import polars as pl

from ggk.definitions import shipped
from ggk.mirror import disclosure, load_reference
from ggk.publication.services import load_settings, table_relations

RESULTS = Path(__file__).with_name("RESULTS.md")


def measure(n: int) -> dict[str, float]:
    definition = shipped().for_period("gmsd", "2026-H1")
    values = load_reference("gmsd", "2025-H2").values  # type: ignore[union-attr]
    values = values.filter(pl.col("indicator") != "bedrag_per_client")  # basis only
    codes = sorted(c for c in set(values["gemeentecode"]) if c != "NL")[:n]
    tellers = {(r["gemeentecode"], r["indicator"]): int(r["teller"])
               for r in values.filter(pl.col("gemeentecode").is_in(codes)).iter_rows(named=True)}
    indicators = sorted({i for _, i in tellers})
    for code in indicators:
        tellers[("NL", code)] = sum(tellers[(g, code)] for g in codes)
    relations = table_relations(tellers, codes, indicators, load_settings(definition).relations)
    calls = 0
    original = disclosure.feasible_range

    def counted(*args: object) -> tuple[float, float]:
        nonlocal calls
        calls += 1
        return original(*args)  # type: ignore[arg-type]

    disclosure.feasible_range = counted  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        suppressed = disclosure.protect_table(tellers, relations)
        seconds = time.perf_counter() - started
    finally:
        disclosure.feasible_range = original
    primary = sum(v == disclosure.PRIMARY for v in suppressed.values())
    return {"gemeenten": n, "cellen": len(tellers), "primair": primary,
            "secundair": len(suppressed) - primary, "audits": calls, "seconden": seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gemeenten", type=int, nargs="+", default=[40, 100])
    args = parser.parse_args()
    rows = [measure(n) for n in args.gemeenten]
    lines = [f"\n## publication ({dt.date.today()}, `bench/publication.py --gemeenten "
             f"{' '.join(map(str, args.gemeenten))}`)\n",
             "Disclosure control of the published table (protect_table: primary suppression, "
             "secondary suppression driven by an LP audit of every suppressed cell; each audit "
             "is two HiGHS linear programmes). Synthetic 2025-H2 reference counts. Taken on a "
             "shared, loaded machine (2 cores, 7 developers).\n",
             "| gemeenten | cellen | primair | secundair | audits | seconden |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['gemeenten']} | {r['cellen']} | {r['primair']} | {r['secundair']} "
                     f"| {r['audits']} | {r['seconden']:.1f} |")
        print(lines[-1])
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

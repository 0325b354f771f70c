"""Benchmark of the CBS station (issue 4): time from delivery sent to technical report received.

One process runs the hub (real TLS on 127.0.0.1, SQLite), the station (a thread running
`Station.run_forever`, SQLite, simulated clock inside the aanleverperiode) and the municipalities
(HubClients). Two parts:
1. latency per file size: one basis delivery of 1,000 / 5,000 / 50,000 / 500,000 rows (goal: the
   report back within 5 s for ~5,000 rows);
2. a whole period: every municipality (342, realistic sizes from the test-data generator) sends its
   basis file, 4 sender threads; wall time from the first send to the last report (goal: 10 min).
   `--sample N` sends only N municipalities spread over the size classes and extrapolates by
   rows (labelled as such).
Figures are appended to the `## station` section of bench/RESULTS.md unless --no-record.
Generated files are cached under bench/out/station/ (gitignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "station"
RESULTS = ROOT / "bench" / "RESULTS.md"
PERIOD = "2026-H1"
SIZES = (1_000, 5_000, 50_000, 500_000)


def make_world(tmp: Path, gemeenten: list[str], mirror_workers: int = 1):  # type: ignore[no-untyped-def]
    """PKI, a hub with CBS and these gemeenten registered, and a running station (ggk.world)."""
    from ggk.station import SimulatedClock, StationSettings
    from ggk.world import build_pki, cbs_party, gemeente_party, run_station, start_hub

    pki = build_pki(tmp / "pki", [cbs_party(), *(gemeente_party(code, oin_number=int(code[2:])
                                                                + 10_000) for code in gemeenten)])
    hub = start_hub(pki, database_url=f"sqlite:///{tmp / 'hub.sqlite3'}",
                    store_dir=tmp / "store", long_poll_interval=0.1)
    clock = SimulatedClock(dt.datetime(2026, 9, 1, 10, tzinfo=dt.UTC))
    running = run_station(hub.base_url, pki.pem["cbs"], pki.ca, clock,
                          StationSettings(data_dir=tmp / "station", poll_wait=5,
                                          mirror_workers=mirror_workers))
    clients = {code: hub.client_for(code) for code in gemeenten}

    def close() -> None:
        running.stop()
        for c in clients.values():
            c.close()
        hub.stop()

    return clients, pki.oin["cbs"], close, running.station


def basis_file(code: str, rows: int | None, seed: int = 2026) -> tuple[Path, int]:
    from ggk.definitions import shipped
    from ggk.testdata import AnswerKey, generate

    folder = OUT / f"{code}-{rows or 'realistic'}"
    existing = list(folder.glob("*-basis.csv"))
    if existing:
        key = AnswerKey.read(next(folder.glob("*antwoorden.json")))
        return existing[0], key.rows
    generated = generate(shipped().for_period("gmsd", PERIOD), "basis", code, PERIOD, rows=rows,
                         seed=seed, out=folder)
    return generated.path, generated.key.rows


def deliver_and_wait(client, cbs_oin: str, code: str, path: Path) -> tuple[float, str]:  # noqa: ANN001
    """Send one basis delivery; seconds until its technical report is in the inbox."""
    started = time.perf_counter()
    sent = client.send(cbs_oin, "gmsd.aanlevering", {
        "statistic": "gmsd", "period": PERIOD, "dataset": "basis", "gemeente": code,
        "file_name": path.name}, [path])
    cursor = None
    while True:
        page = client.mailbox(after=cursor, wait=10)
        for message in page.messages:
            if message.in_reply_to == sent.id:
                client.ack(message.id)
                if message.type == "gmsd.technisch-controlerapport":
                    return time.perf_counter() - started, str(message.metadata.get("verdict"))
                return time.perf_counter() - started, message.type
        cursor = page.cursor if page.messages else cursor
        if time.perf_counter() - started > 900:
            raise TimeoutError(f"no report for {code} after 900 s")


def sample_codes(n: int) -> list[str]:
    from ggk.refdata import register

    everyone = sorted(register().all(), key=lambda g: g.inwoners)
    if n >= len(everyone):
        return [g.code for g in everyone]
    step = len(everyone) / n
    return [everyone[int(i * step + step / 2)].code for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--sample", type=int, default=342,
                        help="municipalities in the period run (342 = all)")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--mirror-workers", type=int, default=2,
                        help="worker processes for spiegelrapporten (0: in the station process)")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    from ggk.refdata import register

    all_codes = [g.code for g in register().all()]
    period_codes = sample_codes(args.sample)
    size_codes = [c for c in all_codes if c not in period_codes][: len(sizes)] \
        if args.sample < 342 else []
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ggk-bench-station-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        print("generating files ...", flush=True)
        # sizes: municipalities outside the period sample; with the full period the size runs
        # go first and the period run's delivery of those municipalities is a correction.
        size_targets = size_codes or all_codes[: len(sizes)]
        size_inputs = [(code, *basis_file(code, n)) for code, n in zip(size_targets, sizes,
                                                                         strict=True)]
        period_inputs = [(code, *basis_file(code, None)) for code in period_codes]
        generation = time.perf_counter() - t0
        print(f"generated in {generation:.0f} s; starting hub + station", flush=True)
        everyone = sorted(set(size_targets) | set(period_codes))
        clients, cbs_oin, close, station = make_world(tmp, everyone, args.mirror_workers)
        cpu_start = _cpu()
        try:
            lines.append("| file rows | send -> report received | verdict |")
            lines.append("|---|---|---|")
            size_results = []
            for code, path, rows in size_inputs:
                seconds, verdict = deliver_and_wait(clients[code], cbs_oin, code, path)
                size_results.append((rows, seconds))
                print(f"{rows:>8} rows: {seconds:.2f} s ({verdict})", flush=True)
                lines.append(f"| {rows:,} | {seconds:.2f} s | {verdict} |")
            print(f"period: {len(period_inputs)} municipalities, {args.senders} senders",
                  flush=True)
            started = time.perf_counter()
            with ThreadPoolExecutor(args.senders) as pool:
                latencies = list(pool.map(
                    lambda item: deliver_and_wait(clients[item[0]], cbs_oin, item[0], item[1])[0],
                    period_inputs))
            wall = time.perf_counter() - started
            while station.mirror is not None and station.pending_mirrors() \
                    and time.perf_counter() - started < 3600:
                time.sleep(0.5)
            mirrors_wall = time.perf_counter() - started
        finally:
            close()
        cpu_own, cpu_workers = (b - a for a, b in zip(cpu_start, _cpu(), strict=True))
    rows_sample = sum(r for _, _, r in period_inputs)
    line = (f"| {len(period_inputs)} municipalities, {rows_sample:,} rows, {args.senders} "
            f"senders | {wall:.0f} s wall | median latency {statistics.median(latencies):.1f} s, "
            f"max {max(latencies):.1f} s |")
    summary = ["", "| period run | figure | latency |", "|---|---|---|", line]
    if mirror_label().startswith("with"):
        summary.append(f"| ... until every spiegelrapport was sent | {mirrors_wall:.0f} s wall | "
                       f"(built after the technical reports; {args.mirror_workers} mirror "
                       "worker process(es)) |")
    summary.append(f"| CPU from hub start to close | {cpu_own:.0f} s bench process (hub + station "
                   f"+ senders), {cpu_workers:.0f} s mirror workers | "
                   f"load average at the end {os.getloadavg()[0]:.1f} |")
    if len(period_inputs) < 342:
        import numpy as np

        from ggk.definitions import shipped
        from ggk.testdata.generator import population_rows

        rng = np.random.default_rng(0)
        definition = shipped().for_period("gmsd", PERIOD)
        total_rows = sum(population_rows(definition, "basis", g.inwoners, PERIOD, rng)
                         for g in register().all())
        estimate = wall * total_rows / max(rows_sample, 1)
        summary.append(f"| EXTRAPOLATED to 342 ({total_rows:,} rows, by rows) | "
                       f"~{estimate:.0f} s | (sample of {len(period_inputs)}) |")
        if mirror_label().startswith("with"):
            per = mirrors_wall / len(period_inputs)
            summary.append(f"| EXTRAPOLATED spiegelrapporten for 342 (by count) | "
                           f"~{per * 342:.0f} s | ({per:.1f} s per report in the sample) |")
    lines += summary
    print("\n".join(lines))
    if not args.no_record:
        record(lines, " ".join(sys.argv[1:]))


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its ended child processes."""
    own, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                     resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def validator_label() -> str:
    from ggk.validation import validate_file

    if validate_file.__module__.startswith("ggk.validation"):
        return "validator: ggk.validation"
    return (f"validator: STAND-IN `{validate_file.__module__}` (elfproef only; ggk.validation had "
            "not landed): these figures are the station + hub overhead without the real checks")


def mirror_label() -> str:
    from ggk.station.mirror_hook import default_mirror_hook

    return "with the spiegelrapport" if default_mirror_hook() else \
        "no mirror report (ggk.mirror not present)"


def record(lines: list[str], argv: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = f"python bench/station.py {argv}".rstrip()
    block = [f"### {stamp}, `{command}`",
             "", f"{platform.processor() or platform.machine()}, 2 cores shared (load average "
             f"{os.getloadavg()[0]:.1f} when recorded); hub + station "
             f"+ municipalities in one process, SQLite, loopback TLS; {mirror_label()}; "
             f"{validator_label()}.", "", *lines, ""]
    text = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if "\n## station\n" not in text:
        text = text.rstrip("\n") + "\n\n## station\n\n"
    head, _, tail = text.partition("\n## station\n")
    # insert at the end of the station section (before the next "## " section, if any)
    rest = tail.split("\n## ", 1)
    earlier = rest[0].strip("\n")
    section = (earlier + "\n\n" if earlier else "") + "\n".join(block) + "\n"
    after = "\n## " + rest[1] if len(rest) > 1 else ""
    text = head + "\n## station\n\n" + section + after
    RESULTS.write_text(text, "utf-8")


if __name__ == "__main__":
    main()

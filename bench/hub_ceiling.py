"""What a Python TLS server can sink on this machine, without the hub: the ceiling for issue 3.

Run: `.venv/bin/python bench/hub_ceiling.py [--size-mb 1024] [--rounds 3] [--no-results]`.

A minimal receiver, no HTTP framework: uvloop TLS decrypting into one reused buffer
(`asyncio.BufferedProtocol`, as the hub's protocol does), headers parsed by hand, the body copied
once into page-aligned 4 MiB blocks (up to 3 in flight), then per block, on threads of its own,
what the hub must do with an attachment: sha256 it and write it with O_DIRECT. A minimal sender:
one blocking TLS socket, the file read in 4 MiB blocks. Variants, each against a fresh receiver:

- `receive only`: the blocks are dropped (TLS + copy: the cost of receiving in Python);
- `+ O_DIRECT write`;
- `+ sha256` (no write);
- `+ sha256 + O_DIRECT write` (two threads): the least the hub has to do.

Side by side with curl -> nginx (the floor of bench/hub.py), taking turns over `--rounds` rounds,
medians reported. If even the last variant stays under 70% of the floor, no arrangement of the
hub's Python code reaches issue 3's upload goal on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import datetime as dt
import hashlib
import mmap
import os
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub import OUT, RESULTS, NginxFloor, curl, free_port, make_file, make_pki, wait_for_port  # noqa: E402

BLOCK = 4 * 1024 * 1024
DEPTH = 3
VARIANTS = {
    "receive only": (),
    "+ O_DIRECT write": ("write",),
    "+ sha256": ("hash",),
    "+ sha256 + O_DIRECT write": ("hash", "write"),
}


class Receiver(asyncio.BufferedProtocol):
    """One PATCH-like request per connection: `Content-Length` bytes, answered with 204."""

    def __init__(self, work: tuple[str, ...], target: Path) -> None:
        self.work = work
        self.read_buffer = memoryview(bytearray(512 * 1024))
        self.head = b""
        self.remaining: int | None = None
        self.blocks = [mmap.mmap(-1, BLOCK) for _ in range(DEPTH + 1)]
        self.current = self.fill = self.position = 0
        self.jobs: collections.deque[concurrent.futures.Future[object]] = collections.deque()
        self.hasher = concurrent.futures.ThreadPoolExecutor(1)
        self.writer = concurrent.futures.ThreadPoolExecutor(1)
        self.digest = hashlib.sha256()
        self.fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o600)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        data = self.read_buffer[:nbytes]
        if self.remaining is None:
            self.head += bytes(data)
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.head[:end].decode("latin-1").split("\r\n")
            self.remaining = int(
                next(v for k, _, v in (x.partition(":") for x in lines[1:])
                     if k.lower() == "content-length"))  # fmt: skip
            self._feed(memoryview(self.head[end + 4 :]))
        else:
            self._feed(data)

    def _feed(self, view: memoryview) -> None:
        assert self.remaining is not None
        while view:
            n = min(BLOCK - self.fill, len(view))
            self.blocks[self.current][self.fill : self.fill + n] = view[:n]
            self.fill += n
            self.remaining -= n
            view = view[n:]
            if self.fill == BLOCK:
                self._hand_over()
        if self.remaining == 0:
            if self.fill:
                self._hand_over()  # the test file is a whole number of blocks
            while self.jobs:
                self.jobs.popleft().result()
            self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")  # type: ignore[attr-defined]

    def _hand_over(self) -> None:
        while len(self.jobs) >= 2 * DEPTH:
            self.jobs.popleft().result()
        block, length, position = self.blocks[self.current], self.fill, self.position
        if "hash" in self.work:
            self.jobs.append(self.hasher.submit(self.digest.update, memoryview(block)[:length]))
        if "write" in self.work:
            self.jobs.append(
                self.writer.submit(os.pwrite, self.fd, memoryview(block)[:length], position)
            )
        self.position += length
        self.fill = 0
        self.current = (self.current + 1) % len(self.blocks)


def serve(cert: str, port: int, work: str, target: str) -> None:
    import uvloop

    async def main() -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: Receiver(tuple(filter(None, work.split(","))), Path(target)),
            "127.0.0.1", port, ssl=context)  # fmt: skip
        await server.serve_forever()

    uvloop.install()
    asyncio.run(main())


def send(port: int, ca: Path, path: Path) -> tuple[float, float]:
    """Seconds and sender CPU seconds for one upload of `path`."""
    size = path.stat().st_size
    context = ssl.create_default_context(cafile=str(ca))
    block = memoryview(bytearray(BLOCK))
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        open(path, "rb", buffering=0) as source,
    ):
        tls.sendall(f"PATCH /x HTTP/1.1\r\nContent-Length: {size}\r\n\r\n".encode())
        while n := source.readinto(block):
            tls.sendall(block[:n])
        if not tls.recv(64).startswith(b"HTTP/1.1 204"):
            raise RuntimeError("the receiver did not answer 204")
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return seconds, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-results", action="store_true")
    parser.add_argument("--serve", nargs=4, help=argparse.SUPPRESS)  # the receiver process
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve[:1], int(args.serve[1]), *args.serve[2:])
        return 0
    run_dir = OUT / f"ceiling-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    big = OUT / f"hub-payload-{args.size_mb}mb.bin"
    make_file(big, args.size_mb)
    mb = big.stat().st_size / 1e6
    rates: dict[str, list[float]] = {name: [] for name in (*VARIANTS, "floor: curl -T -> nginx")}
    sender_cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
    try:
        pki = make_pki(run_dir / "pki")
        floor = NginxFloor(run_dir / "nginx", pki.server).start(big)
        try:
            for number in range(1, args.rounds + 1):
                for name, work in VARIANTS.items():
                    port = free_port()
                    target = run_dir / "received.bin"
                    receiver = subprocess.Popen(
                        [sys.executable, __file__, "--serve", str(pki.server), str(port),
                         ",".join(work), str(target)])  # fmt: skip
                    try:
                        wait_for_port(port)
                        seconds, cpu = send(port, pki.ca, big)
                    finally:
                        receiver.terminate()
                        receiver.wait(timeout=15)
                        target.unlink(missing_ok=True)
                    rates[name].append(mb / seconds)
                    sender_cpu[name].append(cpu)
                seconds = curl("--cacert", str(pki.ca), "-T", str(big),
                               f"{floor.url}/upload/{big.name}")  # fmt: skip
                (floor.dir / "www" / "upload" / big.name).unlink()
                rates["floor: curl -T -> nginx"].append(mb / seconds)
                figures = ", ".join(f"{k} {v[-1]:,.0f}" for k, v in rates.items())
                print(f"round {number}: {figures}")
        finally:
            floor.stop()
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    floor_rate = statistics.median(rates["floor: curl -T -> nginx"])
    rows = []
    for name, values in rates.items():
        median = statistics.median(values)
        note = f"median of {len(values)}, range {min(values):,.0f}-{max(values):,.0f}"
        if name in sender_cpu:
            note += (f"; {median / floor_rate:.0%} of the floor; sender "
                     f"{statistics.median(sender_cpu[name]):.2f} CPU s")  # fmt: skip
        rows.append((name, f"{median:,.0f} MB/s", note))
    for row in rows:
        print(" | ".join(row))
    if not args.no_results:
        record(args, rows)
    return 0


def record(args: argparse.Namespace, rows: list[tuple[str, str, str]]) -> None:
    command = f"python bench/hub_ceiling.py --size-mb {args.size_mb} --rounds {args.rounds}"
    block = [
        f"\n### {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, `{command}` "
        f"({os.cpu_count()} cores, loopback, load {os.getloadavg()[0]:.1f} at the end)\n",
        "| receiver (Python, uvloop TLS, no framework) | upload | note |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
    ]
    text = RESULTS.read_text(encoding="utf-8")
    heading = "\n## hub ceiling\n"
    if heading not in text:
        intro = (
            "\n`bench/hub_ceiling.py`: what a minimal Python TLS receiver sinks on this machine "
            "with and without the work the hub must do per byte (sha256, O_DIRECT write); the "
            "ceiling for issue 3's upload goal. See its docstring.\n"
        )
        start = text.index("\n## station\n")
        text = text[:start] + heading + intro + text[start:]
    start = text.index(heading) + len(heading)
    following = text.find("\n## ", start)
    end = len(text) if following == -1 else following
    text = text[:end].rstrip("\n") + "\n" + "\n".join(block) + "\n" + text[end:]
    RESULTS.write_text(text, encoding="utf-8")
    print(f"figures appended to {RESULTS} under ## hub ceiling")


if __name__ == "__main__":
    sys.exit(main())

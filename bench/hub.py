"""Hub benchmark: small messages per second end to end, large-file MB/s against a curl floor.

Run: `.venv/bin/python bench/hub.py [--size-mb 1024] [--messages 2000] [--no-results]`
(`make bench` runs it with the defaults). Everything happens on loopback with TLS:

1. a fresh hub (`ggk hub serve`, embedded SQLite + local file store) in its own process, with a
   test CA and two parties (a gemeente and CBS);
2. small messages: the gemeente sends N metadata-only messages (4 sender threads, one request
   per message) while CBS long-polls its inbox and acknowledges each page it gets with one
   `ack_many` request (every message still gets its own state change, audit entry and receipt
   event); messages/s = N / wall time until the last ack;
3. one file of `--size-mb` MiB: upload with `HubClient.send` (tus, 32 MiB chunks, no per-chunk
   checksum: the hub checks the whole file's sha256) and download with `HubClient.download`
   (Range-capable stream, sha256 verified); hashing the file before the upload is timed
   separately;
4. the floor: the same file over plain HTTPS (server certificate only) by curl against a
   temporary nginx on a loopback port (PUT via the dav module, GET as a static file);
   3 and 4 take turns for `--rounds` rounds (default 5) and the medians are reported (see
   `transfer_rounds` for why: the VM's page-cache cost drifts);
5. the hub process's peak RSS, sampled every 50 ms (it must stay flat however large the file).

Temporary files live in bench/out (gitignored). Figures go to bench/RESULTS.md under `## hub`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
GGK = ROOT / ".venv" / "bin" / "ggk"
RESULTS = ROOT / "bench" / "RESULTS.md"
MIB = 1024 * 1024
console = Console()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def ggk(*args: str | Path) -> str:
    result = subprocess.run(
        [str(GGK), *map(str, args)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"ggk {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result.stdout


class PeakRss:
    """Samples the resident set size of a process (and its children) in a background thread."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        processes = [self.process, *self.process.children(recursive=True)]
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(self.interval)

    def reset(self) -> None:
        self.peak = self._sample()

    def start(self) -> PeakRss:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Pki:
    folder: Path
    ca: Path
    server: Path
    gemeente: Path
    cbs: Path
    gemeente_oin: str = "00000099000000000363"
    cbs_oin: str = "00000099000000000001"


def make_pki(folder: Path) -> Pki:
    """The TEST PKI of ggk.world: a CA, the hub's certificate, a gemeente and CBS."""
    from ggk.world import build_pki, cbs_party, gemeente_party

    world = build_pki(folder, [
        gemeente_party("GM0363", "gemeente", organisation="Gemeente Amsterdam"), cbs_party()])
    return Pki(folder, world.ca, world.server_pem, world.pem["gemeente"], world.pem["cbs"],
               world.oin["gemeente"], world.oin["cbs"])


class HubProcess:
    """`ggk hub serve` on a loopback port, embedded SQLite, in its own process group."""

    def __init__(self, data_dir: Path, pki: Pki) -> None:
        self.data_dir = data_dir
        self.pki = pki
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "hub.log"

    def start(self) -> HubProcess:
        d = self.data_dir
        d.mkdir(parents=True, exist_ok=True)
        common = ["--data-dir", d]
        ggk("hub", "migrate", *common)
        ggk("party", "add", *common, "--cert", self.pki.gemeente, "--role", "gemeente")
        ggk("party", "add", *common, "--cert", self.pki.cbs, "--role", "cbs")
        args = [
            str(GGK), "hub", "serve", *map(str, common), "--ca", str(self.pki.ca),
            "--cert", str(self.pki.server), "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "warning",
        ]  # fmt: skip
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


NGINX_CONF = """\
{user}worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    sendfile off;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {cert};
        ssl_protocols TLSv1.2 TLSv1.3;
        root {dir}/www;
        client_max_body_size 0;
        location /upload/ {{
            dav_methods PUT;
            create_full_put_path on;
        }}
    }}
}}
"""


class NginxFloor:
    """A temporary nginx with TLS on loopback: the floor curl measures against."""

    def __init__(self, folder: Path, cert: Path) -> None:
        self.dir = folder
        self.cert = cert
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, served_file: Path) -> NginxFloor:
        if self.dir.exists():
            shutil.rmtree(self.dir)
        for sub in ("www/upload", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.dir / sub).mkdir(parents=True)
        os.link(served_file, self.dir / "www" / served_file.name)
        conf = self.dir / "nginx.conf"
        # as root, nginx workers would drop to `nobody` and could not write the upload here
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf.write_text(NGINX_CONF.format(user=user, dir=self.dir, port=self.port, cert=self.cert))
        self.process = subprocess.Popen(
            ["nginx", "-c", str(conf), "-p", str(self.dir), "-e", str(self.dir / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    def errors(self) -> str:
        log = self.dir / "error.log"
        return log.read_text()[-2000:] if log.exists() else ""


def curl(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run(["curl", "-sS", "--fail", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


@dataclass
class Measured:
    seconds: float
    hub_cpu: float  # CPU seconds of the hub process during the phase
    client_cpu: float  # CPU seconds of this (client) process during the phase

    def note(self) -> str:
        return (
            f"CPU s: hub {self.hub_cpu:.1f}, client {self.client_cpu:.1f}, wall {self.seconds:.1f}"
        )


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def measured(action: Callable[[], object], hub: psutil.Process) -> Measured:
    me = psutil.Process()
    hub_before, me_before, started = _cpu(hub), _cpu(me), time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    return Measured(seconds, _cpu(hub) - hub_before, _cpu(me) - me_before)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def make_file(path: Path, size_mb: int) -> None:
    if path.exists() and path.stat().st_size == size_mb * MIB:
        return
    with open(path, "wb") as handle:
        for _ in range(size_mb):
            handle.write(os.urandom(MIB))


@dataclass
class Figures:
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, what: str, value: str, note: str = "") -> None:
        self.rows.append((what, value, note))


def exchange_small_messages(send_urls: list[str], receive_url: str, pki: Pki, count: int) -> int:
    """4 sender threads (one POST per message, spread over `send_urls`) and one receiver that
    long-polls `receive_url` and acknowledges each page with one `ack_many`; returns the number
    of messages exchanged."""
    from ggk.client import HubClient

    senders = 4
    per_sender = count // senders
    count = per_sender * senders
    acked: list[str] = []
    errors: list[BaseException] = []

    def send_some(url: str) -> None:
        try:
            with HubClient(url, pki.gemeente, pki.ca) as client:
                for i in range(per_sender):
                    client.send(pki.cbs_oin, "bench.small", {"i": i})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def receive_all() -> None:
        try:
            with HubClient(receive_url, pki.cbs, pki.ca) as client:
                cursor = None
                while len(acked) < count and not errors:
                    page = client.mailbox(after=cursor, wait=5, type="bench.small")
                    cursor = page.cursor if page.cursor is not None else cursor
                    if page.messages:  # a processed page is acknowledged with one request
                        done = client.ack_many([message.id for message in page.messages])
                        acked.extend(message.id for message in done)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=send_some, args=(send_urls[i % len(send_urls)],))
               for i in range(senders)]
    threads.append(threading.Thread(target=receive_all))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return count


def bench_small_messages(
    hub_url: str, pki: Pki, count: int, figures: Figures, hub_process: psutil.Process
) -> float:
    exchanged: list[int] = []
    phase = measured(lambda: exchanged.append(
        exchange_small_messages([hub_url], hub_url, pki, count)), hub_process)
    count = exchanged[0]
    elapsed = phase.seconds
    rate = count / elapsed
    figures.add(
        "small messages, send -> receive -> ack",
        f"{rate:,.0f} msg/s",
        f"{count} messages, 4 sender threads (one POST each), 1 receiver (long poll, "
        f"ack_many per page) (goal >= 500); {phase.note()}",
    )
    return rate


@dataclass
class Round:
    up: Measured
    down: Measured
    floor_up: float
    floor_down: float


def transfer_rounds(
    hub: HubProcess, floor: NginxFloor, pki: Pki, big: Path, sha: str, rounds: int,
    run_dir: Path, rss: PeakRss,
) -> list[Round]:  # fmt: skip
    """ggk up, ggk down, curl up, curl down, `rounds` times in turn. On this VM the cost of
    writing to the page cache depends on whether the guest's free pages are still backed by the
    host (a page the guest gave back costs a host fault on first touch: measured 0.25 to 2.7 CPU s
    per GiB written), and that state drifts within a minute. Taking turns and reporting medians
    exposes both sides to the same drift; a single back-to-back run did not (the floor ran second
    and reused the pages the hub's run had just freed)."""
    from ggk.client import AttachmentSource, HubClient

    done: list[Round] = []
    ca = ["--cacert", str(pki.ca)]
    for number in range(1, rounds + 1):
        message_id = str(uuid.uuid4())
        source = AttachmentSource(big, name=big.name, sha256=sha)
        with HubClient(hub.url, pki.gemeente, pki.ca) as gemeente:
            send = partial(gemeente.send, pki.cbs_oin, "bench.large", {}, [source], id=message_id)
            up = measured(send, rss.process)
        down_file = run_dir / "download.bin"
        with HubClient(hub.url, pki.cbs, pki.ca) as cbs:
            down = measured(partial(cbs.download, message_id, big.name, down_file), rss.process)
            cbs.ack(message_id)
        down_file.unlink()
        floor_up = curl(*ca, "-T", str(big), f"{floor.url}/upload/{big.name}")
        (floor.dir / "www" / "upload" / big.name).unlink()
        floor_down_file = run_dir / "floor-download.bin"
        floor_down = curl(*ca, "-o", str(floor_down_file), f"{floor.url}/{big.name}")
        floor_down_file.unlink()
        mb = big.stat().st_size / 1e6
        console.print(
            f"round {number}: up {mb / up.seconds:,.0f} MB/s (floor {mb / floor_up:,.0f}), "
            f"down {mb / down.seconds:,.0f} MB/s (floor {mb / floor_down:,.0f})"
        )
        done.append(Round(up, down, floor_up, floor_down))
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the large file (MiB)")
    parser.add_argument("--messages", type=int, default=2000, help="number of small messages")
    parser.add_argument(
        "--rounds", type=int, default=5, help="large-file rounds (ggk and floor in turn); medians"
    )
    parser.add_argument("--no-results", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from ggk.client.tus_upload import file_sha256

    run_dir = OUT / f"hub-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    run_dir.mkdir(parents=True)
    figures = Figures()
    pki = make_pki(run_dir / "pki")
    big = OUT / f"hub-payload-{args.size_mb}mb.bin"
    console.print(f"[bold]hub benchmark[/] in {run_dir}, file {args.size_mb} MiB")
    make_file(big, args.size_mb)
    size = big.stat().st_size
    mb = size / 1e6

    hub = HubProcess(run_dir / "hub", pki).start()
    assert hub.process is not None
    rss = PeakRss(hub.process.pid).start()
    floor = NginxFloor(run_dir / "nginx", pki.server)
    try:
        rss_idle = rss._sample()
        bench_small_messages(hub.url, pki, args.messages, figures, rss.process)
        rss_after_small = rss.peak
        hash_seconds = timed(lambda: file_sha256(big))
        sha = file_sha256(big)
        rss.reset()
        floor.start(big)
        try:
            rounds = transfer_rounds(hub, floor, pki, big, sha, args.rounds, run_dir, rss)
        except subprocess.CalledProcessError:
            console.print(f"[red]nginx floor failed[/]:\n{floor.errors()}")
            raise
        rss_large = rss.peak
    finally:
        rss.stop()
        hub.stop()
        floor.stop()
        shutil.rmtree(floor.dir, ignore_errors=True)
        # the hub's store holds `rounds` copies of the file: never leave them behind
        shutil.rmtree(hub.data_dir, ignore_errors=True)

    def spread(rates: list[float]) -> str:
        return f"median of {len(rates)}, range {min(rates):,.0f}-{max(rates):,.0f}"

    def middle(items: list[Round], key: Callable[[Round], float]) -> Round:
        return sorted(items, key=key)[len(items) // 2]

    up_rates = [mb / r.up.seconds for r in rounds]
    down_rates = [mb / r.down.seconds for r in rounds]
    fup_rates = [mb / r.floor_up for r in rounds]
    fdown_rates = [mb / r.floor_down for r in rounds]
    up_rate, down_rate = statistics.median(up_rates), statistics.median(down_rates)
    fup, fdown = statistics.median(fup_rates), statistics.median(fdown_rates)
    up_note = middle(rounds, lambda r: r.up.seconds).up.note()
    down_note = middle(rounds, lambda r: r.down.seconds).down.note()
    figures.add(
        f"sha256 of the {args.size_mb} MiB file (before upload)", f"{mb / hash_seconds:,.0f} MB/s"
    )
    figures.add(
        "upload: ggk client -> hub (tus, TLS)",
        f"{up_rate:,.0f} MB/s",
        f"{up_rate / fup:.0%} of floor (goal 70%); {spread(up_rates)}; median round {up_note}",
    )
    figures.add("upload floor: curl -T -> nginx (TLS)", f"{fup:,.0f} MB/s", spread(fup_rates))
    figures.add(
        "download: hub -> ggk client (Range, TLS, sha256 verified)",
        f"{down_rate:,.0f} MB/s",
        f"{down_rate / fdown:.0%} of floor; {spread(down_rates)}; median round {down_note}",
    )
    figures.add("download floor: nginx -> curl (TLS)", f"{fdown:,.0f} MB/s", spread(fdown_rates))
    figures.add("hub RSS idle", f"{rss_idle / MIB:,.0f} MiB")
    figures.add("hub peak RSS during small messages", f"{rss_after_small / MIB:,.0f} MiB")
    figures.add(
        f"hub peak RSS during {args.rounds} x {args.size_mb} MiB up+down",
        f"{rss_large / MIB:,.0f} MiB",
    )

    table = Table(title=f"hub benchmark ({args.size_mb} MiB file, {args.messages} messages)")
    for column in ("measure", "figure", "note"):
        table.add_column(column)
    for row in figures.rows:
        table.add_row(*row)
    console.print(table)
    if not args.no_results:
        append_results(args, figures)
    shutil.rmtree(run_dir, ignore_errors=True)
    return 0


def append_results(args: argparse.Namespace, figures: Figures) -> None:
    command = (
        f"python bench/hub.py --size-mb {args.size_mb} --messages {args.messages} "
        f"--rounds {args.rounds}"
    )
    cpu = f"{os.cpu_count()} cores"
    lines = [
        f"\n### {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, `{command}` ({cpu}, loopback)\n",
        "| measure | figure | note |",
        "|---|---|---|",
        *(f"| {what} | {value} | {note} |" for what, value, note in figures.rows),
    ]
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if "\n## hub\n" not in text:
        text = text.rstrip("\n") + "\n\n## hub\n"
        RESULTS.write_text(text, encoding="utf-8")
        text = RESULTS.read_text(encoding="utf-8")
    # insert at the end of the `## hub` section (before the next `## ` heading, if any)
    start = text.index("\n## hub\n") + len("\n## hub\n")
    following = text.find("\n## ", start)
    end = len(text) if following == -1 else following
    block = "\n".join(lines) + "\n"
    RESULTS.write_text(text[:end].rstrip("\n") + "\n" + block + text[end:], encoding="utf-8")
    console.print(f"figures appended to {RESULTS} under ## hub")


if __name__ == "__main__":
    sys.exit(main())

"""Fault injection (issue 10): kill the station, a mirror worker process or the hub at every crash
point of the station, restart what died, and prove that every delivery gets exactly one technisch
controlerapport and one spiegelrapport in the municipality's mailbox, that the station records
every delivery once, and that the hub's message states agree.

The crash points are the `checkpoint("<name>")` calls in the code (ggk.station.checkpoints): this
suite finds them in the source, so a new checkpoint is covered at once, and a checkpoint that is
never reached fails the suite. Real processes throughout: `ggk hub serve` (uvicorn, TLS) and
`ggk station run`, on SQLite and PostgreSQL. One hub and one station database per database; each
crash is one new delivery (alternating between two gemeenten, so later ones are corrections).
To keep the run short, each (checkpoint, victim) pair runs on one of the two databases
(`crash_plan`), and every checkpoint runs on both.
"""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

import ggk
from ggk.client import HubClient, Message
from ggk.client.interfaces import ProgressCallback
from ggk.client.tus_upload import RetryPolicy
from ggk.conversation import AanleveringMetadata, Kind, kind_of, message_type
from ggk.definitions import shipped
from ggk.station import tables as t
from ggk.station.checkpoints import CHECKPOINT_ENV
from tests.hub.conftest import HubPki, register_parties
from tests.hub.test_crash import HubProcess
from tests.station.conftest import PERIOD, STATISTIC, gen

GGK = str(Path(sys.executable).parent / "ggk")
ANNOUNCED = "ggk-station-checkpoint"
GEMEENTEN = {"gemeente_a": "GM0363", "gemeente_b": "GM0599"}


def checkpoint_names() -> list[str]:
    """Every `checkpoint("<name>")` call in the ggk package, in source order."""
    names: list[str] = []
    for path in sorted(Path(ggk.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "checkpoint" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                names.append(str(node.args[0].value))
    return list(dict.fromkeys(names))


CHECKPOINTS = checkpoint_names()


def test_the_checkpoints_are_found_in_the_code() -> None:
    """The suite below is only as good as this list: it must see every crash point."""
    assert {"download", "decided", "replied", "mirror-built", "mirror-ready",
            "mirror-sent"} <= set(CHECKPOINTS)


class Output:
    """The merged stdout/stderr of a station process, read by a thread; lines can be awaited."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, *markers: str, since: int = 0, timeout: float = 120) -> str:
        """The first line (from line `since` on) holding one of `markers` (case-insensitive);
        fails the test when none comes in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[since:]:
                    if any(m.lower() in line.lower() for m in markers):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    self.process.kill()
                    pytest.fail(f"never saw {markers!r}:\n{''.join(self.lines)[-4000:]}")
                self._changed.wait(min(left, 1))


@dataclass
class Chain:
    """A hub process, a station database and the two gemeenten's clients."""

    hub: HubProcess
    pki: HubPki
    database_url: str
    tmp: Path
    clients: dict[str, HubClient]
    sent: dict[str, list[Message]] = field(default_factory=dict)
    _count: int = 0

    def station(self, *extra: str, env: dict[str, str] | None = None) -> list[str]:
        return [GGK, "station", "run", "--hub", self.hub.url, "--cert", str(self.pki.pem["cbs"]),
                "--ca", str(self.pki.ca), "--database-url", self.database_url,
                "--store-dir", str(self.tmp / "station-store"),
                "--pseudonym-key", str(self.tmp / "keys" / "pseudonym.key"),
                "--now", "2026-09-01", "--wait", "1", "--spiegelrapport", "--mirror-workers", "1",
                *extra]

    def start_station(self, checkpoint: str | None = None) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if k != CHECKPOINT_ENV}
        if checkpoint is not None:
            env[CHECKPOINT_ENV] = checkpoint
        return subprocess.Popen(self.station(), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def finish_with_a_restart(self) -> None:
        """A fresh `ggk station run --once`: handles what is left and sends pending mirrors."""
        env = {k: v for k, v in os.environ.items() if k != CHECKPOINT_ENV}
        done = subprocess.run(self.station("--once"), env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    def deliver(self, client: HubClient | None = None,
                progress: ProgressCallback | None = None) -> Message:
        self._count += 1
        name = "gemeente_a" if self._count % 2 else "gemeente_b"
        path = gen(shipped().for_period(STATISTIC, PERIOD), self.tmp, GEMEENTEN[name], 200,
                   seed=self._count, name=f"{name}-{self._count}")
        metadata = AanleveringMetadata(STATISTIC, PERIOD, "basis", GEMEENTEN[name],
                                       path.name).as_metadata()
        message = (client or self.clients[name]).send(
            self.pki.oin["cbs"], message_type(STATISTIC, Kind.AANLEVERING), metadata, [path],
            progress=progress)
        self.sent.setdefault(name, []).append(message)
        return message

    def inbox(self, name: str) -> list[Message]:
        """Everything in the gemeente's inbox (the test never acknowledges: nothing hides)."""
        messages: list[Message] = []
        cursor: int | None = None
        while True:
            page = self.clients[name].mailbox(after=cursor, limit=100)
            messages += page.messages
            if not page.messages or page.cursor is None:
                return messages
            cursor = page.cursor

    def assert_consistent(self, where: str) -> None:
        """Exactly one report and one spiegelrapport per delivery, as each gemeente sees them;
        the station recorded each delivery once; every message on the hub is complete."""
        all_sent = [m for messages in self.sent.values() for m in messages]
        for name, deliveries in self.sent.items():
            inbox = self.inbox(name)
            for delivery in deliveries:
                kinds = [kind_of(m.type) for m in inbox if m.in_reply_to == delivery.id]
                assert kinds.count(Kind.TECHNISCH_CONTROLERAPPORT) == 1, (where, delivery.id,
                                                                          kinds)
                assert kinds.count(Kind.SPIEGELRAPPORT) == 1, (where, delivery.id, kinds)
                assert kinds == [Kind.TECHNISCH_CONTROLERAPPORT, Kind.SPIEGELRAPPORT], (
                    where, delivery.id, kinds)  # and in that order
        cbs = HubClient(self.hub.url, cert=self.pki.pem["cbs"], ca=self.pki.ca)
        with cbs:
            states = {m.id: cbs.message(m.id).state for m in all_sent}
            assert set(states.values()) == {"acknowledged"}, (where, states)
            outbox = cbs.mailbox(box="outbox", limit=1000).messages
            assert {m.state for m in outbox} == {"available"}, (where, outbox)
            assert len(outbox) == 2 * len(all_sent), (where, len(outbox))
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.select(t.deliveries.c.message_id,
                                              t.deliveries.c.gemeente,
                                              t.deliveries.c.version)).all()
                acked = conn.execute(sa.select(t.processed_messages.c.message_id).where(
                    t.processed_messages.c.acked_at.is_not(None))).scalars().all()
        finally:
            engine.dispose()
        assert sorted(r.message_id for r in rows) == sorted(m.id for m in all_sent), where
        for name, deliveries in self.sent.items():
            versions = sorted(r.version for r in rows if r.gemeente == GEMEENTEN[name])
            assert versions == list(range(1, len(deliveries) + 1)), (where, name, versions)
        assert set(acked) >= {m.id for m in all_sent}, where


@pytest.fixture
def chain(database_url: str, hub_pki: HubPki, tmp_path: Path) -> Iterator[Chain]:
    register_parties(database_url, hub_pki)
    hub = HubProcess(hub_pki, database_url, tmp_path / "hub-store", tmp_path / "hub.log")
    hub.start()
    clients = {name: HubClient(hub.url, cert=hub_pki.pem[name], ca=hub_pki.ca,
                               retry=RetryPolicy(retries=40, backoff=0.2, max_backoff=1.0))
               for name in GEMEENTEN}
    try:
        yield Chain(hub, hub_pki, database_url, tmp_path, clients)
    finally:
        for client in clients.values():
            client.close()
        if hub.process is not None and hub.process.poll() is None:
            hub.kill()


def _stop(process: subprocess.Popen[str]) -> None:
    """A clean stop (SIGTERM: the station gives up its claims), killed when it does not end."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _pid_of(line: str) -> int:
    return int(line.rsplit("pid=", 1)[1].split()[0])


def crash_plan(database: str) -> list[tuple[str, str]]:
    """(checkpoint, victim) pairs for one database: every checkpoint with both victims over the
    two databases, and every checkpoint on each database (alternating), so the suite runs each
    crash once instead of twice."""
    return [(name, victim) for i, name in enumerate(CHECKPOINTS)
            for flip, victim in enumerate(("process", "hub"))
            if (i + flip + (database == "postgresql")) % 2 == 0]


def test_the_plan_covers_every_checkpoint_with_both_victims_on_each_database() -> None:
    both = crash_plan("sqlite") + crash_plan("postgresql")
    assert sorted(both) == sorted((n, v) for n in CHECKPOINTS for v in ("process", "hub"))
    for database in ("sqlite", "postgresql"):
        assert [n for n, _ in crash_plan(database)] == CHECKPOINTS


def kill_the_process_at(chain: Chain, name: str) -> None:
    """SIGKILL whichever process reaches the checkpoint (the station, or its mirror worker)."""
    station = chain.start_station(f"{name}:120")
    output = Output(station)
    try:
        victim = _pid_of(output.wait_for(f"{ANNOUNCED} {name} "))
        os.kill(victim, signal.SIGKILL)
        if victim != station.pid:  # a mirror worker: the station lives on, and says why
            output.wait_for("BrokenProcessPool")
            assert station.poll() is None, "".join(output.lines)[-3000:]
    finally:
        _stop(station)


def kill_the_hub_at(chain: Chain, name: str) -> None:
    """SIGKILL the hub while the station (or its worker) waits at the checkpoint: before the
    report is sent (mid-send), after it (between store and ack), around the mirror's send; the
    waiting process carries on against a dead hub, then the hub comes back."""
    station = chain.start_station(f"{name}:3")
    output = Output(station)
    try:
        output.wait_for(f"{ANNOUNCED} {name} ")
        killed_at = len(output.lines)
        chain.hub.kill()
        output.wait_for("error", "failed", since=killed_at, timeout=60)  # the station says so
        chain.hub.start()
        assert station.poll() is None, "".join(output.lines)[-3000:]
    finally:
        _stop(station)


def kill_the_hub_mid_upload(chain: Chain) -> None:
    """SIGKILL the hub while a gemeente uploads; the client resumes when the hub is back."""
    big = HubClient(chain.hub.url, cert=chain.pki.pem["gemeente_a"], ca=chain.pki.ca,
                    chunk_size=4096, retry=RetryPolicy(retries=60, backoff=0.2, max_backoff=1.0))
    uploading, killed = threading.Event(), threading.Event()
    before = len(chain.sent.get("gemeente_a", []))

    def progress(_name: str, done: int, total: int) -> None:
        if 0 < done < total and not uploading.is_set():  # the first chunk is in: hold the rest
            uploading.set()
            killed.wait(60)

    with big:
        sender = threading.Thread(target=chain.deliver, args=(big, progress))
        sender.start()
        assert uploading.wait(60), "the upload never started"
        chain.hub.kill()
        killed.set()
        chain.hub.start()
        sender.join(120)
    assert len(chain.sent["gemeente_a"]) == before + 1, "the upload did not survive the restart"


@pytest.mark.slow
def test_kill_at_every_checkpoint(chain: Chain, database_url: str) -> None:
    """Each crash: a new delivery, the kill, a restart of what died, then every delivery so far
    checked. The hub is also killed once mid-upload (on SQLite)."""
    database = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    if database == "sqlite":
        kill_the_hub_mid_upload(chain)
        chain.finish_with_a_restart()
        chain.assert_consistent("hub killed mid-upload")
    for name, victim in crash_plan(database):
        chain.deliver()
        if victim == "process":
            kill_the_process_at(chain, name)
        else:
            kill_the_hub_at(chain, name)
        chain.finish_with_a_restart()
        chain.assert_consistent(f"{victim} killed at {name}")

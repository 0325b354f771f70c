"""Mirror jobs: the spiegelrapport of every accepted required dataset that has none yet.

The workflow state `goedgekeurd` of the required dataset is the durable to-do. A pass reads one
snapshot of the accepted data, claims each report just before it is built, builds it (in the
worker-process pool for the default hook), sends it and moves the workflow on. A failure is
logged and retried after 60 s; it never undoes the accepted delivery.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ggk.clock import Clock
from ggk.conversation import (
    ConversationId,
    Kind,
    SpiegelrapportMetadata,
    conversation_id,
    message_type,
)
from ggk.definitions import Definition, DefinitionRegistry, UnknownPeriod
from ggk.station import records
from ggk.station import tables as t
from ggk.station.accepted import AcceptedSnapshot, StationAcceptedData
from ggk.station.checkpoints import checkpoint
from ggk.station.claims import ClaimBook
from ggk.station.interfaces import StationEvents
from ggk.station.masking import masked
from ggk.station.mirror_hook import GgkMirror, MirrorHook, build_into
from ggk.station.outcomes import Reply, ReplyIds, ReplySender
from ggk.station.records import WorkflowKey
from ggk.station.settings import StationSettings
from ggk.station.storage import FileStore
from ggk.station.workflow import Event, State, decide

log = logging.getLogger("ggk.station")

RETRY_AFTER_FAILURE = 60.0  # seconds
RETRY_WHEN_BUSY = 5.0  # another station has it, or the hook made nothing
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def exit_with_parent(parent: int) -> None:
    """In a worker process: end when the station that started it dies, also by SIGKILL (a
    kill must never leave workers running). Linux sends SIGKILL at once (PR_SET_PDEATHSIG; it
    fires when the thread that started the worker ends, which the pool outlives only when it is
    idle); everywhere a watchdog thread checks the parent every half second."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed (errno %d); the watchdog remains",
                        ctypes.get_errno())
    if os.getppid() != parent:  # the station died before the line above
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="ggk-parent-watchdog", daemon=True).start()


def worker_init(nice: int, parent: int) -> None:
    """In a mirror worker process: exit with the station, lower its priority (so technical
    reports, made in the station's own process, go first on a busy machine) and load the heavy
    modules before the first report. Ctrl-C in a terminal reaches the whole process group: the
    station stops its workers itself."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(parent)
    if nice:
        try:
            os.nice(nice)
        except OSError:  # not allowed here: run at normal priority
            pass
    import vl_convert  # noqa: F401
    import weasyprint  # noqa: F401

    import ggk.mirror.render  # noqa: F401
    import ggk.mirror.report  # noqa: F401


def start_worker_pool(workers: int, nice: int) -> ProcessPoolExecutor:
    """Worker processes for mirror reports (spawned: no copy of the station's threads or
    connections), at a lower priority, ending when the station ends."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=worker_init, initargs=(nice, os.getpid()))


@dataclass
class MirrorJob:
    """One spiegelrapport being made: claimed, building (future) or ready in `directory`."""

    key: WorkflowKey
    version: int
    claim_id: str
    reply: Reply
    definition: Definition
    directory: Path
    future: Future[list[str]] | None = None
    ready: bool = False
    started: float = field(default_factory=time.monotonic)
    hold: ExitStack = field(default_factory=ExitStack)  # the claim's heartbeat while it runs


class MirrorJobs:
    def __init__(self, settings: StationSettings, engine: sa.Engine, store: FileStore,
                 clock: Clock, registry: DefinitionRegistry, sender: ReplySender,
                 ids: ReplyIds, claims: ClaimBook, hook: MirrorHook | None,
                 events: StationEvents) -> None:
        self.settings = settings
        self.engine = engine
        self.store = store
        self.clock = clock
        self.registry = registry
        self.sender = sender
        self.ids = ids
        self.claims = claims
        self.events = events
        self.hook = hook
        self._later: dict[tuple[WorkflowKey, int], float] = {}  # backoff per mirror
        self._pool: ProcessPoolExecutor | None = None  # created when first needed
        self._pool_lock = threading.Lock()

    def close(self) -> None:
        """Stop the worker processes (waits for the reports they are building)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def pending(self) -> list[tuple[WorkflowKey, int]]:
        """Accepted datasets (the required one and the others) without a spiegelrapport yet: the
        workflow state `goedgekeurd` is the durable to-do marker (after a first delivery or a
        correction). Test deliveries (their own track) get one too, built on their own data."""
        if self.hook is None:
            return []
        w = t.workflow
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(w.c.statistic, w.c.period, w.c.gemeente, w.c.dataset,
                                          w.c.accepted_version).where(
                w.c.state == State.GOEDGEKEURD.value, w.c.accepted_version.is_not(None)
            ).order_by(w.c.updated_at)).all()
        pending = []
        for stored, period, gemeente, dataset, version in rows:
            statistic, test = records.track_of(stored)
            try:
                definition = self.registry.for_period(statistic, period)
            except UnknownPeriod:
                continue
            key = WorkflowKey(statistic, period, gemeente, dataset, test)
            if self._later.get((key, version), 0) > time.monotonic():
                continue
            if dataset in definition.dataset_names:
                pending.append((key, version))
        return pending

    def send_pending(self, limit: int | None = None, stop: threading.Event | None = None) -> int:
        """Build and send the spiegelrapport for pending accepted deliveries; returns the
        number sent. Done after the technical reports, so a mirror never delays one.

        All reports of one call are built from one snapshot of the accepted data: when several
        acceptances of a period arrive in a burst, the period's shared figures (the national
        figure; peers' values are kept per gemeente) are computed once for all of them. With
        `mirror_workers` > 0 the default hook runs in worker processes (a few reports in flight);
        each is claimed just before it is built and sent as soon as it is done."""
        pending = self.pending()[:limit]
        if not pending or self.hook is None:
            return 0
        source = StationAcceptedData(self.engine, self.store).snapshot(
            sorted({key.statistic for key, _ in pending}
                   | {key.stored_statistic for key, _ in pending}))
        pool = self._worker_pool()
        in_flight: deque[MirrorJob] = deque()
        sent = 0
        for key, version in pending:
            if stop is not None and stop.is_set():
                break
            try:
                job = self._start(key, version, source, pool)
            except Exception as e:
                self._failed(key, version, e)
                continue
            if job is None:  # another station has it (or there is nothing to send): look later
                self._later[(key, version)] = time.monotonic() + RETRY_WHEN_BUSY
                continue
            in_flight.append(job)
            while len(in_flight) > (self.settings.mirror_workers if pool else 0):
                sent += self._finish(in_flight.popleft())
        while in_flight:
            sent += self._finish(in_flight.popleft())
        return sent

    def _worker_pool(self) -> ProcessPoolExecutor | None:
        """The worker processes for the default hook (spawned once, kept until close())."""
        if self.settings.mirror_workers <= 0 or not isinstance(self.hook, GgkMirror):
            return None
        with self._pool_lock:
            if self._pool is None:
                self._pool = start_worker_pool(self.settings.mirror_workers,
                                               self.settings.mirror_nice)
            return self._pool

    def _failed(self, key: WorkflowKey, version: int, e: BaseException) -> None:
        """Logged; the state stays goedgekeurd, so it is retried after 60 s."""
        self._later[(key, version)] = time.monotonic() + RETRY_AFTER_FAILURE
        log.error("spiegelrapport for %s %s failed (retry in 60 s): %s: %s",
                  key.gemeente, key.period, type(e).__name__, masked(str(e))[:500])

    def _start(self, key: WorkflowKey, version: int, source: AcceptedSnapshot,
               pool: ProcessPoolExecutor | None) -> MirrorJob | None:
        """Claim the mirror of this accepted version and start building it (in `pool` when
        given); None when it is not this station's to make."""
        assert self.hook is not None
        with self.engine.connect() as conn:
            delivery = records.accepted_delivery(conn, key, version)
            handled = None if delivery is None else records.processed(conn,
                                                                       delivery["message_id"])
        if delivery is None:
            return None
        if handled is not None and handled["acked_at"] is None:
            return None  # its technisch controlerapport is not sent yet: that one goes first
        delivery_id = delivery["message_id"]
        claim_id = f"spiegelrapport:{delivery_id}"
        with self.engine.begin() as conn:
            claim = self.claims.take(conn, claim_id)
            if claim is None:
                return None
        hold = ExitStack()  # a long build must not lose its claim: renewed until _finish
        hold.enter_context(self.claims.holding(claim))
        try:
            return self._begin(key, version, source, pool, delivery, claim_id, hold)
        except BaseException:
            hold.close()
            raise

    def _begin(self, key: WorkflowKey, version: int, source: AcceptedSnapshot,
               pool: ProcessPoolExecutor | None, delivery: dict[str, Any], claim_id: str,
               hold: ExitStack) -> MirrorJob:
        """The job of a claimed mirror: its files built before a crash, or being built now."""
        assert self.hook is not None
        delivery_id = delivery["message_id"]
        definition = self.registry.for_period(key.statistic, key.period)
        kind = message_type(definition.statistic, Kind.SPIEGELRAPPORT)
        spiegel = Reply(kind, self.ids(delivery_id, kind), delivery["sender"],
                        SpiegelrapportMetadata(key.statistic, key.period, key.gemeente,
                                               version, key.dataset,
                                               key.test or None).as_metadata(), delivery_id,
                        conversation_id(key.statistic, key.period, key.gemeente,
                                        ConversationId.SPIEGELRAPPORT))
        if key.test:  # its own figures from the test deliveries, never in anyone else's report
            source = source.with_test_data_of(key.statistic, key.stored_statistic, key.gemeente)
        directory = self.store.reply_dir(spiegel.id)
        job = MirrorJob(key, version, claim_id, spiegel, definition, directory, hold=hold)
        if any(directory.iterdir()):  # built before a crash: send the same files again
            job.ready = True
        elif pool is not None:
            job.future = pool.submit(build_into, self.hook, definition, key.period,
                                     key.gemeente, source, directory)
        else:
            job.ready = bool(build_into(self.hook, definition, key.period, key.gemeente,
                                        source, directory))
        return job

    def _finish(self, job: MirrorJob) -> int:
        """Wait for the job's files, send them, move the workflow on; 1 when sent."""
        key, version = job.key, job.version
        try:
            if job.future is not None:
                try:
                    job.ready = bool(job.future.result())
                except BrokenProcessPool:  # a worker died (e.g. killed): new workers next time
                    with self._pool_lock:
                        self._pool = None
                    raise
            if not job.ready:
                shutil.rmtree(job.directory, ignore_errors=True)
                self._later[(key, version)] = time.monotonic() + RETRY_WHEN_BUSY
                return 0
            spiegel = job.reply
            spiegel.directory = self.store.relative(job.directory)
            checkpoint("mirror-ready")
            self.sender.send([spiegel])
            checkpoint("mirror-sent")
            with self.engine.begin() as conn:
                self.claims.ensure_held(conn, job.claim_id)  # else ClaimLost: retried later
                now = self.clock.now()
                current = records.lock_record(conn, key, now)
                if current.state is State.GOEDGEKEURD and current.accepted_version == version:
                    after = decide(current, Event.SPIEGELRAPPORT,
                                   records.workflow_context(conn, job.definition, key, now))
                    records.save_record(conn, key, after, now)
                    records.write_audit(conn, now, "spiegelrapport", key=key,
                                        from_state=current.state, to_state=after.state,
                                        message_id=spiegel.id, detail=f"versie {version}")
                self.claims.finish(conn, job.claim_id)
        except Exception as e:
            self._failed(key, version, e)
            return 0
        finally:
            job.hold.close()
        log.info("spiegelrapport %s sent to %s for %s v%d", spiegel.id, key.gemeente,
                 key.period, version)
        self.events.mirror_sent(key.statistic, time.monotonic() - job.started)
        return 1

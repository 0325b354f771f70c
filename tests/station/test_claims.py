"""A restarted station does not wait out its own claims (issue 10 finding 10): a clean stop gives
them up, a killed instance's claims are given up by the next instance on the same host (the
SIGKILL case runs real processes in test_crash_and_concurrency.py), and a running instance's
claims are respected until their lease runs out."""

from __future__ import annotations

from pathlib import Path

import pytest

from ggk.station.claims import ClaimBook
from ggk.station.database import create_engine, migrate


@pytest.fixture
def engine(database_url: str):  # noqa: ANN201
    engine = create_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _book(engine, tmp_path: Path, worker: str) -> ClaimBook:  # noqa: ANN001
    book = ClaimBook(engine, worker, 300, tmp_path / "instances")
    book.start()
    return book


def _claims(book: ClaimBook, claim_id: str) -> bool:
    with book.engine.begin() as conn:
        return book.claim(conn, claim_id)


def test_claims_of_a_running_instance_wait_for_the_lease(engine, tmp_path: Path) -> None:  # noqa: ANN001
    first = _book(engine, tmp_path, "host:1:first")
    assert _claims(first, "m1") and _claims(first, "m1")  # its own claim: always
    second = _book(engine, tmp_path, "host:2:second")  # first still runs: nothing given up
    assert not _claims(second, "m1")
    with first.engine.begin() as conn:
        first.finish(conn, "m1")
    assert not _claims(second, "m1")  # done: nobody works on it again
    first.close()
    second.close()


def test_a_clean_stop_gives_the_claims_up(engine, tmp_path: Path) -> None:  # noqa: ANN001
    first = _book(engine, tmp_path, "host:1:first")
    assert _claims(first, "m2")
    first.close()
    first.close()  # twice is harmless
    restarted = _book(engine, tmp_path, "host:3:restarted")
    assert _claims(restarted, "m2")
    restarted.close()
    assert list((tmp_path / "instances").rglob("*.lock")) == []


def test_an_instance_that_is_gone_loses_its_claims_at_the_next_start(
        engine, tmp_path: Path) -> None:  # noqa: ANN001
    gone = _book(engine, tmp_path, "host:4:gone")
    assert _claims(gone, "m3")
    assert gone._lock is not None
    gone._lock.close()  # what the kernel does when the process dies: the flock is released
    gone._lock = None
    restarted = _book(engine, tmp_path, "host:5:restarted")
    assert _claims(restarted, "m3")
    assert [p.name for p in (restarted.directory).glob("*.lock")] == ["host_5_restarted.lock"]
    restarted.close()

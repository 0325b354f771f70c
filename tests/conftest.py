"""Shared fixtures: databases (SQLite and a fresh PostgreSQL database per test) and paths.

PostgreSQL: the server URL comes from GGK_TEST_POSTGRES_URL (set by the Makefile and .ci/run).
Outside CI a missing or unreachable server skips those tests; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.objectstorage import SeaweedFS

POSTGRES_URL_ENV = "GGK_TEST_POSTGRES_URL"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _postgres_server_url() -> str | None:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        if IN_CI:
            pytest.fail(f"{POSTGRES_URL_ENV} is not set in CI")
        return None
    return url


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """URL of a brand-new, empty PostgreSQL database, dropped afterwards (skips, outside CI,
    where PostgreSQL is absent)."""
    import sqlalchemy as sa

    server = _postgres_server_url()
    if server is None:
        pytest.skip(f"{POSTGRES_URL_ENV} not set (PostgreSQL tests skip only outside CI)")
    admin = sa.make_url(server)
    name = f"ggk_test_{uuid.uuid4().hex[:12]}"
    try:
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as e:
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL not reachable: {e}")
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a brand-new, empty PostgreSQL database, dropped after the test."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ggk.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests keep artifacts worth looking at (screenshots, sample reports)."""
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """A real S3 server (SeaweedFS `weed mini` on 127.0.0.1), one for the whole session."""
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.stop()

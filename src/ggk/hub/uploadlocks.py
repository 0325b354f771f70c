"""Who may write an upload right now, across hub processes.

The local folder keeps its `flock` on the attachment file (`ggk.hub.storage.FileStore`). With
PostgreSQL (several hub processes, maybe on several machines, maybe on object storage) a PATCH
also holds a PostgreSQL advisory lock named after the upload for as long as it writes. It is a
session lock on a connection of its own, not a row lock: a PATCH records its offset in
transactions of its own while it writes (every 64 MiB), and a row lock would end with the first
of them. PostgreSQL lets go of it when the holder's connection ends, so a hub that is killed
mid-upload does not block the resume on another node.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import sqlalchemy as sa

from ggk.hub.storage import UploadBusy

Release = Callable[[], None]

_TRY_LOCK = sa.text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = sa.text("SELECT pg_advisory_unlock(:key)")


def lock_key(upload_id: str) -> int:
    """A signed 64-bit key from the upload id (hex)."""
    value = int(upload_id[:16], 16)
    return value - 2**64 if value >= 2**63 else value


class ProcessUploadLocks:
    """One process (SQLite, embedded): a set of uploads being written."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._guard = threading.Lock()

    def acquire(self, upload_id: str) -> Release:
        """Hold the upload or raise UploadBusy; returns the function that lets go."""
        with self._guard:
            if upload_id in self._held:
                raise UploadBusy(upload_id)
            self._held.add(upload_id)

        def release() -> None:
            with self._guard:
                self._held.discard(upload_id)
        return release


class PostgresUploadLocks:
    """Every hub process on one PostgreSQL: `pg_try_advisory_lock` on a connection of its own."""

    def __init__(self, engine: sa.Engine) -> None:
        # connections of their own, outside the request pool: an upload holds one for as long
        # as it writes, and many uploads at once must not starve the requests
        self.engine = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)

    def acquire(self, upload_id: str) -> Release:
        """Hold the upload or raise UploadBusy; returns the function that lets go."""
        key = lock_key(upload_id)
        conn = self.engine.connect()
        try:
            held = bool(conn.execute(_TRY_LOCK, {"key": key}).scalar_one())
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not held:
            conn.close()
            raise UploadBusy(upload_id)

        def release() -> None:
            try:
                conn.execute(_UNLOCK, {"key": key})
                conn.commit()
            except sa.exc.DBAPIError:
                conn.invalidate()  # the session (and so its lock) ends with the connection
            finally:
                conn.close()
        return release


def upload_locks(engine: sa.Engine) -> ProcessUploadLocks | PostgresUploadLocks:
    return PostgresUploadLocks(engine) if engine.dialect.name == "postgresql" else \
        ProcessUploadLocks()

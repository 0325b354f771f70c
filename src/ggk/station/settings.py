"""Station configuration: one dataclass, filled by `ggk station run` flags or by embedding code."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# the object storage of every command that reads the station's files (`run` and `purge` also
# take them as flags), so that all of them find the raw files, Parquet and replies
S3_ENVIRONMENT = {"s3_endpoint_url": "GGK_STATION_S3_ENDPOINT",
                  "s3_bucket": "GGK_STATION_S3_BUCKET", "s3_region": "GGK_STATION_S3_REGION",
                  "s3_prefix": "GGK_STATION_S3_PREFIX"}


def s3_from_environment(given: dict[str, object]) -> dict[str, str]:
    """The S3 settings from GGK_STATION_S3_* that are not in `given` (set, non-empty)."""
    return {name: os.environ[variable] for name, variable in S3_ENVIRONMENT.items()
            if name not in given and os.environ.get(variable)}


@dataclass(slots=True)
class StationSettings:
    """Embedded: only `data_dir` (SQLite `station.sqlite3`, store `station-store/`, key file).
    Production: `database_url` (postgresql+psycopg://...) and `store_dir` shared by all stations,
    and `pseudonym_key` on a path outside the database (default: beside the store)."""

    data_dir: Path | None = None
    database_url: str | None = None
    store_dir: Path | None = None
    pseudonym_key: Path | None = None
    # Several stations on several machines: raw files, accepted Parquet and reply files in
    # S3-compatible object storage (credentials from the usual AWS variables); `store_dir` stays
    # each station's own local folder (downloads in progress, replies being written, claim lock
    # files).
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_prefix: str = "station/"
    retention_days: int = 30  # raw delivered files are purged after this many days
    claim_lease_seconds: float = 300.0  # a claim of a dead station may be taken over after this
    poll_wait: float = 10.0  # long-poll seconds per mailbox call
    rescan_seconds: float = 30.0  # re-read the whole inbox (claims of dead stations) this often
    worker_id: str = field(default_factory=_worker_id)
    # spiegelrapporten are built in this many worker processes (0: in the station's own process),
    # at this lower priority (nice), so they never hold the station's GIL or delay its replies.
    # Two: a report costs ~1.8 s CPU, so one worker alone needs ~10 min for 342 municipalities;
    # workers are started on demand (a quiet period runs one).
    mirror_workers: int = 2
    mirror_nice: int = 10
    # A message whose handling fails is tried again after retry_seconds, doubling per attempt
    # (at most an hour); after max_attempts (~1 h in all with the defaults) it is a dead letter.
    max_attempts: int = 8
    retry_seconds: float = 30.0
    # after a period's besluit deadline: publish its opted-in figures (ggk.publication) here
    publish_after_besluit: bool = True
    publication_dir: Path | None = None  # default: DATA_DIR/publicaties or beside the store

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        if self.data_dir is None:
            raise ValueError("give --data-dir (embedded SQLite) or --database-url")
        return f"sqlite:///{Path(self.data_dir) / 'station.sqlite3'}"

    def resolved_store_dir(self) -> Path:
        if self.store_dir is not None:
            return Path(self.store_dir)
        if self.data_dir is None:
            raise ValueError("give --store-dir with --database-url (or --data-dir)")
        return Path(self.data_dir) / "station-store"

    def resolved_publication_dir(self) -> Path:
        if self.publication_dir is not None:
            return Path(self.publication_dir)
        if self.data_dir is not None:
            return Path(self.data_dir) / "publicaties"
        return self.resolved_store_dir().parent / "publicaties"

    def resolved_key_path(self) -> Path:
        if self.pseudonym_key is not None:
            return Path(self.pseudonym_key)
        if self.data_dir is not None:
            return Path(self.data_dir) / "station-pseudonym.key"
        return self.resolved_store_dir().parent / "station-pseudonym.key"

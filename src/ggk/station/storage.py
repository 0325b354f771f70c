"""Files of the station: raw deliveries content-addressed by sha256 (deleted after the retention),
accepted data as Parquet (personal fields pseudonymised), and the reports that were sent.

Layout under the store directory:
  raw/<sha[:2]>/<sha256>                                  the file as delivered (temporary)
  accepted/<statistic>/<period>/<gemeente>/<dataset>/v<N>.parquet
  replies/<reply message id>/<attachment files>            what the station sent (resent on crash)
  replies/<reply message id>.<nonce>/                      the same, one folder per decision attempt
  incoming/<message id>/                                   partial downloads
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import polars as pl


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents, all owner-only) and make it owner-only (0700): files
    that arrive in it, also while they download, are not readable by other local users."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)
    os.chmod(path, 0o700)
    return path


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = private_dir(Path(root))

    # raw files -------------------------------------------------------------------------------
    def raw_path(self, sha256: str) -> Path:
        return self.root / "raw" / sha256[:2] / sha256

    def incoming_dir(self, message_id: str) -> Path:
        return private_dir(self.root / "incoming" / message_id)

    def keep_raw(self, downloaded: Path, sha256: str) -> Path:
        """Move a verified download into the content-addressed store (same content: kept once)."""
        target = self.raw_path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            downloaded.unlink(missing_ok=True)
        else:
            os.replace(downloaded, target)
            os.chmod(target, 0o600)
        return target

    def delete_raw(self, sha256: str) -> bool:
        path = self.raw_path(sha256)
        if path.exists():
            path.unlink()
            return True
        return False

    def clear_incoming(self, message_id: str) -> None:
        shutil.rmtree(self.root / "incoming" / message_id, ignore_errors=True)

    # accepted data ---------------------------------------------------------------------------
    def accepted_relpath(self, statistic: str, period: str, gemeente: str, dataset: str,
                         version: int) -> str:
        return f"accepted/{statistic}/{period}/{gemeente}/{dataset}/v{version}.parquet"

    def write_parquet(self, relpath: str, frame: pl.DataFrame) -> Path:
        target = self.root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".parquet.tmp")
        frame.write_parquet(tmp)
        os.replace(tmp, target)
        return target

    def read_parquet(self, relpath: str) -> pl.DataFrame:
        return pl.read_parquet(self.root / relpath)

    # replies ---------------------------------------------------------------------------------
    def reply_dir(self, reply_id: str) -> Path:
        path = self.root / "replies" / reply_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextlib.contextmanager
    def reply_attempt(self, reply_id: str) -> Iterator[Path]:
        """A new folder for one attempt at a reply's files (`replies/<id>.<nonce>`): two stations
        that decide the same message never write into each other's files; the attempt whose
        decision commits is the one its recorded path names. Removed when the block fails."""
        path = self.root / "replies" / f"{reply_id}.{uuid.uuid4().hex[:12]}"
        path.mkdir(parents=True)
        try:
            yield path
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise

    def relative(self, path: Path) -> str:
        return str(Path(path).relative_to(self.root))

    def absolute(self, relpath: str) -> Path:
        return self.root / relpath

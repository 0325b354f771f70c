"""Files of the station: raw deliveries content-addressed by sha256 (deleted after the retention),
accepted data as Parquet (personal fields pseudonymised), and the reports that were sent.

Layout under the store directory:
  raw/<sha[:2]>/<sha256>                                  the file as delivered (temporary)
  accepted/<statistic>/<period>/<gemeente>/<dataset>/v<N>.parquet
  replies/<reply message id>/<attachment files>            what the station sent (resent on crash)
  incoming/<message id>/                                   partial downloads
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import polars as pl


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    # raw files -------------------------------------------------------------------------------
    def raw_path(self, sha256: str) -> Path:
        return self.root / "raw" / sha256[:2] / sha256

    def incoming_dir(self, message_id: str) -> Path:
        path = self.root / "incoming" / message_id
        path.mkdir(parents=True, exist_ok=True)
        return path

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

    def reply_dir_path(self, reply_id: str) -> Path:
        """Where a reply's files are, without creating the folder (for readers)."""
        return self.root / "replies" / reply_id

    def relative(self, path: Path) -> str:
        return str(Path(path).relative_to(self.root))

    def absolute(self, relpath: str) -> Path:
        return self.root / relpath

"""Files of the station: raw deliveries content-addressed by sha256 (deleted after the retention),
accepted data as Parquet (personal fields pseudonymised), and the reports that were sent.

Layout under the store directory:
  raw/<sha[:2]>/<sha256>                                  the file as delivered (temporary)
  accepted/<statistic>/<period>/<gemeente>/<dataset>/v<N>.parquet
  replies/<reply message id>/<attachment files>            what the station sent (resent on crash)
  replies/<reply message id>.<nonce>/                      the same, one folder per decision attempt
  incoming/<message id>/                                   partial downloads
  outgoing/                                                replies being sent (object storage)

Raw files, accepted Parquet and reply files are objects (ggk.storage.objects): in the local
folder above by default, or, with `objects` given (S3-compatible object storage, `--s3-bucket`),
under the same keys in a bucket. The local folder then keeps only what is local by nature:
partial downloads, reply files being written (published to the bucket after the decision
commits) and the claim lock files. Accepted Parquet is written to the bucket as one object
before the decision's commit and read back as bytes (the mirror workers open the bucket
themselves from its `S3Location`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from ggk.station.settings import StationSettings
from ggk.storage.objects import FolderObjects, Objects, S3Location, S3Objects


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


def parquet_object(objects: Objects, key: str) -> pl.DataFrame:
    """An accepted Parquet object read from its bytes (no local copy)."""
    data = objects.get_bytes(key)
    if data is None:
        raise FileNotFoundError(f"accepted data {key} is not in the object storage")
    return pl.read_parquet(io.BytesIO(data))


class FileStore:
    """The station's files: `root` is the local folder; `objects` where raw files, accepted
    Parquet and replies are kept (default: the local folder itself, unchanged for `make demo`)."""

    def __init__(self, root: Path, objects: Objects | None = None) -> None:
        self.root = private_dir(Path(root))
        self.remote = objects is not None  # replies are written locally, then published
        self.objects: Objects = objects if objects is not None else FolderObjects(self.root)

    @classmethod
    def for_settings(cls, settings: StationSettings) -> FileStore:
        """The store the settings name: the local folder, with the bucket when one is given."""
        if settings.s3_bucket is None:
            return cls(settings.resolved_store_dir())
        objects = S3Objects.connect(settings.s3_endpoint_url, settings.s3_bucket,
                                    settings.s3_region, settings.s3_prefix)
        objects.check_bucket()
        return cls(settings.resolved_store_dir(), objects)

    # raw files -------------------------------------------------------------------------------
    @staticmethod
    def raw_key(sha256: str) -> str:
        return f"raw/{sha256[:2]}/{sha256}"

    def raw_path(self, sha256: str) -> Path:
        return self.root / self.raw_key(sha256)

    def incoming_dir(self, message_id: str) -> Path:
        return private_dir(self.root / "incoming" / message_id)

    def keep_raw(self, downloaded: Path, sha256: str) -> Path:
        """Keep a verified download in the content-addressed store (same content: kept once);
        the local file to validate. In object storage the download is copied there and stays
        in `incoming/` for the validator, which streams a local file (`clear_incoming` removes
        it once the message is handled)."""
        if self.remote:
            local = downloaded.with_name(f"{downloaded.name}.kept")
            os.link(downloaded, local)  # same folder: a second name, no copy
            self.objects.move_in(self.raw_key(sha256), downloaded)
            return local
        target = self.raw_path(sha256)
        if target.exists():
            downloaded.unlink(missing_ok=True)
        else:
            self.objects.move_in(self.raw_key(sha256), downloaded)
        return target

    def delete_raw(self, sha256: str) -> bool:
        return self.objects.delete(self.raw_key(sha256))

    def clear_incoming(self, message_id: str) -> None:
        shutil.rmtree(self.root / "incoming" / message_id, ignore_errors=True)

    # accepted data ---------------------------------------------------------------------------
    def accepted_relpath(self, statistic: str, period: str, gemeente: str, dataset: str,
                         version: int) -> str:
        return f"accepted/{statistic}/{period}/{gemeente}/{dataset}/v{version}.parquet"

    def write_parquet(self, relpath: str, frame: pl.DataFrame) -> None:
        if self.remote:  # one PUT: readers see the whole object or none
            buffer = io.BytesIO()
            frame.write_parquet(buffer)
            self.objects.put_bytes(relpath, buffer.getvalue())
            return
        target = self.root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".parquet.tmp")
        frame.write_parquet(tmp)
        os.replace(tmp, target)

    def read_parquet(self, relpath: str) -> pl.DataFrame:
        if not self.remote:
            return pl.read_parquet(self.root / relpath)
        return parquet_object(self.objects, relpath)

    def delete_parquet(self, relpath: str) -> bool:
        return self.objects.delete(relpath)

    def parquet_location(self, relpath: str) -> str:
        """How a reader elsewhere names an accepted file: its absolute path in the local folder,
        its key in object storage (read with `objects_location` and `parquet_object`)."""
        return relpath if self.remote else str(self.absolute(relpath))

    @property
    def objects_location(self) -> S3Location | None:
        """The picklable location of the object storage (None: the local folder)."""
        if not self.remote:
            return None
        location = self.objects.location if isinstance(self.objects, S3Objects) else None
        if location is None:
            raise ValueError("object storage without a location (make it with "
                             "S3Objects.connect): worker processes cannot open it")
        return location

    # replies ---------------------------------------------------------------------------------
    def reply_dir(self, reply_id: str) -> Path:
        path = self.root / "replies" / reply_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextlib.contextmanager
    def reply_attempt(self, reply_id: str) -> Iterator[Path]:
        """A new folder for one attempt at a reply's files (`replies/<id>.<nonce>`): two stations
        that decide the same message never write into each other's files; the attempt whose
        decision commits is the one its recorded path names. Removed when the block fails; in
        object storage published when it succeeds (after the decision's commit)."""
        path = self.root / "replies" / f"{reply_id}.{uuid.uuid4().hex[:12]}"
        path.mkdir(parents=True)
        try:
            yield path
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        self.publish_reply(path)

    def publish_reply(self, directory: Path) -> None:
        """Move a reply folder's files written locally to the object storage (nothing to do in
        the local folder: they are there). Also run before a reply is sent, so a folder left
        behind by a crash between the commit and the publication is published then."""
        if not self.remote or not directory.is_dir():
            return
        relpath = self.relative(directory)
        for file in sorted(p for p in directory.iterdir() if p.is_file()):
            self.objects.move_in(f"{relpath}/{file.name}", file)
        shutil.rmtree(directory, ignore_errors=True)

    @contextlib.contextmanager
    def reply_files(self, relpath: str) -> Iterator[list[Path]]:
        """A reply's files as local paths for the hub client, which streams attachments from
        disk: in object storage they are downloaded to a temporary folder for the block."""
        self.publish_reply(self.absolute(relpath))
        if not self.remote:
            folder = self.absolute(relpath)
            yield sorted(p for p in folder.iterdir() if p.is_file())
            return
        with tempfile.TemporaryDirectory(dir=private_dir(self.root / "outgoing")) as tmp:
            files = []
            for name in self.objects.names(relpath):
                if self.objects.download(f"{relpath}/{name}", Path(tmp) / name):
                    files.append(Path(tmp) / name)
            yield files

    def reply_file(self, relpath: str, name: str) -> bytes | None:
        """One file of a reply (a recorded folder), None when it is not there."""
        return self.objects.get_bytes(f"{relpath}/{name}")

    @staticmethod
    def reply_relpath(reply_id: str) -> str:
        """Where a spiegelrapport's files are (relative; the folder of a reply without attempts)."""
        return f"replies/{reply_id}"

    def relative(self, path: Path) -> str:
        return str(Path(path).relative_to(self.root))

    def absolute(self, relpath: str) -> Path:
        return self.root / relpath

"""Whole objects under string keys (`a/b/c`): a local folder or an S3 bucket behind one protocol.

The station keeps its raw deliveries, accepted Parquet and reply files this way. Writes are
whole-object and atomic for readers (a temporary file renamed into place; a single S3 PUT), so a
reader sees an object complete or not at all.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from ggk.storage.s3 import missing, s3_client


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"bad object key {key!r}")
    return key


class Objects(Protocol):
    """Whole objects under keys; `prefix` arguments end with `/` (a folder)."""

    def move_in(self, key: str, source: Path) -> None:
        """Store the local file `source` as `key`; `source` is gone afterwards."""
        ...

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def get_bytes(self, key: str) -> bytes | None:
        """The object's bytes, None when there is none."""
        ...

    def download(self, key: str, target: Path) -> bool:
        """Copy the object to the local file `target`; False when there is none."""
        ...

    def delete(self, key: str) -> bool:
        """Remove the object; False when there was none."""
        ...

    def names(self, prefix: str) -> list[str]:
        """The names of the objects directly under `prefix`, sorted."""
        ...

    def newest_folder(self, start: str) -> str | None:
        """Of the folders whose key starts with `start`, the one written last (None: none)."""
        ...


class FolderObjects:
    """Objects as files under `root` (directories 0700, files 0600: they hold personal data)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def _parent(self, key: str) -> Path:
        target = self.path(key)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return target

    def move_in(self, key: str, source: Path) -> None:
        target = self._parent(key)
        if Path(source) != target:
            os.replace(source, target)
        os.chmod(target, 0o600)

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self._parent(key)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)

    def get_bytes(self, key: str) -> bytes | None:
        path = self.path(key)
        return path.read_bytes() if path.is_file() else None

    def download(self, key: str, target: Path) -> bool:
        data = self.get_bytes(key)
        if data is None:
            return False
        Path(target).write_bytes(data)
        return True

    def delete(self, key: str) -> bool:
        path = self.path(key)
        if path.is_file():
            path.unlink()
            return True
        return False

    def names(self, prefix: str) -> list[str]:
        folder = self.path(prefix.rstrip("/"))
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_file())

    def newest_folder(self, start: str) -> str | None:
        parent, _, stem = start.rpartition("/")
        found = sorted((p for p in self.path(parent).glob(f"{stem}*") if p.is_dir()),
                       key=lambda p: p.stat().st_mtime) if parent else []
        return f"{parent}/{found[-1].name}" if found else None


@dataclass(frozen=True)
class S3Location:
    """Where an S3Objects store is, without its client: picklable, so that worker processes
    (the station's mirror workers) open the same store (credentials from their environment)."""

    endpoint_url: str | None
    bucket: str
    region: str | None = None
    prefix: str = ""

    def open(self) -> S3Objects:
        """The store, one client per process and location (boto3 clients are not picklable)."""
        return _opened(self)


@functools.cache
def _opened(location: S3Location) -> S3Objects:
    return S3Objects.connect(location.endpoint_url, location.bucket, location.region,
                             location.prefix)


class S3Objects:
    """Objects in an S3 bucket under `prefix` (the same client recipe as the hub's S3Store).
    `location` is set when it was made by `connect` (what worker processes need to reopen it)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "",
                 location: S3Location | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.location = location

    @classmethod
    def connect(cls, endpoint_url: str | None, bucket: str, region: str | None = None,
                prefix: str = "") -> S3Objects:
        return cls(s3_client(endpoint_url, region), bucket, prefix,
                   S3Location(endpoint_url, bucket, region, prefix))

    def check_bucket(self) -> None:
        """Raise (ClientError) when the bucket cannot be reached: checked once at start."""
        self.client.head_bucket(Bucket=self.bucket)

    def key(self, key: str) -> str:
        return f"{self.prefix}{_check_key(key)}"

    def move_in(self, key: str, source: Path) -> None:
        self.client.upload_file(str(source), self.bucket, self.key(key))
        Path(source).unlink()

    def put_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key(key), Body=data)

    def get_bytes(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(key))
        except ClientError as e:
            if missing(e):
                return None
            raise
        data: bytes = answer["Body"].read()
        return data

    def download(self, key: str, target: Path) -> bool:
        try:
            self.client.download_file(self.bucket, self.key(key), str(target))
        except ClientError as e:
            if missing(e):
                return False
            raise
        return True

    def delete(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(key))
        except ClientError as e:
            if missing(e):
                return False
            raise
        self.client.delete_object(Bucket=self.bucket, Key=self.key(key))
        return True

    def names(self, prefix: str) -> list[str]:
        start = self.key(prefix.rstrip("/")) + "/"
        found = [item["Key"][len(start):]
                 for page in self.client.get_paginator("list_objects_v2").paginate(
                     Bucket=self.bucket, Prefix=start, Delimiter="/")
                 for item in page.get("Contents", [])]
        return sorted(found)

    def newest_folder(self, start: str) -> str | None:
        newest: tuple[Any, str] | None = None
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.key(start)):
            for item in page.get("Contents", []):
                folder = item["Key"][len(self.prefix):].rpartition("/")[0]
                if folder and (newest is None or item["LastModified"] > newest[0]):
                    newest = (item["LastModified"], folder)
        return newest[1] if newest else None

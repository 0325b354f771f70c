"""Attachments in S3-compatible object storage (several hub processes on several machines).

One S3 multipart upload per tus upload, as tusd's s3store does; the layout is our own:

- `PREFIX<id>`: the attachment once complete (CompleteMultipartUpload);
- `PREFIX<id>.upload`: the multipart upload's id, written when the upload is created;
- `PREFIX<id>.tail-<n>`: the first bytes of part n while part n is not yet full. S3 refuses
  parts under 5 MiB (except the last), so a PATCH that ends (or checkpoints) inside a part
  leaves the part's bytes so far in this small object, and the next writer, on any node,
  starts from it.

Parts have a fixed size per upload (`part_size`: 8 MiB, more for files over ~78 GiB so that
10,000 parts suffice), so part n always covers the same bytes: a part uploaded but never
recorded (a crash between the two) is simply written again, and the offset recorded in the
database stays the one truth, as for the local folder. A tail object is written before the
offset inside its part is recorded and removed only when the attachment is complete.
Downloads are Range GETs of the complete object. Full parts are sent on worker threads, up to
two per upload at a time, while the next part fills; `sync` waits for them (a part is durable
once S3 has answered), so the offset recorded after it never runs ahead of S3.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import threading
from collections.abc import Callable, Generator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ggk.hub.interfaces import StoreUnwritable
from ggk.storage.s3 import missing as _missing
from ggk.storage.s3 import s3_client

MIB = 1024 * 1024
PART_MIN = 8 * MIB  # S3's minimum is 5 MiB for every part but the last
MAX_PARTS = 10_000
PARTS_IN_FLIGHT = 2  # per upload: the next part fills while the previous ones are sent

# Part uploads of all uploads (network I/O, releases the GIL)
_PART_SENDERS = concurrent.futures.ThreadPoolExecutor(16, thread_name_prefix="ggk-s3-part")


class ObjectStoreError(RuntimeError):
    """The object storage does not hold what the recorded offset says it should."""


def part_size(size: int) -> int:
    """The fixed part size of an upload of `size` bytes (whole MiB, at most 10,000 parts)."""
    needed = -(-size // MAX_PARTS)
    return max(PART_MIN, -(-needed // MIB) * MIB)


class S3Upload:
    """One writer's hold on an upload: the bytes of the part being filled are kept in memory
    (at most one part), full parts go to S3 as they fill. Also the PATCH's block sink."""

    def __init__(self, store: S3Store, attachment_id: str, upload_id: str, size: int,
                 offset: int, tail: bytes) -> None:
        self.store = store
        self.attachment_id = attachment_id
        self.upload_id = upload_id
        self.size = size
        self.part = part_size(size)
        self.buffer_start = offset - len(tail)  # the start of the part being filled
        self.buffer = bytearray(tail)
        self.previous_part: tuple[int, bytes] | None = None  # the part uploaded last
        self.in_flight: list[concurrent.futures.Future[Any]] = []
        self.lock = threading.Lock()  # writes and a checkpoint's sync run on worker threads

    # --- the sink -----------------------------------------------------------------------
    def write(self, parts: list[bytes]) -> None:
        with self.lock:
            for piece in parts:
                view = memoryview(piece)
                while view:
                    part_end = min(self.buffer_start + self.part, self.size)
                    room = part_end - self.buffer_start - len(self.buffer)
                    if room <= 0:
                        raise ObjectStoreError(f"upload {self.attachment_id}: data beyond its "
                                               f"size {self.size}")
                    self.buffer += view[:room]
                    view = view[room:]
                    if self.buffer_start + len(self.buffer) == part_end:
                        self._upload_part()

    def _settle(self) -> None:
        """Wait for the parts being sent; raises the first failure."""
        in_flight, self.in_flight = self.in_flight, []
        concurrent.futures.wait(in_flight)
        for job in in_flight:
            job.result()

    def _upload_part(self) -> None:
        number = self.buffer_start // self.part + 1
        body = bytes(self.buffer)
        while len(self.in_flight) >= PARTS_IN_FLIGHT:
            self.in_flight.pop(0).result()
        self.in_flight.append(_PART_SENDERS.submit(
            self.store.client.upload_part, Bucket=self.store.bucket,
            Key=self.store.key(self.attachment_id), UploadId=self.upload_id, PartNumber=number,
            Body=body))
        self.previous_part = (self.buffer_start, body)
        self.buffer_start += len(body)
        self.buffer = bytearray()

    def flush(self) -> None:
        """Nothing: full parts are uploaded as they fill, the rest waits for `sync`."""

    # --- the handle ---------------------------------------------------------------------
    def sync(self, upto: int) -> None:
        """Store the bytes of the part that holds offset `upto` up to it, unless that part is
        full and uploaded (then nothing is needed to resume from `upto`)."""
        with self.lock:
            self._settle()  # a part is durable once S3 has answered its upload
            if upto >= self.buffer_start:
                start, data = self.buffer_start, bytes(self.buffer[:upto - self.buffer_start])
            elif self.previous_part is not None and upto >= self.previous_part[0]:
                start, data = self.previous_part[0], self.previous_part[1][:upto -
                                                                          self.previous_part[0]]
            else:
                raise ObjectStoreError(f"upload {self.attachment_id}: offset {upto} lies before "
                                       "the parts this writer still holds")
        if data and upto % self.part != 0 and upto != self.size:
            self.store.put_tail(self.attachment_id, start // self.part + 1, data)

    def truncate(self, size: int) -> int:
        """Back to the recorded offset `size`: parts written beyond it are written again."""
        with self.lock:
            concurrent.futures.wait(self.in_flight)  # parts beyond `size` are written again
            self.in_flight = []
            if size >= self.buffer_start:
                del self.buffer[size - self.buffer_start:]
            else:
                self.buffer_start = size - size % self.part
                self.previous_part = None
                self.buffer = bytearray(self.store.read_tail(self.attachment_id, self.size,
                                                             size))
            return size

    def close(self, flush: bool = True) -> None:
        concurrent.futures.wait(self.in_flight)  # nothing of this writer goes on after it
        self.in_flight = []
        self.buffer = bytearray()
        self.previous_part = None


class S3Store:
    """`AttachmentStore` on an S3 bucket (see the module docstring for the layout)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "attachments/") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self._upload_ids: dict[str, str] = {}

    @classmethod
    def connect(cls, endpoint_url: str | None, bucket: str, region: str | None = None,
                prefix: str = "attachments/") -> S3Store:
        return cls(s3_client(endpoint_url, region), bucket, prefix)

    def key(self, attachment_id: str) -> str:
        if not attachment_id.isalnum():
            raise ValueError(f"bad attachment id {attachment_id!r}")
        return f"{self.prefix}{attachment_id}"

    def check_bucket(self) -> None:
        """Raise (ClientError) when the bucket cannot be reached: checked once at start."""
        self.client.head_bucket(Bucket=self.bucket)

    def check_writable(self) -> None:
        """StoreUnwritable unless an object can be written to the bucket now (`/healthz`)."""
        probe = f"{self.prefix}.probe-{os.getpid()}"
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"")
            self.client.delete_object(Bucket=self.bucket, Key=probe)
        except (ClientError, BotoCoreError) as e:
            raise StoreUnwritable(f"the hub cannot write its object store ({e})") from e

    # --- uploads ------------------------------------------------------------------------
    def create(self, attachment_id: str, size: int) -> None:
        key = self.key(attachment_id)
        if size == 0:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=b"")
            return
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        self.client.put_object(Bucket=self.bucket, Key=f"{key}.upload", Body=upload_id.encode())
        self._upload_ids[attachment_id] = upload_id

    def _upload_id(self, attachment_id: str) -> str:
        known = self._upload_ids.get(attachment_id)
        if known is None:
            answer = self.client.get_object(Bucket=self.bucket,
                                            Key=f"{self.key(attachment_id)}.upload")
            known = answer["Body"].read().decode()
            self._upload_ids[attachment_id] = known
        return known

    def put_tail(self, attachment_id: str, part_number: int, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket,
                               Key=f"{self.key(attachment_id)}.tail-{part_number}", Body=data)

    def read_tail(self, attachment_id: str, size: int, offset: int) -> bytes:
        """The bytes of the part holding `offset` from its start up to `offset`."""
        part = part_size(size)
        wanted = offset % part
        if wanted == 0:
            return b""
        key = f"{self.key(attachment_id)}.tail-{offset // part + 1}"
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key,
                                            Range=f"bytes=0-{wanted - 1}")
        except ClientError as e:
            if _missing(e):
                raise ObjectStoreError(f"upload {attachment_id}: {key} is missing; the recorded "
                                       f"offset {offset} cannot be resumed") from e
            raise
        data: bytes = answer["Body"].read()
        if len(data) != wanted:
            raise ObjectStoreError(f"upload {attachment_id}: {key} holds {len(data)} bytes, "
                                   f"the recorded offset {offset} needs {wanted}")
        return data

    def open_at(self, attachment_id: str, offset: int, size: int) -> S3Upload:
        # at the end (every part sent, only the completion is missing after a crash) no tail
        tail = b"" if offset == size else self.read_tail(attachment_id, size, offset)
        return S3Upload(self, attachment_id, self._upload_id(attachment_id), size, offset, tail)

    def sink(self, attachment_id: str, handle: S3Upload, position: int, block: int) -> S3Upload:
        return handle

    def sync(self, handle: S3Upload, upto: int) -> None:
        handle.sync(upto)

    def cut_to(self, attachment_id: str, recorded_offset: Callable[[], int | None]) -> None:
        """Nothing to cut: what lies beyond the recorded offset is ignored and written again."""

    def complete(self, attachment_id: str, size: int) -> None:
        if size == 0:
            return
        key = self.key(attachment_id)
        try:
            upload_id = self._upload_id(attachment_id)
            latest: dict[int, dict[str, Any]] = {}
            for page in self.client.get_paginator("list_parts").paginate(
                    Bucket=self.bucket, Key=key, UploadId=upload_id):
                for part in page.get("Parts", []):
                    # a part written twice may be listed twice: the later one counts
                    seen = latest.get(part["PartNumber"])
                    if seen is None or part["LastModified"] >= seen["LastModified"]:
                        latest[part["PartNumber"]] = part
        except ClientError as e:
            if _missing(e) and self.size(attachment_id) == size:
                return  # completed before (a crash or a retry after CompleteMultipartUpload)
            raise
        count = -(-size // part_size(size))
        missing = [n for n in range(1, count + 1) if n not in latest]
        if missing:
            raise ObjectStoreError(f"upload {attachment_id}: parts {missing[:5]} are missing")
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": latest[n]["ETag"]}
                                       for n in range(1, count + 1)]})
        self._remove_upload_objects(attachment_id)

    def _remove_upload_objects(self, attachment_id: str) -> None:
        """The `.upload` and `.tail-n` objects of an upload."""
        keys = [item["Key"]
                for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=f"{self.key(attachment_id)}.")
                for item in page.get("Contents", [])]
        for start in range(0, len(keys), 1000):
            self.client.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})
        self._upload_ids.pop(attachment_id, None)

    # --- complete attachments -----------------------------------------------------------
    def size(self, attachment_id: str) -> int:
        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=self.key(attachment_id))
        except ClientError as e:
            if _missing(e):
                return 0
            raise
        return int(answer["ContentLength"])

    def sha256(self, attachment_id: str) -> str:
        digest = hashlib.sha256()
        for block in self.read_range(attachment_id, 0, self.size(attachment_id), 4 * MIB):
            digest.update(block)
        return digest.hexdigest()

    def read_range(self, attachment_id: str, start: int, end: int,
                   block: int) -> Generator[bytes, None, None]:
        if end <= start:
            return
        answer = self.client.get_object(Bucket=self.bucket, Key=self.key(attachment_id),
                                        Range=f"bytes={start}-{end - 1}")
        body = answer["Body"]
        try:
            while data := body.read(block):
                yield data
        finally:
            body.close()

    def delete(self, attachment_id: str) -> None:
        key = self.key(attachment_id)
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                               UploadId=self._upload_id(attachment_id))
        except ClientError as e:
            if not _missing(e):
                raise
        self._remove_upload_objects(attachment_id)
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def free_bytes(self) -> int:
        """Object storage has no disk for the hub to guard: a number beyond any limit."""
        return 2**62

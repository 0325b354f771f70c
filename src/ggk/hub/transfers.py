"""Large-file transfer: tus 1.0.0 uploads (core, creation, checksum sha256, termination) and
downloads with HTTP Range / ETag / If-Range (Digikoppeling Grote Berichten style).

Request bodies are streamed to disk and responses streamed from disk: memory stays flat whatever
the file size.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import hashlib
import re
from collections.abc import AsyncIterator, Generator
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from ggk.hub.bodies import declared_length as declared_content_length
from ggk.hub.context import HubContext, current_party, hub
from ggk.hub.interfaces import Attachment, BlockSink, HubError, Message, Party, UploadHandle
from ggk.hub.schemas import API, Problem
from ggk.hub.storage import UploadBusy

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,checksum,termination"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
FSYNC_EVERY = 64 * 1024 * 1024  # also fsync within a long PATCH so a crash loses little

router = APIRouter(tags=["transfers"], responses={
    403: {"model": Problem, "content": {"application/problem+json": {}}},
    404: {"model": Problem, "content": {"application/problem+json": {}}},
})


def tus_headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **extra}


def check_tus_version(request: Request) -> None:
    version = request.headers.get("tus-resumable")
    if version is not None and version != TUS_VERSION:
        raise HubError(412, "tus-version-unsupported", f"only tus {TUS_VERSION} is supported",
                       headers={"Tus-Version": TUS_VERSION})


def parse_metadata(header: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, value = pair.partition(" ")
        try:
            result[key] = base64.b64decode(value, validate=True).decode() if value else ""
        except (binascii.Error, UnicodeDecodeError) as e:
            raise HubError(400, "bad-upload-metadata",
                           f"Upload-Metadata value of {key!r} is not base64 UTF-8") from e
    return result


_INTEGER = re.compile(r"[0-9]{1,19}")  # ASCII digits only, below 2**63 in length


def parse_int_header(request: Request, name: str) -> int:
    """A non-negative integer header (ASCII digits, at most 19 of them); 400 otherwise."""
    value = request.headers.get(name)
    if value is None or not _INTEGER.fullmatch(value):
        raise HubError(400, f"bad-{name.lower()}", f"header {name} must be a non-negative integer "
                       "of ASCII digits (at most 19)")
    return int(value)


@router.options(f"{API}/uploads", status_code=204)
def tus_options(request: Request) -> Response:
    """tus discovery: version, extensions, checksum algorithm, maximum size."""
    settings = hub(request).settings
    return Response(status_code=204, headers={
        "Tus-Resumable": TUS_VERSION, "Tus-Version": TUS_VERSION,
        "Tus-Extension": TUS_EXTENSIONS, "Tus-Checksum-Algorithm": "sha256",
        "Tus-Max-Size": str(settings.max_message_bytes)})


@router.post(f"{API}/uploads", status_code=201)
def tus_create(request: Request) -> Response:
    """tus creation: points a standard tus client at the pre-created upload of an attachment.

    Upload-Metadata must carry `message_id` and `name` (or `filename`)."""
    party = current_party(request)
    check_tus_version(request)
    if "upload-defer-length" in request.headers:
        raise HubError(400, "defer-length-unsupported", "Upload-Defer-Length is not supported")
    length = parse_int_header(request, "Upload-Length")
    metadata = parse_metadata(request.headers.get("upload-metadata", ""))
    message_id = metadata.get("message_id")
    name = metadata.get("name") or metadata.get("filename")
    if not message_id or not name:
        raise HubError(400, "upload-metadata-incomplete",
                       "Upload-Metadata must name the message_id and the attachment name")
    context = hub(request)
    attachment = context.service.find_upload(party, message_id, name)
    limit = party.max_message_bytes or context.settings.max_message_bytes
    if length > limit:
        raise HubError(413, "upload-too-large",
                       f"Upload-Length {length} exceeds your limit {limit}")
    if length != attachment.size:
        raise HubError(400, "upload-length-mismatch",
                       f"Upload-Length {length} differs from the declared size {attachment.size}")
    return Response(status_code=201, headers=tus_headers(
        Location=f"{API}/uploads/{attachment.id}",
        **{"Upload-Offset": str(attachment.upload_offset)}))


def _attachment_headers(attachment: Attachment) -> dict[str, str]:
    return tus_headers(**{"Upload-Offset": str(attachment.upload_offset),
                          "Upload-Length": str(attachment.size)})


@router.head(f"{API}/uploads/{{upload_id}}")
def tus_head(upload_id: str, request: Request) -> Response:
    """The recorded offset (bytes beyond it, from an unrecorded chunk, are dropped)."""
    party = current_party(request)
    context = hub(request)
    _message, attachment = context.service.upload_target(party, upload_id)
    if attachment.state == "pending":
        def recorded_offset() -> int | None:
            # read again under the file's lock: a PATCH may have recorded progress meanwhile
            nonlocal attachment
            attachment = context.service.upload_target(party, upload_id)[1]
            return attachment.upload_offset if attachment.state == "pending" else None

        context.store.cut_to(upload_id, recorded_offset)
    if attachment.state == "refused":
        return Response(status_code=410, headers=tus_headers())
    return Response(status_code=200, headers=_attachment_headers(attachment))


def _parse_checksum(header: str | None) -> bytes | None:
    if header is None:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise HubError(400, "checksum-algorithm-unsupported",
                       f"Upload-Checksum algorithm {algorithm!r} is not supported (use sha256)")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as e:
        raise HubError(400, "bad-upload-checksum", "Upload-Checksum value is not base64") from e


class _RunningHashes:
    """Whole-file sha256 carried across PATCH requests of one process (saves re-reading)."""

    def __init__(self) -> None:
        self.by_upload: dict[str, tuple[int, hashlib._Hash]] = {}

    def take(self, upload_id: str, offset: int) -> hashlib._Hash | None:
        if offset == 0:
            return hashlib.sha256()
        entry = self.by_upload.pop(upload_id, None)
        return entry[1] if entry and entry[0] == offset else None

    def keep(self, upload_id: str, offset: int, digest: hashlib._Hash | None) -> None:
        if digest is not None:
            self.by_upload[upload_id] = (offset, digest)
            if len(self.by_upload) > 1000:
                self.by_upload.pop(next(iter(self.by_upload)))


def running_hashes(context: HubContext) -> _RunningHashes:
    existing = getattr(context, "_running_hashes", None)
    if existing is None:
        existing = _RunningHashes()
        context._running_hashes = existing  # type: ignore[attr-defined]
    return existing


@router.patch(f"{API}/uploads/{{upload_id}}", status_code=204,
              responses={409: {"model": Problem}, 413: {"model": Problem},
                         460: {"description": "Checksum mismatch"}, 507: {"model": Problem}})
async def tus_patch(upload_id: str, request: Request) -> Response:
    """Append a chunk at Upload-Offset (the sender only)."""
    context = hub(request)

    def target() -> tuple[Party, Message, Attachment]:
        party = current_party(request)
        return (party, *context.service.upload_target(party, upload_id))

    party, message, attachment = await run_in_threadpool(target)
    check_tus_version(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != OFFSET_CONTENT_TYPE:
        raise HubError(415, "bad-content-type", f"PATCH needs Content-Type: {OFFSET_CONTENT_TYPE}")
    offset = parse_int_header(request, "Upload-Offset")
    expected_checksum = _parse_checksum(request.headers.get("upload-checksum"))
    if message.state in ("refused", "expired") and attachment.state == "pending":
        raise HubError(410, f"message-{message.state}",
                       f"message {message.id} is {message.state}; nothing more is accepted")
    if attachment.state != "pending":
        if attachment.state == "complete" and offset == attachment.size:
            return Response(status_code=204, headers=_attachment_headers(attachment))
        raise HubError(409 if attachment.state == "complete" else 410, f"upload-{attachment.state}",
                       f"this upload is already {attachment.state}")
    if offset != attachment.upload_offset:
        raise HubError(409, "offset-mismatch",
                       f"Upload-Offset {offset} differs from the hub's offset "
                       f"{attachment.upload_offset}; HEAD the upload and resume from there",
                       headers=_attachment_headers(attachment))
    declared_length = declared_content_length(request)
    if declared_length is not None and offset + declared_length > attachment.size:
        raise HubError(413, "upload-exceeds-length",
                       f"this chunk would go beyond the declared size {attachment.size}")
    remaining = attachment.size - offset
    if context.store.free_bytes() - remaining < context.settings.min_free_bytes:
        context.metrics.refusals.labels("insufficient-storage").inc()
        raise HubError(507, "insufficient-storage",
                       "the hub has not enough free disk space now; resume later")
    try:
        release = await run_in_threadpool(context.upload_locks.acquire, upload_id)
    except UploadBusy as e:
        raise HubError(423, "upload-busy", "another request is writing this upload; retry",
                       headers=_attachment_headers(attachment)) from e
    try:
        f = await run_in_threadpool(_open_upload, context, party, upload_id, offset)
    except BaseException:
        release()
        raise
    context.metrics.upload_chunks.labels("none" if expected_checksum is None else "sha256").inc()
    hashes = running_hashes(context)
    file_digest = hashes.take(upload_id, offset)
    chunk_digest = hashlib.sha256() if expected_checksum is not None else None
    writer = _BlockWriter(context.store.sink(upload_id, f, offset, _BlockWriter.BLOCK),
                          (file_digest, chunk_digest))
    written = 0  # bytes of this request beyond `offset` (the last recorded offset)
    unsynced = 0
    too_long = False
    disconnected = False
    # A checkpoint (fsync, then record the offset) runs beside the receiving, at most one at a
    # time: the next block is read while the disk and the database confirm the previous ones.
    checkpoint: asyncio.Future[bool] | None = None
    checkpoint_to = offset
    sync_job: concurrent.futures.Future[None] | None = None

    async def confirm(start: int, end: int) -> bool:
        assert sync_job is not None
        await asyncio.wrap_future(sync_job)
        return bool(await run_in_threadpool(context.service.record_offset, upload_id, start, end,
                                            party.oin))

    async def settle() -> None:
        nonlocal checkpoint, offset, written, remaining
        if checkpoint is None:
            return
        task, checkpoint = checkpoint, None
        if await task:
            moved = checkpoint_to - offset
            context.metrics.bytes_in.inc(moved)
            offset, written, remaining = checkpoint_to, written - moved, remaining - moved

    try:
        try:
            async for data in request.stream():
                if not data:
                    continue
                if written + len(data) > remaining:
                    too_long = True
                    break
                await writer.add(data)
                written += len(data)
                unsynced += len(data)
                if unsynced >= FSYNC_EVERY and chunk_digest is None:
                    # record progress mid-request so that a crash loses at most this much
                    await settle()
                    await writer.finish()
                    checkpoint_to = offset + written
                    sync_job = _TRANSFER_WORKERS.submit(context.store.sync, f, checkpoint_to)
                    checkpoint = asyncio.ensure_future(confirm(offset, checkpoint_to))
                    unsynced = 0
        except ClientDisconnect:
            disconnected = True
        await writer.finish()
        await settle()
        checksum_failed = chunk_digest is not None and (
            disconnected or chunk_digest.digest() != expected_checksum)
        if too_long or checksum_failed:
            f.truncate(offset)
            written = 0
            file_digest = None
        new_offset = offset + written
        await run_in_threadpool(context.store.sync, f, new_offset)
        if written and not await run_in_threadpool(context.service.record_offset, upload_id,
                                                   offset, new_offset, party.oin):
            raise HubError(409, "offset-mismatch", "the upload moved meanwhile; HEAD and resume")
    finally:
        try:
            await writer.drain()
        finally:
            writer.close()
            if sync_job is not None:  # never close the file under a running fsync
                concurrent.futures.wait([sync_job])
            f.close()
            release()
    context.metrics.bytes_in.inc(written)
    if too_long:
        raise HubError(413, "upload-exceeds-length",
                       f"the data goes beyond the declared size {attachment.size}")
    if checksum_failed and not disconnected:
        context.metrics.refusals.labels("chunk-checksum-mismatch").inc()
        raise HubError(460, "checksum-mismatch", "Upload-Checksum does not match this chunk; "
                       "the chunk was discarded, send it again", title="Checksum Mismatch")
    if new_offset == attachment.size:
        message = await run_in_threadpool(
            context.service.finish_upload, upload_id,
            file_digest.hexdigest() if file_digest is not None else None)
        if message.state == "refused":
            context.metrics.refusals.labels(message.refusal_reason or "refused").inc()
    else:
        hashes.keep(upload_id, new_offset, file_digest)
    headers = tus_headers(**{"Upload-Offset": str(new_offset)})
    return Response(status_code=204, headers=headers)


# Worker threads of uploads and downloads (disk I/O and sha256 release the GIL). Its own pool,
# not the request thread pool: a block must never wait behind database work, and submitting to a
# plain executor costs a fraction of anyio's thread hop.
_TRANSFER_WORKERS = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="ggk-transfer")


class _BlockWriter:
    """Writes and hashes received data in blocks on worker threads, one block in flight, so that
    disk writes and sha256 overlap with receiving and decrypting the next block. The write (an
    `DirectWriter`: O_DIRECT where the file system allows) and the hashing (whole-file digest and
    chunk digest) run as two jobs in parallel. Blocks of 4 MiB measured best (1 MiB: more thread
    hops; 8-16 MiB: the pieces waiting for their block no longer sit in the CPU cache)."""

    BLOCK = 4 * 1024 * 1024

    def __init__(self, sink: BlockSink, digests: tuple[Any, ...]) -> None:
        self.sink = sink
        self.digests = [d for d in digests if d is not None]
        self.parts: list[bytes] = []
        self.buffered = 0
        self.in_flight: list[concurrent.futures.Future[None]] = []

    @staticmethod
    def _hash(digests: list[Any], parts: list[bytes]) -> None:
        for part in parts:  # both digests per piece, while it is in the CPU cache
            for digest in digests:
                digest.update(part)

    async def add(self, data: bytes) -> None:
        self.parts.append(data)
        self.buffered += len(data)
        if self.buffered >= self.BLOCK:
            await self._send_buffer()

    async def _send_buffer(self) -> None:
        await self.drain()
        parts, self.parts = self.parts, []
        self.buffered = 0
        self.in_flight = [_TRANSFER_WORKERS.submit(self.sink.write, parts)]
        if self.digests:
            self.in_flight.append(_TRANSFER_WORKERS.submit(self._hash, self.digests, parts))

    async def _run(self, *jobs: concurrent.futures.Future[None]) -> None:
        in_flight = list(jobs)
        if all(job.done() for job in in_flight):
            # the usual case: a block's jobs take ~2 ms, receiving the next block longer; no
            # asyncio future, no wake-up of the event loop from the worker thread
            for job in in_flight:
                job.result()
            return
        try:
            await asyncio.wait([asyncio.wrap_future(job) for job in in_flight])
        finally:
            # never return (and let the caller close the file) while a job may still run, not
            # even when cancelled: a write to a closed and reused descriptor would land in
            # another file. A block's job takes milliseconds.
            concurrent.futures.wait(in_flight)
        for job in in_flight:
            job.result()

    async def drain(self) -> None:
        """Wait for the block in flight; raises the first error of its jobs."""
        in_flight, self.in_flight = self.in_flight, []
        if in_flight:
            await self._run(*in_flight)

    async def finish(self) -> None:
        """Everything received so far is written (not only gathered) and hashed."""
        if self.parts:
            await self._send_buffer()
        await self.drain()
        await self._run(_TRANSFER_WORKERS.submit(self.sink.flush))

    def close(self) -> None:
        """Let go of the sink (after `drain`). What `finish` did not write is dropped: on the
        way to success `finish` has written everything; on an error path nothing after the
        recorded offset is kept anyway."""
        self.sink.close(flush=False)


def _open_upload(context: HubContext, party: Party, upload_id: str, offset: int) -> UploadHandle:
    """Open the upload at `offset`, once this request holds it: the offset is read again under
    the lock, since a PATCH on another node may have recorded progress meanwhile."""
    attachment = context.service.upload_target(party, upload_id)[1]
    if attachment.state != "pending" or attachment.upload_offset != offset:
        raise HubError(409, "offset-mismatch",
                       f"Upload-Offset {offset} differs from the hub's offset "
                       f"{attachment.upload_offset}; HEAD the upload and resume from there",
                       headers=_attachment_headers(attachment))
    return context.store.open_at(upload_id, offset, attachment.size)


@router.delete(f"{API}/uploads/{{upload_id}}", status_code=204)
def tus_terminate(upload_id: str, request: Request) -> Response:
    """tus termination: withdraw the upload (the message is refused: upload-terminated)."""
    party = current_party(request)
    check_tus_version(request)
    hub(request).service.terminate_upload(party, upload_id)
    return Response(status_code=204, headers=tus_headers())


_RANGE = re.compile(r"^bytes=([0-9]{0,19})-([0-9]{0,19})$")
DOWNLOAD_BLOCK = 4 * 1024 * 1024


def _requested_range(range_header: str | None, size: int, etag: str,
                     if_range: str | None) -> tuple[int, int] | None:
    """The byte range [start, end) a response will carry, None for the whole file (no Range, or
    an If-Range that does not match); raises 416 for a range we cannot serve."""
    if range_header is None or (if_range is not None and if_range != etag):
        return None
    unsatisfiable = HubError(416, "range-not-satisfiable",
                             f"the range {range_header!r} does not fit this file of {size} bytes "
                             "(one range, bytes=start-end)",
                             headers={"Content-Range": f"bytes */{size}"})
    match = _RANGE.match(range_header.strip())
    if match is None:
        raise unsatisfiable
    first, last = match.groups()
    if first == "" and last == "":
        raise unsatisfiable
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise unsatisfiable
        return size - min(suffix, size), size
    start = int(first)
    stop = min(int(last), size - 1) if last else size - 1
    if start >= size or stop < start:
        raise unsatisfiable
    return start, stop + 1


def _content_disposition(filename: str) -> str:
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'


@router.head(f"{API}/messages/{{message_id}}/attachments/{{name}}",
             responses={206: {"description": "Partial content"}, 416: {"model": Problem}})
def download_head(message_id: str, name: str, request: Request) -> Response:
    """The headers a download would have (size, ETag, range support), without the bytes; it
    does not count as fetching the message."""
    party = current_party(request)
    context = hub(request)
    _message, attachment = context.service.download_target(party, message_id, name)
    headers, wanted = _download_headers(attachment, request)
    return Response(status_code=206 if wanted else 200, media_type=attachment.content_type,
                    headers=headers)


def _download_headers(attachment: Attachment, request: Request
                      ) -> tuple[dict[str, str], tuple[int, int] | None]:
    etag = f'"{attachment.sha256}"'
    wanted = _requested_range(request.headers.get("range"), attachment.size, etag,
                              request.headers.get("if-range"))
    start, end = wanted if wanted is not None else (0, attachment.size)
    headers = {"ETag": etag, "Accept-Ranges": "bytes", "Cache-Control": "private, no-transform",
               "Content-Disposition": _content_disposition(attachment.name),
               "Content-Length": str(end - start)}
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{attachment.size}"
    return headers, wanted


@router.get(f"{API}/messages/{{message_id}}/attachments/{{name}}",
            responses={200: {"content": {"application/octet-stream": {}}},
                       206: {"description": "Partial content"},
                       416: {"model": Problem}})
def download(message_id: str, name: str, request: Request) -> Response:
    """Download an attachment (receiver or sender); Range, If-Range and ETag resume it.

    The file is read in 4 MiB blocks past the page cache where the file system allows
    (ggk.direct_io): uploads are written that way too, so a first download would otherwise fill
    the cache from disk, measured ~1.7 CPU s per GiB on the hub."""
    party = current_party(request)
    context = hub(request)
    message, attachment = context.service.download_target(party, message_id, name)
    headers, wanted = _download_headers(attachment, request)
    start, end = wanted if wanted is not None else (0, attachment.size)
    context.service.mark_fetched(party, message, attachment.name)
    context.metrics.bytes_out.inc(end - start)
    blocks = context.store.read_range(attachment.id, start, end, DOWNLOAD_BLOCK)
    return StreamingResponse(_read_ahead(blocks), status_code=206 if wanted else 200,
                             media_type=attachment.content_type, headers=headers)


async def _read_ahead(blocks: Generator[bytes, None, None]) -> AsyncIterator[bytes]:
    """The blocks of `blocks`, each read on a worker thread while the one before is sent (one
    after the other was measured: reading and sending then take turns)."""
    loop = asyncio.get_running_loop()
    pending = loop.run_in_executor(_TRANSFER_WORKERS, next, blocks, None)
    try:
        while (block := await pending) is not None:
            pending = loop.run_in_executor(_TRANSFER_WORKERS, next, blocks, None)
            yield block
    finally:
        # a client that went away: let the running read end, then close the file
        if not pending.done():
            await asyncio.wait([pending])
        await loop.run_in_executor(_TRANSFER_WORKERS, blocks.close)

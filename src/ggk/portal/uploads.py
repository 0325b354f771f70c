"""Browser uploads into the portal: a tus 1.0 endpoint (creation, HEAD, PATCH with offsets) so that
tus-js-client resumes after a broken line, then the same local check as `ggk validate` and, at the
same time, the upload to the hub (itself tus, resumable) with the gemeente's certificate of all
but the last bytes; only when the user sends (after the check) do the last bytes go, and only a
complete message is delivered to CBS.

The portal, not the browser, talks to the hub: the browser has no party certificate. Files live
under `<data-dir>/gemeenten/<code>/uploads/<id>/` until sent (then deleted).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ggk.database import as_utc as aware
from ggk.portal import tables as t
from ggk.portal.interfaces import PortalError, Upload

log = logging.getLogger("ggk.portal.uploads")
TUS_VERSION = "1.0.0"
MAX_UPLOAD = 4 * 1024**3  # 4 GiB
CHUNK = 1024 * 1024


def parse_metadata(header: str | None) -> dict[str, str]:
    """The tus Upload-Metadata header: `key base64value,key base64value`."""
    result: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, value = pair.partition(" ")
        try:
            result[key] = base64.b64decode(value, validate=True).decode("utf-8") if value else ""
        except (ValueError, UnicodeDecodeError) as e:
            raise PortalError(f"ongeldige Upload-Metadata voor {key!r}") from e
    return result


def safe_file_name(name: str) -> str:
    """The browser's file name as a plain name: no folders, no leading dots, a short set of
    characters; `aanlevering.csv` when nothing is left."""
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", name.replace("\\", "/").rsplit("/", 1)[-1])
    base = base.lstrip(". ").strip()
    return base[:200] if base and base != "upload.part" else "aanlevering.csv"


def _row_to_upload(row: Any) -> Upload:
    return Upload(row.id, row.gemeente, row.period, row.dataset, row.file_name, row.size,
                  row.offset, row.state, row.created_by, aware(row.created_at), row.verdict,
                  row.report, row.message_id, row.sent_bytes or 0, row.error)


class UploadStore:
    def __init__(self, engine: sa.Engine, data_dir: Path) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._staging: dict[str, threading.Thread] = {}
        self._sha256: dict[str, str] = {}

    def path(self, upload: Upload) -> Path:
        """Where the bytes are received: a folder per upload, so that two uploads of files with
        the same name never meet (the send renames the file to its own name inside it)."""
        return self.data_dir / "gemeenten" / upload.gemeente / "uploads" / upload.id / "upload.part"

    def lock(self, upload_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(upload_id, threading.Lock())

    def create(self, *, gemeente: str, period: str, dataset: str, file_name: str, size: int,
               created_by: str) -> Upload:
        if size <= 0:
            raise PortalError("Het bestand is leeg.")
        if size > MAX_UPLOAD:
            raise PortalError(f"Het bestand is groter dan {MAX_UPLOAD // 1024**3} GiB.")
        name = safe_file_name(file_name)
        upload = Upload(str(uuid.uuid4()), gemeente, period, dataset, name[:200], size, 0,
                        "uploaden", created_by, dt.datetime.now(dt.UTC))
        path = self.path(upload)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        with self.engine.begin() as conn:
            conn.execute(sa.insert(t.uploads).values(
                id=upload.id, gemeente=gemeente, period=period, dataset=dataset,
                file_name=upload.file_name, size=size, offset=0, state="uploaden",
                created_by=created_by, created_at=upload.created_at, sent_bytes=0))
        return upload

    def stage(self, upload_id: str, work: Callable[[], str]) -> None:
        """Run `work` (the upload to the hub ahead of the user's send; returns the file's
        sha256) in the background; a failure only means the send uploads everything itself."""
        def run() -> None:
            try:
                self._sha256[upload_id] = work()
            except (PortalError, OSError) as e:
                log.warning("staging upload %s at the hub: %s", upload_id, e)

        with self._guard:
            self._staging[upload_id] = start_background(run, f"stage-{upload_id}")

    def staged(self, upload_id: str) -> str | None:
        """Wait until the staging of this upload (if any) has ended; the file's sha256 if it
        went well."""
        with self._guard:
            thread = self._staging.pop(upload_id, None)
        if thread is not None:
            thread.join()
        return self._sha256.pop(upload_id, None)

    def get(self, gemeente: str, upload_id: str) -> Upload | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.uploads).where(
                t.uploads.c.id == upload_id, t.uploads.c.gemeente == gemeente)).first()
        return _row_to_upload(row) if row is not None else None

    def of(self, gemeente: str, limit: int = 20) -> list[Upload]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.uploads).where(t.uploads.c.gemeente == gemeente)
                                .order_by(t.uploads.c.created_at.desc()).limit(limit)).all()
        return [_row_to_upload(r) for r in rows]

    def update(self, upload_id: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.uploads).where(t.uploads.c.id == upload_id).values(**values))

    def purge(self, older_than: dt.timedelta = dt.timedelta(days=7)) -> int:
        """Forget uploads left unfinished or unsent for longer than `older_than` (their files
        too); sent ones keep their record (the page and the audit trail refer to it)."""
        limit = dt.datetime.now(dt.UTC) - older_than
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(t.uploads.c.id, t.uploads.c.gemeente).where(
                t.uploads.c.created_at < limit,
                t.uploads.c.state.in_(("uploaden", "gecontroleerd", "mislukt")))).all()
            for row in rows:
                conn.execute(sa.delete(t.uploads).where(t.uploads.c.id == row.id))
        for row in rows:
            shutil.rmtree(self.data_dir / "gemeenten" / row.gemeente / "uploads" / row.id,
                          ignore_errors=True)
        return len(rows)

    async def append(self, upload: Upload, offset: int, chunks: Any) -> int:
        """Append the request body at `offset` (must equal the stored offset); returns the new
        offset. What arrived before a broken connection is kept and counted."""
        if upload.state != "uploaden":
            raise PortalError("Deze upload is al compleet.")
        if offset != upload.offset:
            raise PortalError("offset-mismatch")
        path = self.path(upload)
        written = upload.offset
        try:
            with path.open("r+b") as handle:
                handle.seek(written)
                async for chunk in chunks:
                    if not chunk:
                        continue
                    if written + len(chunk) > upload.size:
                        raise PortalError("Er komen meer bytes binnen dan het bestand groot is.")
                    handle.write(chunk)
                    written += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            self.update(upload.id, offset=written)
        return written


def check_upload(store: UploadStore, upload: Upload) -> None:
    """The local check (ggk.validation, exactly `ggk validate`); stores the report."""
    from ggk.validation import ValidationInputError, validate_file

    path = store.path(upload)
    try:
        result = validate_file(path, dataset=upload.dataset, gemeente=upload.gemeente,
                               period=upload.period)
    except ValidationInputError as e:
        store.update(upload.id, state="mislukt", error=str(e))
        return
    except Exception as e:  # noqa: BLE001 - shown to the user, logged for the operator
        log.exception("checking upload %s failed", upload.id)
        store.update(upload.id, state="mislukt", error=f"De controle is mislukt: {e}")
        return
    report = dict(result.report)
    report.setdefault("file", {})
    if isinstance(report["file"], dict):
        report["file"]["name"] = upload.file_name
    store.update(upload.id, state="gecontroleerd", verdict=report.get("verdict"), report=report)


def start_background(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread

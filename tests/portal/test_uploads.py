"""The portal's tus endpoint refuses what tus forbids and keeps what arrived; browser file names
become plain names inside the upload's own folder."""

from __future__ import annotations

import base64
from contextlib import closing

import pytest

from ggk.portal.uploads import safe_file_name
from tests.portal.conftest import RunningPortal
from tests.portal.test_access import client_for
from tests.web.conftest import csrf_of


@pytest.mark.parametrize("given,expected", [
    ("GM0363-2026-H1-basis.csv", "GM0363-2026-H1-basis.csv"), ("..", "aanlevering.csv"),
    ("../../etc/passwd", "passwd"), ("C:\\data\\GM0363.csv", "GM0363.csv"),
    (".verborgen.csv", "verborgen.csv"), ("upload.part", "aanlevering.csv"),
    ("a<script>.csv", "a_script_.csv"), ("", "aanlevering.csv")])
def test_file_names_from_the_browser_become_plain_names(given: str, expected: str) -> None:
    assert safe_file_name(given) == expected


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_tus_offsets_sizes_and_types(portal_only: RunningPortal) -> None:
    with closing(client_for(portal_only, "anna@amsterdam.nl")) as anna:
        token = csrf_of(anna.get("/gemeente/GM0363/besluit").text)
        tus = {"X-CSRF-Token": token, "Tus-Resumable": "1.0.0"}
        bad = anna.post("/gemeente/GM0363/tus", headers={
            **tus, "Upload-Length": "10", "Upload-Metadata": f"dataset {b64('onbekend')}"})
        assert bad.status_code == 400 and "onbekende dataset" in bad.text
        assert anna.post("/gemeente/GM0363/tus", headers={
            **tus, "Upload-Length": "0", "Upload-Metadata": f"dataset {b64('basis')}"}
        ).status_code == 400
        created = anna.post("/gemeente/GM0363/tus", headers={
            **tus, "Upload-Length": "10",
            "Upload-Metadata": f"dataset {b64('basis')},filename {b64('../x.csv')}"})
        assert created.status_code == 201
        location = created.headers["location"]
        octets = {**tus, "Content-Type": "application/offset+octet-stream"}
        first = anna.patch(location, content=b"01234", headers={**octets, "Upload-Offset": "0"})
        assert first.status_code == 204 and first.headers["upload-offset"] == "5"
        assert anna.head(location).headers["upload-offset"] == "5"
        assert anna.patch(location, content=b"56789", headers={
            **octets, "Upload-Offset": "0"}).status_code == 409  # not where we are
        assert anna.patch(location, content=b"56789", headers={
            **tus, "Upload-Offset": "5", "Content-Type": "text/plain"}).status_code == 415
        assert anna.patch(location, content=b"56789", headers={
            **octets, "Upload-Offset": "5"}).status_code == 204
        upload = portal_only.portal.uploads.get("GM0363", location.rsplit("/", 1)[1])
        assert upload is not None and upload.file_name == "x.csv"
        assert upload.offset == 10 and upload.state in ("controleren", "gecontroleerd", "mislukt")
        assert portal_only.portal.uploads.path(upload).read_bytes() == b"0123456789"
        too_much = anna.patch(location, content=b"x", headers={**octets, "Upload-Offset": "10"})
        assert too_much.status_code == 400  # complete: nothing more is taken


def test_unfinished_uploads_are_purged_after_a_week(portal_only: RunningPortal) -> None:
    import datetime as dt

    store = portal_only.portal.uploads
    old = store.create(gemeente="GM0363", period="2026-H1", dataset="basis",
                       file_name="oud.csv", size=10, created_by="anna@amsterdam.nl")
    new = store.create(gemeente="GM0363", period="2026-H1", dataset="basis",
                       file_name="nieuw.csv", size=10, created_by="anna@amsterdam.nl")
    store.update(old.id, created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=8))
    assert store.purge() == 1
    assert store.get("GM0363", old.id) is None and not store.path(old).parent.exists()
    assert store.get("GM0363", new.id) is not None and store.path(new).exists()

"""The portal's tus endpoint refuses what tus forbids and keeps what arrived; browser file names
become plain names inside the upload's own folder."""

from __future__ import annotations

import base64
import time
from contextlib import closing
from pathlib import Path

import pytest

from ggk.definitions import shipped
from ggk.portal.uploads import safe_file_name
from ggk.testdata.generator import generate
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


def test_the_hub_upload_runs_beside_the_check_but_cbs_gets_nothing_before_the_send(
        portal_only: RunningPortal, tmp_path: Path) -> None:
    """While the file is checked the portal uploads it to the hub, all but its last byte: the
    message is incomplete, so CBS's inbox has nothing and the dashboard shows no delivery; the
    user's send (here: toch, the file has defects) completes it and only then CBS has it."""
    generated = generate(shipped().for_period("gmsd", "2026-H1"), "basis", "GM0363", "2026-H1",
                         rows=300, errors={"elfproef": 2}, out=tmp_path / "bestand")
    data = Path(generated.path).read_bytes()
    store = portal_only.portal.uploads
    with closing(client_for(portal_only, "anna@amsterdam.nl")) as anna:
        token = csrf_of(anna.get("/gemeente/GM0363/besluit").text)
        tus = {"X-CSRF-Token": token, "Tus-Resumable": "1.0.0"}
        location = anna.post("/gemeente/GM0363/tus", headers={
            **tus, "Upload-Length": str(len(data)),
            "Upload-Metadata": f"dataset {b64('basis')},filename {b64('basis.csv')}"}
        ).headers["location"]
        upload_id = location.rsplit("/", 1)[1]
        assert anna.patch(location, content=data, headers={
            **tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
        ).status_code == 204
        deadline = time.monotonic() + 60
        while store.get("GM0363", upload_id).state == "controleren":  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the check did not end"
            time.sleep(0.05)
        assert store.get("GM0363", upload_id).verdict == "afgekeurd"  # type: ignore[union-attr]
        sha256 = store.staged(upload_id)  # waits for the upload to the hub
        assert sha256 is not None
        with portal_only.chain.client("gemeente_a") as gemeente:
            staged = gemeente.message(upload_id)
        assert staged.state == "accepted"
        assert [a.state for a in staged.attachments] == ["pending"]
        with portal_only.chain.client("cbs") as cbs:
            assert upload_id not in {m.id for m in cbs.mailbox().messages}
        dashboard = anna.get("/gemeente/GM0363").text
        assert "nog niet aangeleverd" in dashboard and "keer aangeleverd" not in dashboard
        assert anna.post(f"/gemeente/GM0363/aanleveren/{upload_id}/versturen",
                         data={"csrf_token": token, "toch": "ja"}).status_code == 303
        while store.get("GM0363", upload_id).state == "versturen":  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the send did not end"
            time.sleep(0.05)
        assert store.get("GM0363", upload_id).state == "verstuurd"  # type: ignore[union-attr]
        with portal_only.chain.client("cbs") as cbs:
            delivered = {m.id: m for m in cbs.mailbox().messages}
        assert upload_id in delivered
        assert delivered[upload_id].attachments[0].sha256 == sha256
        assert delivered[upload_id].attachments[0].name == "basis.csv"

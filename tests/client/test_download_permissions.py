"""Issue 10 (6): a download is owner-only (0600) from its first byte, also while it is still
arriving; the station keeps its incoming downloads in owner-only (0700) directories."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ggk.client import HubClient
from ggk.station.storage import FileStore
from tests.client.conftest import CBS_OIN, RunningHub


def test_a_download_is_owner_only(hub: RunningHub, tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual umask: files would be 0644
    try:
        with HubClient(hub.url, cert=hub.gemeente, ca=hub.ca) as gemeente, \
                HubClient(hub.url, cert=hub.cbs, ca=hub.ca) as cbs:
            source = tmp_path / "basis.csv"
            source.write_bytes(b"bsn;x\n999043195;1\n" * 1000)
            sent = gemeente.send(CBS_OIN, "gmsd.aanlevering", {}, attachments=[source])
            target = tmp_path / "ontvangen" / "basis.csv"
            target.parent.mkdir()
            cbs.download(sent.id, "basis.csv", target)
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    finally:
        os.umask(old_umask)


def test_station_incoming_directories_are_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        store = FileStore(tmp_path / "station-store")
        incoming = store.incoming_dir("6f1d3c52-7a0e-4d4b-9a57-2b1f0c8e5a11")
    finally:
        os.umask(old_umask)
    for path in (store.root, incoming.parent, incoming):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path

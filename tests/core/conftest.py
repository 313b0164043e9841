"""Fixtures of the core tests: a real S3-compatible server (moto in server mode, over HTTP on a
free port) and a bucket on it as OMM's default storage."""

from __future__ import annotations

import uuid

import pytest

from tests.core.s3 import s3_client, s3_options, use_s3


@pytest.fixture(scope="session")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint, settings, tmp_path):
    """A new bucket on the server as OMM's default storage; MEDIA_ROOT points at an empty
    folder the test can check stays empty. Yields (client, bucket name)."""
    bucket = f"omm-{uuid.uuid4().hex[:12]}"
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket)
    settings.MEDIA_ROOT = tmp_path / "media"
    use_s3(settings, s3_options(s3_endpoint, bucket))
    yield client, bucket

"""OMM's files in an S3-compatible bucket every host reaches (``OMM_STORAGE=s3``; the
``OMM_S3_*`` variables in ``omm/settings.py``): AWS S3, MinIO, Ceph RGW and the like.

Objects are private: no public ACL is ever sent, and ``url()`` never hands out a bucket or
presigned address; files are served through OMM's views, which check the caller's role, as
on the file system. A bucket that cannot be reached or refuses OMM raises
``StorageUnavailable`` (HTTP 503, or a task failed with that message) naming the bucket and
the cause, never a traceback. Dask workers read stored Parquet straight from the bucket
(``dask_url`` and ``dask_storage_options``, used by ``apps.tasks.engines.dask_readable``).

Imported only when ``OMM_STORAGE=s3``: boto3 costs nothing on the file system default.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import urljoin

from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.utils.encoding import filepath_to_uri
from django.utils.translation import gettext
from storages.backends import s3
from storages.utils import clean_name

from .files import StorageUnavailable

log = logging.getLogger(__name__)

# Canned ACLs OMM may send: none (the bucket's default, private; buckets with ACLs disabled
# refuse any other), or these two, which grant nothing beyond the bucket's owner.
PRIVATE_ACLS = ("", "private", "bucket-owner-full-control")
# What a client error's code means for OMM: the object is gone (a 404), or the bucket is.
_MISSING_OBJECT = {"404", "NoSuchKey", "NotFound"}


class S3Storage(s3.S3Storage):
    """django-storages' S3 backend with OMM's defaults: private objects, never overwritten,
    short timeouts, large files spilled to disk, and errors that say what is wrong."""

    def get_default_settings(self) -> dict[str, Any]:
        return {
            **super().get_default_settings(),
            # Server-chosen names never collide; refusing to replace one is the file
            # system's behaviour, kept (a restore deletes first, on purpose).
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
            # A downloaded file larger than this is kept on disk, not in memory.
            "max_memory_size": 16 * 1024 * 1024,
            "connect_timeout": 5.0,
            "read_timeout": 60.0,
            "max_attempts": 3,
        }

    def __init__(self, **options: Any):
        super().__init__(**options)
        if self.default_acl not in (None, *PRIVATE_ACLS):
            raise ValueError(f"S3 ACL {self.default_acl!r} is not private; use one of {PRIVATE_ACLS}")
        if not self.default_acl:
            self.default_acl = None
        # One Config for boto3 (and the same values for s3fs): a dead endpoint fails in
        # seconds, not after botocore's default minute of retries.
        self.client_config = Config(
            s3={"addressing_style": self.addressing_style} if self.addressing_style else None,
            signature_version=self.signature_version,
            proxies=self.proxies,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"max_attempts": self.max_attempts, "mode": "standard"},
        )

    # --- errors --------------------------------------------------------------------------

    def describe(self) -> str:
        """The bucket (and endpoint) in words, for messages; never a credential."""
        where = f"s3://{self.bucket_name}/{self.location}".rstrip("/")
        return f"{where} ({self.endpoint_url})" if self.endpoint_url else where

    @contextlib.contextmanager
    def reaching(self, name: str = "") -> Iterator[None]:
        """Turn boto errors into FileNotFoundError (a missing object) or StorageUnavailable."""
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in _MISSING_OBJECT:
                self._check_bucket()  # a HEAD's 404 does not say whether the bucket is the one missing
                raise FileNotFoundError(f"No such stored file: {name}") from None
            self._unavailable(f"{code}: {error.get('Message') or exc}")
        except (BotoCoreError, Boto3Error) as exc:
            self._unavailable(str(exc) or type(exc).__name__)

    def _check_bucket(self) -> None:
        try:
            self.connection.meta.client.head_bucket(Bucket=self.bucket_name)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            self._unavailable("NoSuchBucket" if code in _MISSING_OBJECT else code)
        except (BotoCoreError, Boto3Error) as exc:
            self._unavailable(str(exc) or type(exc).__name__)

    def _unavailable(self, cause: str) -> None:
        log.warning("file storage %s failed: %s", self.describe(), cause)
        raise StorageUnavailable(
            gettext("The file storage %(where)s cannot be used: %(cause)s")
            % {"where": self.describe(), "cause": cause}
        ) from None

    # --- Django's storage API, with OMM's errors -----------------------------------------

    def _open(self, name: str, mode: str = "rb") -> s3.S3File:
        with self.reaching(name):
            return _S3File(self._normalize_name(clean_name(name)), mode, self)

    def _save(self, name: str, content: Any) -> str:
        with self.reaching():
            return super()._save(name, content)

    def delete(self, name: str) -> None:
        with self.reaching():
            super().delete(name)

    def exists(self, name: str) -> bool:
        with self.reaching():
            return super().exists(name)

    def listdir(self, name: str) -> tuple[list[str], list[str]]:
        with self.reaching():
            return super().listdir(name)

    def size(self, name: str) -> int:
        with self.reaching(name):
            return super().size(name)

    def get_modified_time(self, name: str):
        with self.reaching(name):
            return super().get_modified_time(name)

    def url(self, name: str, parameters: Any = None, expire: Any = None, http_method: Any = None) -> str:
        # Never the bucket's address (nor a presigned one, which anybody holding it could
        # use): the same unserved MEDIA_URL path as on the file system.
        return urljoin(settings.MEDIA_URL, filepath_to_uri(clean_name(name)))

    def download_to(self, name: str, fileobj: IO[bytes]) -> None:
        """Copy the stored file ``name`` into ``fileobj`` (multipart, in parallel)."""
        key = self._normalize_name(clean_name(name))
        with self.reaching(name):
            self.bucket.Object(key).download_fileobj(fileobj, Config=self.transfer_config)

    # --- Dask workers on any host read the bucket directly -------------------------------

    def dask_url(self, name: str) -> str:
        """``s3://bucket/prefix/name``, for ``dask.dataframe.read_parquet`` and fsspec."""
        return f"s3://{self.bucket_name}/{self._normalize_name(clean_name(name))}"

    def dask_storage_options(self) -> dict[str, Any]:
        """s3fs options reaching the same bucket as this storage (credentials included when
        they come from the environment; else s3fs finds them as boto3 does)."""
        client: dict[str, Any] = {}
        if self.endpoint_url:
            client["endpoint_url"] = self.endpoint_url
        if self.region_name:
            client["region_name"] = self.region_name
        if self.verify is not None:
            client["verify"] = self.verify
        options: dict[str, Any] = {
            "client_kwargs": client,
            "config_kwargs": {
                "connect_timeout": self.connect_timeout,
                "read_timeout": self.read_timeout,
                "retries": {"max_attempts": self.max_attempts, "mode": "standard"},
            },
        }
        if self.addressing_style:
            options["config_kwargs"]["s3"] = {"addressing_style": self.addressing_style}
        if self.access_key and self.secret_key:
            options["key"], options["secret"] = self.access_key, self.secret_key
            if self.security_token:
                options["token"] = self.security_token
        return options


class _S3File(s3.S3File):
    """An S3 file whose lazy download and upload raise OMM's errors too."""

    def _get_file(self):
        with self._storage.reaching(self.name):
            return super()._get_file()

    file = property(_get_file, s3.S3File._set_file)

    def close(self) -> None:
        with self._storage.reaching():
            super().close()

"""Stored files through Django's storage API, whatever the storage: the local file system
under MEDIA_ROOT (the default) or an S3-compatible bucket every host reaches
(``OMM_STORAGE=s3``, ``apps.core.storage``).

Libraries that want a path (pyarrow, the readers) get one from ``stored_local_path``: the
file itself on a file system, else a temporary copy. New files written as a stream go
through ``StoredFileWriter``: in place on a file system, else through a temporary file
stored whole when complete. Nothing here imports boto3: the default pays nothing for S3.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.utils.translation import gettext_lazy as _

from .errors import Unavailable

CHUNK = 1024 * 1024


class StorageUnavailable(Unavailable):
    """The file storage (an S3 bucket) cannot be reached or refuses OMM (HTTP 503)."""

    default_code = "storage_unavailable"
    default_message = _("The file storage cannot be reached.")


def storage_has_paths(storage: Storage | None = None) -> bool:
    """Whether ``storage`` keeps its files on this host's file system (``path()`` works)."""
    try:
        (storage or default_storage).path("probe")
    except NotImplementedError:
        return False
    return True


@contextlib.contextmanager
def stored_local_path(name: str, *, storage: Storage | None = None) -> Iterator[Path]:
    """A local path holding the stored file ``name``: the file itself on a file system
    storage, else a temporary copy (removed on exit). FileNotFoundError when it is gone."""
    storage = storage or default_storage
    if storage_has_paths(storage):
        yield Path(storage.path(name))
        return
    with tempfile.NamedTemporaryFile(prefix="omm-", suffix=PurePosixPath(name).suffix) as tmp:
        download = getattr(storage, "download_to", None)  # S3: one multipart, threaded transfer
        if download is not None:
            download(name, tmp)
        else:
            with storage.open(name, "rb") as src:
                shutil.copyfileobj(src, tmp, CHUNK)
        tmp.flush()
        yield Path(tmp.name)


class StoredFileWriter:
    """A new stored file, written as a stream under a server-chosen ``wanted`` name.

    On a file system storage the name is claimed (an empty file) when the writer is made and
    the bytes are written in place; elsewhere they go to a local temporary file that is
    stored whole when the ``with`` block ends without an error. ``name`` is the stored name
    (empty until known); ``discard`` deletes the stored file, for a run that does not complete.
    """

    def __init__(self, wanted: str, *, storage: Storage | None = None):
        self.storage = storage or default_storage
        self.wanted = wanted
        self.in_place = storage_has_paths(self.storage)
        self.name = self.storage.save(wanted, ContentFile(b"")) if self.in_place else ""
        self._fh: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if self.in_place:
            self._fh = open(self.storage.path(self.name), "wb")
        else:
            self._fh = tempfile.TemporaryFile(prefix="omm-")
        return self._fh

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            if exc_type is None and not self.in_place:
                fh.flush()
                fh.seek(0)
                self.name = self.storage.save(self.wanted, File(fh, name=self.wanted))
        finally:
            fh.close()

    def discard(self) -> None:
        if self.name:
            self.storage.delete(self.name)


def storage_walk(storage: Storage | None = None, top: str = "") -> Iterator[str]:
    """Every stored file's name under ``top`` (all of the storage by default), sorted."""
    storage = storage or default_storage
    directories, files = storage.listdir(top)
    join = (lambda n: f"{top.rstrip('/')}/{n}") if top else (lambda n: n)
    for name in sorted(files):
        yield join(name)
    for directory in sorted(directories):
        yield from storage_walk(storage, join(directory))

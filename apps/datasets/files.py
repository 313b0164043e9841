"""Stored files on local disk: the bytes of an upload or of a stored file, as a path.

The readers and the profiler take paths; storage may not be on this disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.files import File

from apps.core.files import stored_local_path

CHUNK = 1024 * 1024


def sha256_of(file: File) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks(CHUNK):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


@contextlib.contextmanager
def local_copy(file: File) -> Iterator[Path]:
    """A path on local disk holding an upload's bytes (for content sniffing)."""
    path = getattr(file, "temporary_file_path", None)
    if path is not None:
        yield Path(path())
        return
    with tempfile.NamedTemporaryFile(suffix=".upload") as tmp:
        file.seek(0)
        for chunk in file.chunks(CHUNK):
            tmp.write(chunk)
        tmp.flush()
        file.seek(0)
        yield Path(tmp.name)


@contextlib.contextmanager
def stored_file_path(field) -> Iterator[Path]:
    """A local path to a stored file: the file itself on disk storage, else a temp copy
    (an S3 bucket: ``apps.core.files.stored_local_path``)."""
    if not field:
        raise ValueError(f"The '{field.field.name}' attribute has no file associated with it.")
    with stored_local_path(field.name, storage=field.storage) as path:
        yield path

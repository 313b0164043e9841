"""The datasets domain's errors, in the platform's hierarchy (``apps.core.errors``).

The pure readers raise ``readers.IngestError``; the services turn it into ``UploadInvalid``
so the API's one handler answers it like every other refused request.
"""

from __future__ import annotations

from apps.core.errors import Conflict, Invalid, TooLarge

from .readers import IngestError


class FileTooLarge(TooLarge):
    """The upload is bigger than ``OMM_MAX_UPLOAD_BYTES`` (HTTP 413)."""

    default_code = "file_too_large"
    default_message = "The upload is larger than the limit."

    def __init__(self, size: int | None = None, limit: int = 0, *, message: str | None = None):
        if message is None:
            message = (
                f"The file is {size:,} bytes; the limit is {limit:,} bytes."
                if size is not None
                else f"The upload is larger than the {limit:,}-byte limit."
            )
        super().__init__(message, errors={"file": [message]})


class UploadInvalid(Invalid):
    """The file cannot be read as what it claims to be (unknown extension, content mismatch).

    ``code`` is the reader's (``unknown_extension``, ``empty_file``...); the API answers
    ``validation_error`` with the reason under ``file``, as for any other bad field.
    """

    def __init__(self, exc: IngestError):
        self.reader_code = exc.code
        super().__init__(exc.message, errors={"file": [exc.message]})


class DatasetKindConflict(Conflict):
    """The name belongs to a dataset of another kind."""

    def __init__(self, message: str):
        super().__init__(message, errors={"name": [message]})


class DatasetInUse(Conflict):
    """Features, feature sets or model versions point at the dataset: archive it instead."""


class ValidationRunning(Conflict):
    """The version already has a validation queued or running."""

    default_code = "validation_running"

"""The datasets domain's errors, in the platform's hierarchy (``apps.core.errors``).

The pure readers raise ``readers.IngestError``; the services turn it into ``UploadInvalid``
so the API's one handler answers it like every other refused request.
"""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, Invalid, TooLarge

from .bank_issues import render_template
from .readers import IngestError


class FileTooLarge(TooLarge):
    """The upload is bigger than ``OMM_MAX_UPLOAD_BYTES`` (HTTP 413)."""

    default_code = "file_too_large"
    default_message = _("The upload is larger than the limit.")

    def __init__(self, size: int | None = None, limit: int = 0, *, message: str | None = None):
        if message is None:
            message = (
                gettext("The file is %(size)s bytes; the limit is %(limit)s bytes.")
                % {"size": f"{size:,}", "limit": f"{limit:,}"}
                if size is not None
                else gettext("The upload is larger than the %(limit)s-byte limit.") % {"limit": f"{limit:,}"}
            )
        super().__init__(message, errors={"file": [message]})


class UploadInvalid(Invalid):
    """The file cannot be read as what it claims to be (unknown extension, content mismatch).

    ``code`` is the reader's (``unknown_extension``, ``empty_file``...); the API answers
    ``validation_error`` with the reason under ``file``, as for any other bad field.
    """

    def __init__(self, exc: IngestError):
        self.reader_code = exc.code
        message = render_template(exc.template, exc.params, gettext)  # in the request's language
        super().__init__(message, errors={"file": [message]})


class DatasetKindConflict(Conflict):
    """The name belongs to a dataset of another kind."""

    def __init__(self, message: str):
        super().__init__(message, errors={"name": [message]})


class DatasetInUse(Conflict):
    """Features, feature sets or model versions point at the dataset: archive it instead."""


class ValidationRunning(Conflict):
    """The version already has a validation queued or running."""

    default_code = "validation_running"


class SettingsInvalid(Invalid):
    """A dataset setting (code scheme, warnings treated as errors) that cannot be used."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors=errors)

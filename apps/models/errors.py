"""The registry's errors, in the platform's hierarchy (``apps.core.errors``).

The class says how the API answers (400, 404, 409); a refusal that is about one field of
the request carries it in ``errors``. No Django import: ``artifacts`` raises these too.
"""

from __future__ import annotations

from apps.core.errors import ApplicationError, Conflict, Invalid, NotFound


class _FieldInvalid(Invalid):
    """An invalid value of the request field ``field``; the message names what is wrong."""

    field = "non_field_errors"

    def __init__(self, message: str):
        super().__init__(message, errors={self.field: [message]})


# --------------------------------------------------------------------------- lifecycle


class LifecycleError(Conflict):
    """A lifecycle change the version's (or the model's) status does not allow."""


class ConcurrentChange(Conflict):
    """Another request changed the model's active version at the same moment."""


class ReasonRequired(_FieldInvalid):
    """A promotion, rollback, deprecation or archiving sent without a reason."""

    field = "reason"


class ModelNameTaken(_FieldInvalid):
    """A model of that name is registered already."""

    field = "name"


class VersionTaken(_FieldInvalid):
    """The version number asked for is already registered for the model."""

    field = "version"


class UploadRefused(_FieldInvalid):
    """An uploaded model file that cannot become a version (unsafe, unreadable, wrong schema)."""

    field = "file"


class ReproductionImpossible(Conflict):
    """The training that made a version can no longer run as it did (its data is gone...)."""


# --------------------------------------------------------------------------- artifacts


class ArtifactError(Invalid):
    """A blob or upload that must not be loaded; ``code`` names the reason.

    Codes: ``checksum_mismatch``, ``bad_signature``, ``unknown_format``,
    ``unsafe_format``, ``unreadable``.
    """

    default_code = "artifact_invalid"

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code)


# --------------------------------------------------------------------------- serving


class PredictionRefused(ApplicationError):
    """A prediction request the platform will not score; the subclass says why."""


class RecordsInvalid(PredictionRefused, Invalid):
    """The records do not fit the version's feature schema (or there are too many)."""

    def __init__(self, message: str, *, problems: list[str]):
        super().__init__(message, errors={"records": problems})


class WrongModelType(PredictionRefused, Invalid):
    default_code = "wrong_type"


class ModelNotFound(PredictionRefused, NotFound):
    pass


class ModelArchived(PredictionRefused, Conflict):
    default_code = "archived"


class NoActiveVersion(PredictionRefused, Conflict):
    default_code = "no_active_version"


class VersionUnloadable(PredictionRefused, Conflict):
    """The version's artifact fails verification or cannot be read: it is never served."""

    default_code = "artifact_invalid"


# --------------------------------------------------------------------------- exports


class ExportRefused(_FieldInvalid):
    """An export the version cannot give (no converter for its kind, no rows to check it on),
    or one that did not reproduce OMM's own scores and so is not handed out."""

    field = "format"

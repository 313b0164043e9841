"""The feature center's errors, in the platform's hierarchy (``apps.core.errors``)."""

from __future__ import annotations

from apps.core.errors import Conflict, Invalid


class NotReady(Invalid):
    """The dataset version cannot be used for features (not validated, not tabular), or the
    request names columns or features it cannot give. The API answers 400 naming ``dataset``."""

    default_code = "validation_error"  # as the API has always answered

    def __init__(self, message: str):
        super().__init__(message, errors={"dataset": [message]})


class FeatureNameTaken(Conflict):
    """Another feature has that name."""


class FeatureSetLocked(Conflict):
    """A model version uses the feature set: it cannot change, a new version can."""

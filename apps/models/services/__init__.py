"""Registry writes, by topic; each function lives in one submodule and is re-exported here,
so callers write ``from apps.models import services as registry; registry.version_activate(...)``.

- ``storage``: sign and store artifacts, load a version's model back verified;
- ``registry``: models, and versions registered from trainings;
- ``upload``: uploaded model files registered as versions;
- ``lifecycle``: promote, roll back, deprecate, archive, flag and clear, and the trail;
- ``approvals``: maker-checker promotion requests;
- ``ab``: the A/B split;
- ``gate``: champion/challenger.
"""

from ..errors import ConcurrentChange, LifecycleError, ModelNameTaken, UploadRefused, VersionTaken
from .ab import ab_set
from .approvals import approval_required, promotion_approve, promotion_reject, promotion_request
from .gate import AUTO_METRIC, LOWER_IS_BETTER, gate_compare, gate_decide, gate_metric
from .lifecycle import (
    event_record,
    model_archive,
    model_rollback,
    version_activate,
    version_deprecate,
    version_flag,
    version_review_clear,
)
from .registry import model_create, model_type_for, version_register, version_register_trained
from .storage import (
    StoredArtifact,
    artifact_discard,
    artifact_key,
    artifact_store,
    artifact_store_bytes,
    version_load,
)
from .upload import MAX_UPLOAD_BYTES, model_create_with_upload, version_upload

__all__ = [
    "AUTO_METRIC",
    "LOWER_IS_BETTER",
    "MAX_UPLOAD_BYTES",
    "ConcurrentChange",
    "LifecycleError",
    "ModelNameTaken",
    "StoredArtifact",
    "UploadRefused",
    "VersionTaken",
    "ab_set",
    "approval_required",
    "artifact_discard",
    "artifact_key",
    "artifact_store",
    "artifact_store_bytes",
    "event_record",
    "gate_compare",
    "gate_decide",
    "gate_metric",
    "model_archive",
    "model_create",
    "model_create_with_upload",
    "model_rollback",
    "model_type_for",
    "promotion_approve",
    "promotion_reject",
    "promotion_request",
    "version_activate",
    "version_deprecate",
    "version_flag",
    "version_load",
    "version_register",
    "version_register_trained",
    "version_review_clear",
    "version_upload",
]

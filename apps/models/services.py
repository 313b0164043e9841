"""Registry writes: register a trained version with its signed artifact, load it back verified."""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from apps.core.config import config_get
from apps.features.services import feature_set_lock

from . import artifacts
from .models import (
    EventAction,
    Model,
    ModelStatus,
    ModelType,
    ModelVersion,
    PromotionRequest,
    RequestStatus,
    VersionEvent,
    VersionSource,
    VersionStatus,
)
from .training import TrainingResult


def artifact_key() -> bytes:
    """The HMAC key artifacts are signed with: OMM_ARTIFACT_KEY, else one derived from SECRET_KEY."""
    if settings.OMM_ARTIFACT_KEY:
        return settings.OMM_ARTIFACT_KEY.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"omm-model-artifacts", hashlib.sha256).digest()


def model_type_for(objective: str) -> str:
    return ModelType.REGRESSION if objective == "regression" else ModelType.CLASSIFICATION


def _next_version(model: Model) -> int:
    return (model.versions.aggregate(m=Max("version"))["m"] or 0) + 1


@dataclass(frozen=True)
class StoredArtifact:
    name: str
    format: str
    checksum: str
    signature: str
    size: int


def artifact_store_bytes(model_bytes: bytes, fmt: str, meta: dict) -> StoredArtifact:
    """Sign a model's bytes and write them under a server-chosen name (outside any transaction)."""
    blob = artifacts.pack(model_bytes, fmt, key=artifact_key(), meta=meta)
    header = artifacts.unpack(blob, key=artifact_key())
    name = default_storage.save(f"models/{uuid.uuid4().hex}.omm", ContentFile(blob))
    return StoredArtifact(name, header.format, header.checksum, header.signature, len(blob))


def artifact_store(result: TrainingResult) -> StoredArtifact:
    return artifact_store_bytes(result.model_bytes, result.model_format, result.meta)


def artifact_discard(stored: StoredArtifact) -> None:
    default_storage.delete(stored.name)


def version_register(
    *,
    model_name: str,
    model_type: str,
    algorithm: str,
    stored: StoredArtifact,
    user,
    objective: str = "",
    metrics: dict | None = None,
    parameters: dict | None = None,
    feature_schema: dict | None = None,
    source: str = VersionSource.TRAINED,
    task=None,
    dataset_version=None,
    feature_set=None,
    seed: int | None = None,
    library_versions: dict | None = None,
    training_info: dict[str, Any] | None = None,
    changelog: str = "",
    version_number: int | None = None,
) -> tuple[ModelVersion, bool]:
    """Register ``stored`` as a version of ``model_name`` (the next number unless given).

    The model is created if new; an existing model must be of ``model_type`` and not
    archived. Idempotent per task: a task that already registered a version gets that
    version back with ``False``; the caller then discards ``stored``. Raises
    LifecycleError for a wrong type, an archived model or a version number in use.
    """
    if task is not None:
        existing = ModelVersion.objects.filter(task=task).first()
        if existing is not None:
            return existing, False
    with transaction.atomic():
        model, _ = Model.objects.get_or_create(
            name=model_name,
            defaults={
                "type": model_type,
                "algorithm": algorithm,
                "parameters": parameters or {},
                "created_by": user,
            },
        )
        model = Model.objects.select_for_update().get(pk=model.pk)  # serialises version numbers
        if model.type != model_type:
            raise LifecycleError(f"{model} is a {model.type} model; a {model_type} version cannot join it.")
        if model.status == ModelStatus.ARCHIVED:
            raise LifecycleError(f"{model} is archived; it takes no new versions.")
        number = version_number or _next_version(model)
        if version_number is not None and model.versions.filter(version=version_number).exists():
            raise VersionTaken(f"{model} already has a version {version_number}.")
        try:
            with transaction.atomic():
                version = ModelVersion.objects.create(
                    model=model,
                    version=number,
                    changelog=changelog,
                    algorithm=algorithm,
                    objective=objective,
                    metrics=metrics or {},
                    parameters=parameters or {},
                    source=source,
                    artifact=stored.name,
                    artifact_format=stored.format,
                    size=stored.size,
                    checksum=stored.checksum,
                    signature=stored.signature,
                    feature_schema=feature_schema or {},
                    task=task,
                    dataset_version=dataset_version,
                    dataset_sha256=dataset_version.sha256 if dataset_version is not None else "",
                    feature_set=feature_set,
                    seed=seed,
                    library_versions=library_versions or {},
                    training_info=training_info or {},
                    created_by=user,
                )
        except IntegrityError:
            existing = ModelVersion.objects.filter(task=task).first() if task is not None else None
            if existing is not None:
                return existing, False
            raise
        if feature_set is not None:
            feature_set_lock(feature_set=feature_set)
        _event(version, EventAction.REGISTER, "", user, changelog)
    return version, True


def version_register_trained(
    *,
    model_name: str,
    result: TrainingResult,
    stored: StoredArtifact,
    user,
    task=None,
    dataset_version=None,
    feature_set=None,
    training_info: dict[str, Any] | None = None,
    changelog: str = "",
) -> tuple[ModelVersion, bool]:
    """Register a training result (already stored as ``stored``); see ``version_register``."""
    objective = result.meta.get("objective", "")
    return version_register(
        model_name=model_name,
        model_type=model_type_for(objective),
        algorithm=result.algorithm,
        stored=stored,
        user=user,
        objective=objective,
        metrics=result.metrics,
        parameters=result.params,
        feature_schema={
            "features": result.feature_names,
            "categoricalLevels": result.categorical_levels,
            "label": result.meta.get("label"),
            "labelClasses": result.meta.get("label_classes"),
        },
        task=task,
        dataset_version=dataset_version,
        feature_set=feature_set,
        seed=result.seed,
        library_versions=result.library_versions,
        training_info=training_info,
        changelog=changelog,
    )


# Largest model file accepted by upload (a LightGBM text model of thousands of trees).
MAX_UPLOAD_BYTES = 200 * 2**20


def model_create(
    *, name: str, type: str, algorithm: str, user, description: str = "", parameters: dict | None = None
) -> Model:
    """Register a model name before its first version (uploads and trainings may also create it)."""
    name = name.strip()
    if Model.objects.filter(name=name).exists():
        raise LifecycleError(f"A model named {name!r} exists.")
    return Model.objects.create(
        name=name,
        type=type,
        algorithm=algorithm,
        description=description,
        parameters=parameters or {},
        created_by=user,
    )


def _uploaded_schema(fmt: str, model: Any) -> tuple[str, str, list[str], list[Any]]:
    """(algorithm, objective, feature names, label classes) read from an uploaded model."""
    if fmt == "lightgbm-text":
        objective_line = next(
            (line for line in model.model_to_string().splitlines()[:50] if line.startswith("objective=")), ""
        )
        kind = objective_line.removeprefix("objective=").split(" ")[0]
        objective = {"binary": "binary", "multiclass": "multiclass", "multiclassova": "multiclass"}.get(
            kind, "regression"
        )
        classes = list(range(model.num_model_per_iteration())) if objective == "multiclass" else [0, 1]
        return "lightgbm", objective, list(model.feature_name()), classes if objective != "regression" else []
    estimator = model.steps[-1][1] if hasattr(model, "steps") else model
    names = [str(n) for n in getattr(model, "feature_names_in_", [])]
    classes = [c.item() if hasattr(c, "item") else c for c in getattr(estimator, "classes_", [])]
    objective = ("binary" if len(classes) == 2 else "multiclass") if classes else "regression"
    algorithm = {
        "LogisticRegression": "logistic_regression",
        "RandomForestClassifier": "random_forest",
        "RandomForestRegressor": "random_forest",
    }.get(type(estimator).__name__, type(estimator).__name__.lower())
    return algorithm, objective, names, classes


def version_upload(
    *,
    model: Model,
    data: bytes,
    filename: str,
    user,
    version_number: int | None = None,
    features: list[str] | None = None,
    changelog: str = "",
) -> ModelVersion:
    """Register an uploaded model file as a version, without ever running code from it.

    Pickle-family files are refused from their bytes; LightGBM text and skops (with the
    platform's trusted-type list) are loaded once to read their schema. ``features``,
    when given, must match the names the file declares; a file without names needs them.
    Raises ``artifacts.ArtifactError`` (bad file) or ``LifecycleError`` (schema, version).
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise artifacts.ArtifactError(
            "too_large", f"model files are limited to {MAX_UPLOAD_BYTES // 2**20} MB"
        )
    if model.type == ModelType.RETRIEVAL:
        raise LifecycleError("Retrieval models are built from bank records, not uploaded.")
    fmt, loaded = artifacts.load_upload(data, filename)
    algorithm, objective, declared, classes = _uploaded_schema(fmt, loaded)
    if features is not None:
        if len(set(features)) != len(features) or not all(isinstance(f, str) and f for f in features):
            raise LifecycleError("features must be distinct, non-empty names.")
        if declared and list(features) != declared:
            raise LifecycleError(
                f"The file's features ({len(declared)}: {', '.join(declared[:8])}...) do not match "
                f"the given features ({len(features)}: {', '.join(features[:8])}...)."
                if len(declared) > 8 or len(features) > 8
                else f"The file's features ({', '.join(declared)}) do not match the given ones "
                f"({', '.join(features)})."
            )
        names = list(features)
    elif declared:
        names = declared
    else:
        raise LifecycleError("The file does not name its features; give them as features.")
    if fmt == "lightgbm-text" and loaded.num_feature() != len(names):
        raise LifecycleError(f"The model takes {loaded.num_feature()} features; {len(names)} were named.")
    expected_type = model_type_for(objective)
    if model.type != expected_type:
        raise LifecycleError(f"{model} is a {model.type} model; this file is a {expected_type} model.")
    meta = {
        "features": names,
        "categorical_levels": {},
        "label_classes": classes,
        "objective": objective,
        "dtype": "float64",
        "uploaded": True,
    }
    stored = artifact_store_bytes(data, fmt, meta)
    try:
        version, _ = version_register(
            model_name=model.name,
            model_type=model.type,
            algorithm=algorithm,
            stored=stored,
            user=user,
            objective=objective,
            feature_schema={"features": names, "categoricalLevels": {}, "labelClasses": classes},
            source=VersionSource.UPLOADED,
            library_versions={"uploadedFile": os.path.basename(filename)[:200]},
            changelog=changelog or f"Uploaded {os.path.basename(filename)[:200]}.",
            version_number=version_number,
        )
    except BaseException:
        artifact_discard(stored)
        raise
    return version


def version_load(version: ModelVersion) -> tuple[artifacts.Artifact, Any]:
    """Read, verify (checksum and signature) and load a version's model; raises ArtifactError."""
    with version.artifact.open("rb") as fh:
        blob = fh.read()
    artifact = artifacts.unpack(blob, key=artifact_key())
    if artifact.checksum != version.checksum:
        raise artifacts.ArtifactError("checksum_mismatch", "artifact does not match the registered checksum")
    return artifact, artifacts.load_model(artifact)


# Events that change which version is active: a promotion (direct, approved or by the
# gate) or a rollback makes ``version`` active; archiving leaves none active.
_ACTIVATING = [EventAction.PROMOTE, EventAction.ROLLBACK, EventAction.APPROVE, EventAction.GATE]


class LifecycleError(Exception):
    """A lifecycle change the version's status does not allow."""


class VersionTaken(LifecycleError):
    """The version number asked for is already registered for the model."""


class ConcurrentChange(Exception):
    """Another request changed the model's active version at the same moment."""


def _event(
    version: ModelVersion,
    action: str,
    from_status: str,
    user,
    reason: str,
    previous=None,
    details: dict | None = None,
) -> VersionEvent:
    return VersionEvent.objects.create(
        model_id=version.model_id,
        version=version,
        action=action,
        from_status=from_status,
        to_status=version.status,
        previous_active=previous,
        reason=reason,
        details=details or {},
        actor=user,
        created_at=timezone.now(),
    )


def version_activate(
    *, version: ModelVersion, user, reason: str = "", action: str = "promote", details: dict | None = None
) -> ModelVersion:
    """Make ``version`` its model's active version; the previous active one becomes inactive.

    Atomic: the model row is locked and a partial unique constraint allows one active
    version per model, so concurrent promotions serialise or fail with ConcurrentChange.
    """
    if version.status == VersionStatus.DEPRECATED:
        raise LifecycleError(f"{version} is deprecated; it cannot be made active.")
    if version.status == VersionStatus.ACTIVE:
        raise LifecycleError(f"{version} is already active.")
    try:
        with transaction.atomic():
            model = Model.objects.select_for_update().get(pk=version.model_id)
            if model.status == ModelStatus.ARCHIVED:
                raise LifecycleError(f"{model} is archived; its versions cannot be made active.")
            if model.ab_version_id == version.pk:  # the challenger takes all the traffic now
                Model.objects.filter(pk=model.pk).update(ab_version=None, ab_percent=0)
            previous = ModelVersion.objects.filter(
                model_id=version.model_id, status=VersionStatus.ACTIVE
            ).first()
            if previous is not None:
                ModelVersion.objects.filter(pk=previous.pk).update(status=VersionStatus.INACTIVE)
                previous.status = VersionStatus.INACTIVE
            from_status = ModelVersion.objects.get(pk=version.pk).status
            if from_status in (VersionStatus.ACTIVE, VersionStatus.DEPRECATED):
                raise LifecycleError(f"{version} is {from_status} now.")
            ModelVersion.objects.filter(pk=version.pk).update(status=VersionStatus.ACTIVE)
            version.status = VersionStatus.ACTIVE
            Model.objects.filter(pk=version.model_id).update(status=ModelStatus.DEPLOYED)
            _event(version, action, from_status, user, reason, previous, details=details)
    except IntegrityError as exc:
        raise ConcurrentChange(
            f"The active version of {version.model} changed meanwhile; try again."
        ) from exc
    return version


def model_rollback(
    *, model: Model, user, reason: str = "", to_version: ModelVersion | None = None
) -> ModelVersion:
    """Re-activate ``to_version``, or the version that was active before the current one."""
    if to_version is None:
        current = model.versions.filter(status=VersionStatus.ACTIVE).first()
        last = (
            VersionEvent.objects.filter(
                model=model,
                action__in=_ACTIVATING,
                to_status=VersionStatus.ACTIVE,
                previous_active__isnull=False,
            )
            .exclude(previous_active=current)
            .order_by("-created_at", "-id")
            .first()
        )
        if current is None or last is None or last.version_id != current.pk:
            raise LifecycleError(f"{model} has no earlier active version to roll back to.")
        to_version = last.previous_active
    if to_version.model_id != model.pk:
        raise LifecycleError(f"{to_version} is not a version of {model}.")
    return version_activate(version=to_version, user=user, reason=reason, action=EventAction.ROLLBACK)


def version_deprecate(*, version: ModelVersion, user, reason: str = "") -> ModelVersion:
    """Retire a version that is not active (roll back or promote another one first)."""
    with transaction.atomic():
        from_status = ModelVersion.objects.select_for_update().get(pk=version.pk).status
        if from_status == VersionStatus.ACTIVE:
            raise LifecycleError(f"{version} is active; promote or roll back to another version first.")
        if from_status == VersionStatus.DEPRECATED:
            raise LifecycleError(f"{version} is already deprecated.")
        ModelVersion.objects.filter(pk=version.pk).update(status=VersionStatus.DEPRECATED)
        version.status = VersionStatus.DEPRECATED
        _event(version, EventAction.DEPRECATE, from_status, user, reason)
    return version


def active_version_at(model: Model, when) -> ModelVersion | None:
    """The version of ``model`` that was active at ``when``, from the audit trail."""
    last = (
        VersionEvent.objects.filter(model=model, created_at__lte=when)
        .filter(Q(action__in=_ACTIVATING, to_status=VersionStatus.ACTIVE) | Q(action=EventAction.ARCHIVE))
        .select_related("version")
        .order_by("-created_at", "-id")
        .first()
    )
    if last is None or last.action == EventAction.ARCHIVE:
        return None
    return last.version


def model_archive(*, model: Model, user, reason: str) -> Model:
    """Retire a whole model: its active version stops serving, nothing can be promoted again."""
    with transaction.atomic():
        model = Model.objects.select_for_update().get(pk=model.pk)
        if model.status == ModelStatus.ARCHIVED:
            raise LifecycleError(f"{model} is already archived.")
        active = model.versions.filter(status=VersionStatus.ACTIVE).first()
        latest = active or model.versions.order_by("-version").first()
        if active is not None:
            ModelVersion.objects.filter(pk=active.pk).update(status=VersionStatus.INACTIVE)
            active.status = VersionStatus.INACTIVE
        Model.objects.filter(pk=model.pk).update(status=ModelStatus.ARCHIVED, ab_version=None, ab_percent=0)
        PromotionRequest.objects.filter(version__model=model, status=RequestStatus.PENDING).update(
            status=RequestStatus.WITHDRAWN,
            decided_at=timezone.now(),
            decision_reason="The model was archived.",
        )
        if latest is not None:
            _event(
                latest,
                EventAction.ARCHIVE,
                VersionStatus.ACTIVE if active else latest.status,
                user,
                reason,
                previous=active,
            )
        model.refresh_from_db()
    return model


# --------------------------------------------------------------------------- maker-checker


def approval_required() -> bool:
    return bool(config_get("models-promotion-approval"))


def promotion_request(*, version: ModelVersion, user, reason: str) -> PromotionRequest:
    """Ask for ``version`` to be promoted; a different admin approves or rejects it."""
    if not reason.strip():
        raise LifecycleError("A promotion request needs a reason.")
    _check_promotable(version)
    try:
        with transaction.atomic():
            request = PromotionRequest.objects.create(version=version, reason=reason, requested_by=user)
            _event(version, EventAction.REQUEST, version.status, user, reason)
    except IntegrityError:
        raise LifecycleError(f"A promotion of {version} is already waiting for approval.") from None
    return request


def _check_promotable(version: ModelVersion) -> None:
    version.refresh_from_db()
    if version.model.status == ModelStatus.ARCHIVED:
        raise LifecycleError(f"{version.model} is archived; its versions cannot be made active.")
    if version.status in (VersionStatus.ACTIVE, VersionStatus.DEPRECATED):
        raise LifecycleError(f"{version} is {version.status}; it cannot be promoted.")


def _decide(request: PromotionRequest, user) -> PromotionRequest:
    request = PromotionRequest.objects.select_for_update().select_related("version__model").get(pk=request.pk)
    if request.status != RequestStatus.PENDING:
        raise LifecycleError(f"This request is already {request.status}.")
    if request.requested_by_id == user.pk:
        raise LifecycleError("A different admin must decide on a promotion you requested.")
    return request


def promotion_approve(*, request: PromotionRequest, user, reason: str = "") -> ModelVersion:
    """Approve a pending promotion (not your own): the version becomes active."""
    with transaction.atomic():
        request = _decide(request, user)
        version = version_activate(
            version=request.version, user=user, reason=reason or request.reason, action=EventAction.APPROVE
        )
        PromotionRequest.objects.filter(pk=request.pk).update(
            status=RequestStatus.APPROVED, decided_by=user, decided_at=timezone.now(), decision_reason=reason
        )
    return version


def promotion_reject(*, request: PromotionRequest, user, reason: str) -> PromotionRequest:
    """Reject a pending promotion (not your own); the version keeps its status."""
    if not reason.strip():
        raise LifecycleError("Say why the promotion is rejected.")
    with transaction.atomic():
        request = _decide(request, user)
        PromotionRequest.objects.filter(pk=request.pk).update(
            status=RequestStatus.REJECTED, decided_by=user, decided_at=timezone.now(), decision_reason=reason
        )
        _event(request.version, EventAction.REJECT, request.version.status, user, reason)
        request.refresh_from_db()
    return request


# --------------------------------------------------------------------------- A/B and review


def ab_set(*, model: Model, version: ModelVersion | None, percent: int, user, reason: str = "") -> Model:
    """Send ``percent`` % of the model's traffic to ``version`` (0 or None ends the split)."""
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise LifecycleError("percent must be an integer between 0 and 100.")
    with transaction.atomic():
        model = Model.objects.select_for_update().get(pk=model.pk)
        if model.status == ModelStatus.ARCHIVED:
            raise LifecycleError(f"{model} is archived.")
        active = model.versions.filter(status=VersionStatus.ACTIVE).first()
        if version is None or percent == 0:
            version, percent = None, 0
        else:
            if version.model_id != model.pk:
                raise LifecycleError(f"{version} is not a version of {model}.")
            if active is None:
                raise LifecycleError(f"{model} has no active version to split traffic with.")
            if version.pk == active.pk:
                raise LifecycleError(f"{version} is the active version; choose another one for B.")
            if version.status == VersionStatus.DEPRECATED:
                raise LifecycleError(f"{version} is deprecated.")
        previous = model.ab_version
        Model.objects.filter(pk=model.pk).update(ab_version=version, ab_percent=percent)
        subject = version or previous or active
        if subject is not None:
            _event(
                subject,
                EventAction.AB,
                subject.status,
                user,
                reason,
                details={
                    "abVersion": version.version if version else None,
                    "abPercent": percent,
                    "previousAbVersion": previous.version if previous else None,
                    "previousAbPercent": model.ab_percent,
                },
            )
        model.refresh_from_db()
    return model


def version_flag(*, version: ModelVersion, reason: str, details: dict | None = None, user=None) -> bool:
    """Mark a version for review (monitoring found drift or a metric past its threshold).

    Returns False, recording nothing new, when it is already flagged.
    """
    with transaction.atomic():
        flagged = ModelVersion.objects.filter(pk=version.pk, review_required=False).update(
            review_required=True, review_reason=reason
        )
        if flagged:
            version.refresh_from_db()
            _event(version, EventAction.FLAG, version.status, user, reason, details=details)
    return bool(flagged)


def version_review_clear(*, version: ModelVersion, user, reason: str) -> ModelVersion:
    """An admin has looked at a flagged version; the flag goes, the trail keeps both."""
    with transaction.atomic():
        if not ModelVersion.objects.filter(pk=version.pk, review_required=True).update(review_required=False):
            raise LifecycleError(f"{version} is not marked for review.")
        version.refresh_from_db()
        _event(version, EventAction.REVIEW, version.status, user, reason)
    return version


# --------------------------------------------------------------------------- champion/challenger

LOWER_IS_BETTER = frozenset({"rmse", "mae", "logloss"})
AUTO_METRIC = {"binary": "auc", "multiclass": "f1_macro", "regression": "rmse"}


def gate_metric(objective: str) -> str:
    configured = str(config_get("models-challenger-metric") or "auto")
    return AUTO_METRIC.get(objective, "auc") if configured == "auto" else configured


def gate_compare(objective: str, challenger: dict, champion: dict) -> dict[str, Any]:
    """Whether the challenger beats the champion by the configured margin on the holdout metric."""
    metric = gate_metric(objective)
    margin = float(config_get("models-challenger-margin"))
    a, b = challenger.get(metric), champion.get(metric)
    if a is None or b is None:
        return {"metric": metric, "margin": margin, "promote": False, "why": f"{metric} is not available"}
    gain = (b - a) if metric in LOWER_IS_BETTER else (a - b)
    return {
        "metric": metric,
        "margin": margin,
        "challenger": a,
        "champion": b,
        "gain": gain,
        "promote": gain >= margin,
    }


def gate_decide(*, version: ModelVersion, champion: ModelVersion, details: dict[str, Any], user) -> str:
    """Apply a champion/challenger decision to a freshly registered version; the trail keeps it.

    Returns ``promoted``, ``requested`` (maker-checker is on) or ``kept``.
    """
    details = {**details, "championVersion": champion.version}
    if details.get("promote"):
        summary = (
            f"Challenger {details['metric']} {details['challenger']:.4f} beats champion v{champion.version} "
            f"({details['champion']:.4f}) by {details['gain']:.4f} >= margin {details['margin']}."
        )
        if approval_required() and user is not None:
            promotion_request(version=version, user=user, reason=summary)
            _event(
                version,
                EventAction.GATE,
                version.status,
                user,
                summary + " Waiting for approval.",
                details=details,
            )
            return "requested"
        version_activate(version=version, user=user, reason=summary, action=EventAction.GATE, details=details)
        return "promoted"
    if "gain" in details:
        summary = (
            f"Kept registered: {details['metric']} {details['challenger']:.4f} vs champion "
            f"v{champion.version} {details['champion']:.4f} "
            f"(gain {details['gain']:.4f} < margin {details['margin']})."
        )
    else:
        summary = f"Kept registered: not comparable with champion v{champion.version} ({details.get('why')})."
    _event(version, EventAction.GATE, version.status, user, summary, details=details)
    return "kept"

"""Registry writes: register a trained version with its signed artifact, load it back verified."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.features.services import feature_set_lock

from . import artifacts
from .models import (
    EventAction,
    Model,
    ModelStatus,
    ModelType,
    ModelVersion,
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
            raise LifecycleError(f"{model} already has a version {version_number}.")
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


def version_load(version: ModelVersion) -> tuple[artifacts.Artifact, Any]:
    """Read, verify (checksum and signature) and load a version's model; raises ArtifactError."""
    with version.artifact.open("rb") as fh:
        blob = fh.read()
    artifact = artifacts.unpack(blob, key=artifact_key())
    if artifact.checksum != version.checksum:
        raise artifacts.ArtifactError("checksum_mismatch", "artifact does not match the registered checksum")
    return artifact, artifacts.load_model(artifact)


class LifecycleError(Exception):
    """A lifecycle change the version's status does not allow."""


class ConcurrentChange(Exception):
    """Another request changed the model's active version at the same moment."""


def _event(version: ModelVersion, action: str, from_status: str, user, reason: str, previous=None) -> None:
    VersionEvent.objects.create(
        model_id=version.model_id,
        version=version,
        action=action,
        from_status=from_status,
        to_status=version.status,
        previous_active=previous,
        reason=reason,
        actor=user,
        created_at=timezone.now(),
    )


def version_activate(
    *, version: ModelVersion, user, reason: str = "", action: str = "promote"
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
            Model.objects.select_for_update().get(pk=version.model_id)
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
            _event(version, action, from_status, user, reason, previous)
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
                action__in=[EventAction.PROMOTE, EventAction.ROLLBACK],
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
        VersionEvent.objects.filter(
            model=model, action__in=[EventAction.PROMOTE, EventAction.ROLLBACK], created_at__lte=when
        )
        .select_related("version")
        .order_by("-created_at", "-id")
        .first()
    )
    return last.version if last else None

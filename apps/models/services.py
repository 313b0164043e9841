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

from apps.features.services import feature_set_lock

from . import artifacts
from .models import Model, ModelType, ModelVersion
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


def artifact_store(result: TrainingResult) -> StoredArtifact:
    """Sign ``result``'s model and write it under a server-chosen name (outside any transaction)."""
    blob = artifacts.pack(result.model_bytes, result.model_format, key=artifact_key(), meta=result.meta)
    header = artifacts.unpack(blob, key=artifact_key())
    name = default_storage.save(f"models/{uuid.uuid4().hex}.omm", ContentFile(blob))
    return StoredArtifact(name, header.format, header.checksum, header.signature, len(blob))


def artifact_discard(stored: StoredArtifact) -> None:
    default_storage.delete(stored.name)


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
    """Register ``result`` (already stored as ``stored``) as the next version of ``model_name``.

    The model is created if new. Idempotent per task: a task that already registered a
    version gets that version back with ``False``; the caller then discards ``stored``.
    """
    if task is not None:
        existing = ModelVersion.objects.filter(task=task).first()
        if existing is not None:
            return existing, False
    objective = result.meta.get("objective", "")
    with transaction.atomic():
        model, _ = Model.objects.get_or_create(
            name=model_name,
            defaults={
                "type": model_type_for(objective),
                "algorithm": result.algorithm,
                "parameters": result.params,
                "created_by": user,
            },
        )
        model = Model.objects.select_for_update().get(pk=model.pk)  # serialises version numbers
        try:
            with transaction.atomic():
                version = ModelVersion.objects.create(
                    model=model,
                    version=_next_version(model),
                    changelog=changelog,
                    algorithm=result.algorithm,
                    objective=objective,
                    metrics=result.metrics,
                    parameters=result.params,
                    artifact=stored.name,
                    artifact_format=stored.format,
                    size=stored.size,
                    checksum=stored.checksum,
                    signature=stored.signature,
                    feature_schema={
                        "features": result.feature_names,
                        "categoricalLevels": result.categorical_levels,
                        "label": result.meta.get("label"),
                        "labelClasses": result.meta.get("label_classes"),
                    },
                    task=task,
                    dataset_version=dataset_version,
                    dataset_sha256=dataset_version.sha256 if dataset_version is not None else "",
                    feature_set=feature_set,
                    seed=result.seed,
                    library_versions=result.library_versions,
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
    return version, True


def version_load(version: ModelVersion) -> tuple[artifacts.Artifact, Any]:
    """Read, verify (checksum and signature) and load a version's model; raises ArtifactError."""
    with version.artifact.open("rb") as fh:
        blob = fh.read()
    artifact = artifacts.unpack(blob, key=artifact_key())
    if artifact.checksum != version.checksum:
        raise artifacts.ArtifactError("checksum_mismatch", "artifact does not match the registered checksum")
    return artifact, artifacts.load_model(artifact)

"""Registry read paths."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery

from .models import Model, ModelVersion


def models_with_latest() -> QuerySet[Model]:
    latest = ModelVersion.objects.filter(model=OuterRef("pk")).order_by("-version")
    return (
        Model.objects.select_related("created_by")
        .annotate(version_count=Count("versions"))
        .annotate(latest_version=Subquery(latest.values("version")[:1]))
    )


def versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.select_related(
        "model", "created_by", "task", "dataset_version__dataset", "feature_set"
    )


def lineage(version: ModelVersion) -> dict:
    """Where a version came from: task, data (with its hash), feature set, parameters, seed."""
    dv = version.dataset_version
    task = version.task
    return {
        "task": {"id": task.pk, "name": task.name, "status": task.status} if task else None,
        "dataset": {
            "id": dv.dataset_id,
            "name": dv.dataset.name,
            "version": dv.version,
            "versionId": dv.pk,
            "sha256": version.dataset_sha256,
            "rows": dv.row_count,
        }
        if dv
        else None,
        "featureSet": {
            "id": version.feature_set_id,
            "name": version.feature_set.name,
            "version": version.feature_set.version,
        }
        if version.feature_set_id
        else None,
        "parameters": version.parameters,
        "seed": version.seed,
        "libraryVersions": version.library_versions,
        "training": version.training_info,
        "createdBy": version.created_by.username if version.created_by else None,
        "createdAt": version.created_at.isoformat(),
    }

"""Registry read paths."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery

from apps.datasets.models import Dataset, DatasetKind, DatasetStatus, DatasetVersion

from .models import BatchPrediction, Model, ModelVersion


def models_with_latest() -> QuerySet[Model]:
    latest = ModelVersion.objects.filter(model=OuterRef("pk")).order_by("-version")
    active = ModelVersion.objects.filter(model=OuterRef("pk"), status="active")
    return (
        Model.objects.select_related("created_by", "ab_version")
        .annotate(version_count=Count("versions"))
        .annotate(latest_version=Subquery(latest.values("version")[:1]))
        .annotate(active_version=Subquery(active.values("version")[:1]))
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


def trace(version: ModelVersion) -> dict:
    """A version's whole story: back to what made it, forward to what it produced.

    Back: task, dataset version and hash, feature set, parameters, seed, library versions,
    creator (``lineage``). Forward: evaluations, batch predictions, sampled predictions,
    reproductions, and the lifecycle trail.
    """
    from apps.tasks.models import Task

    forward_evaluations = []
    # Scored evaluations (classification, regression) and QA accuracy evaluations (retrieval).
    for kind, related, keys in (
        ("evaluation", version.evaluations, ("auc", "ks", "gini", "psi", "accuracy", "rmse", "r2")),
        ("qa", version.qa_evaluations, ("top1", "top5", "not_sure")),
    ):
        for ev in related.select_related("task", "dataset_version__dataset").order_by("-created_at")[:50]:
            forward_evaluations.append(
                {
                    "id": ev.pk,
                    "kind": kind,
                    "status": ev.status,
                    "dataset": str(ev.dataset_version),
                    "metrics": {k: v for k, v in (ev.metrics or {}).items() if k in keys},
                    "createdAt": ev.created_at.isoformat(),
                }
            )
    reproductions = [
        {
            "taskId": t.pk,
            "status": t.status,
            "metricsMatch": (t.result or {}).get("reproduction", {}).get("metricsMatch"),
            "checksumMatch": (t.result or {}).get("reproduction", {}).get("checksumMatch"),
            "differences": (t.result or {}).get("reproduction", {}).get("differences"),
            "createdAt": t.created_at.isoformat(),
        }
        for t in Task.objects.filter(parameters__reproduce_of=version.pk).order_by("-created_at")[:20]
    ]
    return {
        "id": version.pk,
        "model": version.model.name,
        "modelId": version.model_id,
        "version": version.version,
        "status": version.status,
        "source": version.source,
        "checksum": version.checksum,
        "metrics": version.metrics,
        "back": lineage(version),
        "forward": {
            "evaluations": forward_evaluations,
            "batchPredictions": [
                {
                    "id": b.pk,
                    "taskId": b.task_id,
                    "dataset": b.dataset_version.dataset.name,
                    "datasetVersion": b.dataset_version.version,
                    "rows": b.rows,
                    "createdAt": b.created_at.isoformat(),
                }
                for b in version.batch_predictions.select_related("dataset_version__dataset")[:50]
            ],
            "sampledPredictions": version.prediction_logs.count(),
            "reproductions": reproductions,
        },
        "events": [
            {
                "action": e.action,
                "fromStatus": e.from_status,
                "toStatus": e.to_status,
                "reason": e.reason,
                "actor": e.actor.username if e.actor else None,
                "createdAt": e.created_at.isoformat(),
            }
            for e in version.events.select_related("actor").order_by("created_at", "id")
        ],
    }


def batch_predictions() -> QuerySet[BatchPrediction]:
    return BatchPrediction.objects.select_related("version__model", "dataset_version__dataset", "task")


def ab_state(model: Model) -> dict:
    """The model's A/B split and how many requests each side answered."""
    from .serving import counts

    active = model.versions.filter(status="active").first()
    shown = [v for v in (active, model.ab_version) if v is not None]
    counted = counts(model.pk, [v.pk for v in shown])
    return {
        "model_id": model.pk,
        "active_version": active.version if active else None,
        "ab_version": model.ab_version.version if model.ab_version else None,
        "ab_percent": model.ab_percent,
        "requests": [{"version": v.version, "version_id": v.pk, "count": counted[v.pk]} for v in shown],
    }


def trainable_datasets() -> QuerySet[Dataset]:
    """Tabular datasets with at least one validated version: what a training can use."""
    return (
        Dataset.objects.filter(
            kind=DatasetKind.TABULAR, is_archived=False, versions__status=DatasetStatus.VALIDATED
        )
        .distinct()
        .order_by("name")
    )


def training_columns(datasets: QuerySet[Dataset]) -> dict[str, dict]:
    """Per dataset id: its newest validated version's number, label, time column and columns.

    What the training form offers when a dataset is chosen (one query for all datasets).
    """
    versions = (
        DatasetVersion.objects.filter(dataset__in=datasets, status=DatasetStatus.VALIDATED)
        .order_by("dataset_id", "-version")
        .only("dataset_id", "version", "label_column", "time_column", "validation_result")
    )
    found: dict[str, dict] = {}
    for v in versions:
        key = str(v.dataset_id)
        if key in found:
            continue
        columns = (v.validation_result or {}).get("columns", [])
        found[key] = {
            "version": v.version,
            "label": v.label_column,
            "timeColumn": v.time_column,
            "columns": [{"name": c["name"], "dtype": c.get("dtype", "")} for c in columns],
        }
    return found

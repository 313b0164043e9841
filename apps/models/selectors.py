"""Registry read paths."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Value, When

from apps.datasets.models import Dataset, DatasetKind, DatasetStatus, DatasetVersion
from apps.tasks.models import Task, TaskType

from .decisions import decisions_counted
from .display import metric_rows
from .models import (
    ACTIVATING_ACTIONS,
    BatchPrediction,
    EventAction,
    Model,
    ModelVersion,
    PromotionRequest,
    RequestStatus,
    VersionEvent,
    VersionStatus,
)
from .serving import counts


def models_with_latest() -> QuerySet[Model]:
    """Models with their version count, latest and active version numbers, and their
    current version (the active one, else the newest) with its metrics."""
    latest = ModelVersion.objects.filter(model=OuterRef("pk")).order_by("-version")
    active = ModelVersion.objects.filter(model=OuterRef("pk"), status="active")
    current = latest.order_by(Case(When(status="active", then=Value(0)), default=Value(1)), "-version")
    return (
        Model.objects.select_related("created_by", "ab_version")
        .annotate(version_count=Count("versions"))
        .annotate(latest_version=Subquery(latest.values("version")[:1]))
        .annotate(active_version=Subquery(active.values("version")[:1]))
        .annotate(current_version=Subquery(current.values("version")[:1]))
        .annotate(current_metrics=Subquery(current.values("metrics")[:1]))
    )


def model_by_ref(ref: str) -> Model | None:
    """The model named by ``ref``: its id when all digits, else its name."""
    ref = ref.strip()
    return Model.objects.filter(**({"pk": int(ref)} if ref.isdigit() else {"name": ref})).first()


def versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.select_related(
        "model", "created_by", "task", "dataset_version__dataset", "feature_set"
    )


def active_version_at(*, model: Model, when: datetime) -> ModelVersion | None:
    """The version of ``model`` that was active at ``when``, from the audit trail."""
    last = (
        VersionEvent.objects.filter(model=model, created_at__lte=when)
        .filter(
            Q(action__in=ACTIVATING_ACTIONS, to_status=VersionStatus.ACTIVE) | Q(action=EventAction.ARCHIVE)
        )
        .select_related("version")
        .order_by("-created_at", "-id")
        .first()
    )
    if last is None or last.action == EventAction.ARCHIVE:
        return None
    return last.version


def events(model: Model) -> QuerySet[VersionEvent]:
    """The model's lifecycle trail (oldest first unless ordered otherwise)."""
    return VersionEvent.objects.filter(model=model).select_related("version", "previous_active", "actor")


def promotion_requests(status: str | None = None) -> QuerySet[PromotionRequest]:
    rows = PromotionRequest.objects.select_related("version__model", "requested_by", "decided_by")
    return rows.filter(status=status) if status else rows


def pending_requests(model: Model) -> QuerySet[PromotionRequest]:
    """The model's promotion requests waiting for a decision, oldest first."""
    return (
        PromotionRequest.objects.filter(version__model=model, status=RequestStatus.PENDING)
        .select_related("version", "requested_by")
        .order_by("requested_at")
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
    creator (``lineage``). Forward: evaluations, batch predictions, decisions on record,
    reproductions, and the lifecycle trail.
    """
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
            "decisions": decisions_counted(version.pk),
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


def model_overview(model: Model, *, event_limit: int, batch_limit: int) -> dict:
    """What a model's page shows: its versions (newest first, each with its lineage, its
    parameters by name and the requests it answered), their metrics side by side, the
    serving sides, flagged versions, the newest ``event_limit`` events of the trail,
    pending promotion requests and the newest ``batch_limit`` batch predictions."""
    versions_ = list(versions().filter(model=model).order_by("-version"))
    requests = counts(model.pk, [v.pk for v in versions_])
    for v in versions_:
        v.requests = requests[v.pk]
    active = next((v for v in versions_ if v.status == VersionStatus.ACTIVE), None)
    trail = events(model)
    return {
        "versions": [_with_lineage(v) for v in versions_],
        "metric_rows": metric_rows(versions_),
        "active": active,
        "ab_split": serving_sides(model, active, requests),
        "flagged": [v for v in versions_ if v.review_required],
        "events": trail.order_by("-created_at", "-id")[:event_limit],
        "event_count": trail.count(),
        "pending": pending_requests(model),
        "batches": batch_predictions().filter(version__model=model)[:batch_limit],
    }


def _with_lineage(version: ModelVersion) -> tuple[ModelVersion, dict, list[tuple[str, object]]]:
    """The version, its lineage, and its parameters by name (JSONB does not keep their order)."""
    lin = lineage(version)
    return version, lin, sorted((lin["parameters"] or {}).items())


def serving_sides(model: Model, active: ModelVersion | None, requests: dict[int, int]) -> list[dict]:
    """Each serving side (active, then B when a split is set) with its share and request count."""
    percent = model.ab_percent if model.ab_version_id else 0
    sides = []
    if active is not None:
        sides.append({"arm": "active", "version": active, "percent": 100 - percent})
    if model.ab_version_id and percent:
        sides.append({"arm": "B", "version": model.ab_version, "percent": percent})
    for side in sides:
        side["requests"] = requests.get(side["version"].pk, 0)
    return sides


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


def batch_tasks(model: Model) -> QuerySet[Task]:
    """The model's batch-prediction tasks, newest first, each with its file's row once done."""
    return (
        Task.objects.filter(type=TaskType.PREDICTION, parameters__model_id=model.pk)
        .select_related("batch_prediction__dataset_version__dataset", "created_by")
        .order_by("-created_at", "-id")
    )

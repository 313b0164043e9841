"""Evaluations: read paths — lists, the result shape every reader shares, comparisons, alerts,
and what the drift monitor reads."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext

from apps.datasets.models import DatasetStatus, DatasetVersion
from apps.models.models import ModelType, ModelVersion, VersionStatus
from apps.tasks.models import TaskStatus

from . import texts
from .constants import HEADLINE, metric_label
from .errors import CompareInvalid
from .metrics import DEFINITIONS
from .models import STATUS_OF_TASK, TASK_STATUSES, Evaluation, EvaluationStatus, Objective

# Which definitions a report shows, by objective (metrics.DEFINITIONS is the one source).
DEFINED: dict[str, tuple[str, ...]] = {
    Objective.BINARY: (
        "threshold",
        "auc",
        "gini",
        "ks",
        "psi",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "average_precision",
        "log_loss",
        "deciles",
        "csi",
    ),
    Objective.REGRESSION: ("mse", "rmse", "mae", "r2", "psi", "csi"),
    Objective.MULTICLASS: ("accuracy", "precision", "recall", "f1", "log_loss", "csi"),
}
# Comparison table rows, and whether a larger value is better.
COMPARED: dict[str, tuple[tuple[str, bool], ...]] = {
    Objective.BINARY: (
        ("auc", True),
        ("gini", True),
        ("ks", True),
        ("psi", False),
        ("accuracy", True),
        ("precision", True),
        ("recall", True),
        ("f1", True),
        ("average_precision", True),
        ("log_loss", False),
    ),
    Objective.REGRESSION: (("rmse", False), ("mae", False), ("mse", False), ("r2", True), ("psi", False)),
    Objective.MULTICLASS: (
        ("accuracy", True),
        ("macro_f1", True),
        ("weighted_f1", True),
        ("macro_precision", True),
        ("macro_recall", True),
        ("log_loss", False),
    ),
}
MAX_COMPARED = 10
# The list's filters: query parameter -> lookup.
LIST_FILTERS = {
    "model": "model_version__model_id",
    "version": "model_version_id",
    "dataset": "dataset_version__dataset_id",
}


def evaluations_for_list() -> QuerySet[Evaluation]:
    return Evaluation.objects.select_related(
        "task", "model_version__model", "dataset_version__dataset", "created_by"
    )


def with_status(queryset: QuerySet[Evaluation], status: str) -> QuerySet[Evaluation]:
    return queryset.filter(task__status__in=TASK_STATUSES[status])


def evaluations_filtered(filters: dict[str, str]) -> QuerySet[Evaluation]:
    """The list narrowed by ``filters``: ids under the ``LIST_FILTERS`` keys, and ``status``
    (an EvaluationStatus, read through the task's status); values already checked."""
    evaluations = evaluations_for_list().filter(
        **{LIST_FILTERS[k]: v for k, v in filters.items() if k in LIST_FILTERS}
    )
    if "status" in filters:
        evaluations = with_status(evaluations, filters["status"])
    return evaluations


def status_counts() -> dict[str, int]:
    counts = dict.fromkeys(EvaluationStatus.values, 0)
    for row in Evaluation.objects.values("task__status").order_by().annotate(n=Count("id")):
        counts[STATUS_OF_TASK[row["task__status"]]] += row["n"]
    return counts


def evaluatable_versions() -> QuerySet[ModelVersion]:
    return (
        ModelVersion.objects.exclude(model__type=ModelType.RETRIEVAL)
        .select_related("model")
        .order_by("model__name", "-version")
    )


def monitored_versions() -> QuerySet[ModelVersion]:
    """The versions the drift monitor evaluates: active classification and regression ones."""
    return (
        ModelVersion.objects.filter(
            status=VersionStatus.ACTIVE, model__type__in=[ModelType.CLASSIFICATION, ModelType.REGRESSION]
        )
        .select_related("model", "dataset_version")
        .order_by("model__name")
    )


def newest_validated_version(dataset_id: int) -> DatasetVersion | None:
    return (
        DatasetVersion.objects.filter(dataset_id=dataset_id, status=DatasetStatus.VALIDATED)
        .order_by("-version")
        .first()
    )


def is_monitored(*, version: ModelVersion, dataset_version: DatasetVersion) -> bool:
    """Whether ``version`` has a monitoring evaluation on ``dataset_version`` that has not
    failed or been cancelled (pending, queued, running or completed)."""
    return (
        Evaluation.objects.filter(model_version=version, dataset_version=dataset_version, is_monitor=True)
        .exclude(task__status__in=[TaskStatus.FAILED, TaskStatus.CANCELLED])
        .exists()
    )


def _latest_monitoring() -> QuerySet[Evaluation]:
    newest = (
        Evaluation.objects.filter(
            model_version=OuterRef("model_version"), is_monitor=True, task__status=TaskStatus.COMPLETED
        )
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    return evaluations_for_list().filter(pk=Subquery(newest))


def latest_monitoring() -> list[dict[str, Any]]:
    """Per monitored version, its latest completed monitoring run: model, version, PSI, alerts."""
    return [
        {
            "evaluation_id": ev.pk,
            "model": ev.model_version.model.name,
            "version": ev.model_version.version,
            "psi": (ev.metrics or {}).get("psi"),
            "alerts": [texts.alert(a) for a in ev.alerts or []],
        }
        for ev in _latest_monitoring()
    ]


def drift_alerts(limit: int = 20) -> list[dict[str, Any]]:
    """Open drift alerts: the alerts of each version's latest monitoring run, while the
    version is still marked for review (clearing the review closes them)."""
    rows = []
    for ev in _latest_monitoring().filter(model_version__review_required=True).exclude(alerts=[])[:limit]:
        rows.append(
            {
                "evaluation_id": ev.pk,
                "model": ev.model_version.model.name,
                "model_id": ev.model_version.model_id,
                "version": ev.model_version.version,
                "version_id": ev.model_version_id,
                "dataset": str(ev.dataset_version),
                "alerts": [texts.alert(a) for a in ev.alerts or []],
                "created_at": ev.created_at,
            }
        )
    return rows


def recent_evaluations(limit: int = 8) -> QuerySet[Evaluation]:
    return evaluations_for_list()[:limit]


def _columns_to_points(curve: dict | None, keys: tuple[str, ...]) -> list[dict] | None:
    """{"fpr": [...], "tpr": [...]} (the stored form) -> [{"fpr": .., "tpr": ..}, ...] (the seed's)."""
    if not curve:
        return None
    columns = [curve["thresholds" if k == "threshold" else k] for k in keys]
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]


def _seed_metrics(objective: str, figures: dict) -> dict[str, Any]:
    """The headline figures in report order (JSONB keeps none), F1 under the seed's name."""
    ordered = [k for k in HEADLINE[objective] if k in figures] + sorted(
        set(figures) - set(HEADLINE[objective])
    )
    return {("f1_score" if k == "f1" else k): figures[k] for k in ordered}


def _confusion(objective: str, report: dict) -> tuple[list[list[int]] | None, dict | None]:
    matrix = report.get("confusion_matrix")
    if objective == Objective.BINARY and matrix:
        # Rows: actual good (0), bad (1); columns: predicted good, bad.
        return [[matrix["tn"], matrix["fp"]], [matrix["fn"], matrix["tp"]]], matrix
    return matrix, None


def evaluation_result(ev: Evaluation) -> dict[str, Any]:
    """An evaluation as the API, the report page and the exports show it (snake_case keys;
    the API renders them camelCase): the seed's EvaluationResult plus deciles, PSI, PR
    curve, CSI, notes, ``metrics_version`` and the definitions of every figure."""
    report = ev.report or {}
    importance = texts.importance(ev.importance) or {}
    matrix, confusion = _confusion(ev.objective, report)
    version, data = ev.model_version, ev.dataset_version
    return {
        "id": ev.pk,
        "model_id": version.model_id,
        "model_name": version.model.name,
        "model_version": version.version,
        "model_version_id": version.pk,
        "dataset_id": data.dataset_id,
        "dataset_name": data.dataset.name,
        "dataset_version": data.version,
        "dataset_version_id": data.pk,
        "task_id": ev.task_id,
        "status": ev.status,
        "progress": ev.task.progress,
        "error": ev.task.error,
        "objective": ev.objective,
        "label": ev.label,
        "threshold": ev.threshold,
        "options": ev.options,
        "is_monitor": ev.is_monitor,
        "alerts": [texts.alert(a) for a in ev.alerts or []],
        "rows": ev.rows,
        "metrics": _seed_metrics(ev.objective, ev.metrics or {}),
        "confusion_matrix": matrix,
        "confusion": confusion,
        "roc_curve": _columns_to_points(report.get("roc_curve"), ("fpr", "tpr", "population", "threshold")),
        "pr_curve": _columns_to_points(report.get("pr_curve"), ("recall", "precision", "threshold")),
        "deciles": (report.get("deciles") or {}).get("rows"),
        "psi": _psi(report.get("psi")),
        "csi": report.get("csi"),
        "classes": report.get("classes"),
        "per_class": report.get("per_class"),
        "feature_importance": importance.get("rows"),
        "importance_method": importance.get("method"),
        "importance_note": importance.get("note"),
        "permutation_importance": texts.importance(importance.get("permutation")),
        "positives": report.get("positives"),
        "negatives": report.get("negatives"),
        "base_rate": report.get("base_rate"),
        "n_dropped": report.get("n_dropped"),
        "notes": [texts.note(n) for n in report.get("notes") or []],
        "metrics_version": ev.metrics_version,
        # Keyed as the figures are named here (the seed calls F1 f1Score).
        "definitions": {
            ("f1_score" if k == "f1" else k): gettext(DEFINITIONS[k])
            for k in DEFINED[ev.objective]
            if k in DEFINITIONS
        },
        "created_by": ev.created_by.username if ev.created_by else None,
        "created_at": ev.created_at,
        "completed_at": ev.completed_at,
    }


def _psi(psi: dict | None) -> dict | None:
    """The stored PSI section with its notes in the reader's language."""
    if not psi:
        return psi
    return {**psi, "notes": [texts.note(n) for n in psi.get("notes") or []]}


def _parse_ids(raw: str) -> list[int]:
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise CompareInvalid(
            gettext("ids must be evaluation ids separated by commas, e.g. ids=3,4.")
        ) from None
    ids = list(dict.fromkeys(ids))
    if not 2 <= len(ids) <= MAX_COMPARED:
        raise CompareInvalid(
            gettext("Give between 2 and %(max)s different evaluation ids.") % {"max": MAX_COMPARED}
        )
    return ids


def evaluation_compare(raw_ids: str) -> dict[str, Any]:
    """Completed evaluations of the same dataset version side by side: a metrics table
    (with the best value of each row) and each one's curves. Raises CompareInvalid."""
    ids = _parse_ids(raw_ids or "")
    found = {ev.pk: ev for ev in evaluations_for_list().filter(pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise CompareInvalid(
            gettext("No evaluation with id %(ids)s.") % {"ids": ", ".join(map(str, missing))}
        )
    # Older versions first, whatever order the ids came in (the list page sends newest first).
    evaluations = sorted(
        found.values(), key=lambda ev: (ev.model_version.model.name, ev.model_version.version, ev.pk)
    )
    unfinished = [
        gettext("#%(id)s is %(status)s")
        % {"id": ev.pk, "status": str(EvaluationStatus(ev.status).label).lower()}
        for ev in evaluations
        if ev.status != EvaluationStatus.COMPLETED
    ]
    if unfinished:
        raise CompareInvalid(
            gettext("Only completed evaluations can be compared: %(which)s.")
            % {"which": ", ".join(unfinished)}
        )
    data = {ev.dataset_version_id for ev in evaluations}
    if len(data) > 1:
        shown = ", ".join(
            gettext("#%(id)s on %(data)s") % {"id": ev.pk, "data": ev.dataset_version} for ev in evaluations
        )
        raise CompareInvalid(
            gettext("Evaluations compared side by side must be on the same dataset version: %(which)s.")
            % {"which": shown}
        )
    objectives = {ev.objective for ev in evaluations}
    if len(objectives) > 1:
        raise CompareInvalid(
            gettext("These evaluations mix objectives (%(objectives)s).")
            % {"objectives": ", ".join(str(Objective(o).label) for o in sorted(objectives))}
        )
    objective = objectives.pop()
    results = [evaluation_result(ev) for ev in evaluations]
    rows = []
    for name, larger_is_better in COMPARED[objective]:
        values = [(ev.metrics or {}).get(name) for ev in evaluations]
        known = [(v, i) for i, v in enumerate(values) if v is not None]
        best = (max(known) if larger_is_better else min(known))[1] if len(known) > 1 else None
        rows.append(
            {
                "name": name,
                "label": metric_label(name),
                "definition": gettext(DEFINITIONS[name]) if name in DEFINITIONS else "",
                "values": values,
                "best": best,
                "larger_is_better": larger_is_better,
            }
        )
    first = evaluations[0].dataset_version
    return {
        "dataset_id": first.dataset_id,
        "dataset_name": first.dataset.name,
        "dataset_version": first.version,
        "objective": objective,
        "evaluations": [
            {
                key: r[key]
                for key in (
                    "id",
                    "model_id",
                    "model_name",
                    "model_version",
                    "model_version_id",
                    "threshold",
                    "rows",
                    "metrics",
                    "roc_curve",
                    "pr_curve",
                    "deciles",
                    "created_at",
                )
            }
            for r in results
        ],
        "metrics": rows,
    }


def active_versions_with_metrics(limit: int = 20) -> list[dict[str, Any]]:
    """Each scoring model's active (production) version with its latest completed
    evaluation's AUC and KS (regression: RMSE and R²) and when it completed."""
    latest = (
        Evaluation.objects.filter(model_version=OuterRef("pk"), task__status=TaskStatus.COMPLETED)
        .order_by("-completed_at", "-id")
        .values("pk")[:1]
    )
    versions = list(
        ModelVersion.objects.filter(status=VersionStatus.ACTIVE)
        .exclude(model__type=ModelType.RETRIEVAL)
        .select_related("model")
        .annotate(latest_evaluation=Subquery(latest))
        .order_by("model__name")[:limit]
    )
    found = Evaluation.objects.in_bulk([v.latest_evaluation for v in versions if v.latest_evaluation])
    rows = []
    for v in versions:
        ev = found.get(v.latest_evaluation)
        metrics = (ev.metrics or {}) if ev else {}
        rows.append(
            {
                "model": v.model.name,
                "model_id": v.model_id,
                "version": v.version,
                "version_id": v.pk,
                "review_required": v.review_required,
                "evaluation_id": ev.pk if ev else None,
                "objective": ev.objective if ev else v.objective,
                "auc": metrics.get("auc"),
                "ks": metrics.get("ks"),
                "rmse": metrics.get("rmse"),
                "r2": metrics.get("r2"),
                "evaluated_at": (ev.completed_at or ev.created_at) if ev else None,
            }
        )
    return rows

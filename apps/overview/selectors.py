"""The dashboard's figures, each read from the domain that owns it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.alerts.selectors import dashboard_alerts
from apps.core.selectors import api_traffic_last_day, live_processes
from apps.datasets.selectors import dataset_counts, quality_alerts, recent_versions, validation_failures
from apps.evaluations.selectors import active_versions_with_metrics, drift_alerts, recent_evaluations
from apps.features.selectors import feature_counts
from apps.qa.selectors import activity_last_day
from apps.tasks.models import Task
from apps.tasks.selectors import task_status_counts, tasks_failed_since, tasks_in_progress

# Failed tasks stay on the dashboard's alerts this long.
FAILED_TASKS_WINDOW = timedelta(hours=24)


def dashboard_counts() -> dict[str, int]:
    """Headline counts across domains for the dashboard."""
    return {**dataset_counts(), **feature_counts()}


def dashboard_figures() -> dict[str, Any]:
    """Everything the dashboard shows that the domains and the platform know."""
    return {
        "counts": dashboard_counts(),
        "quality_alerts": quality_alerts(),
        "drift_alerts": drift_alerts(),
        "recent_evaluations": recent_evaluations(),
        "recent_versions": recent_versions(),
        "processes": live_processes().order_by("kind", "hostname"),
        "traffic": api_traffic_last_day(),
        "qa": activity_last_day(),
        "model_alerts": dashboard_alerts(),
        **dashboard_work(),
    }


def task_target(task: Task) -> str:
    """What a task works on, read from the parameters every kind records: the model (and
    version) and the dataset (and version), e.g. "credit v2 · credit_data v1"."""
    p = task.parameters or {}
    parts = []
    if p.get("model_name"):
        parts.append(f"{p['model_name']} v{p['version']}" if p.get("version") else str(p["model_name"]))
    dataset = p.get("dataset_name") or (f"#{p['dataset']}" if p.get("dataset") else "")
    if dataset:
        parts.append(f"{dataset} v{p['dataset_version']}" if p.get("dataset_version") else str(dataset))
    return " · ".join(parts)


def dashboard_work() -> dict[str, Any]:
    """Work in progress, production models with their latest metrics, and what went wrong:
    tasks failed in the last 24 hours and datasets whose newest version failed validation."""
    since = timezone.now() - FAILED_TASKS_WINDOW
    in_progress = tasks_in_progress()
    for task in in_progress:
        task.target = task_target(task)
    failed = list(tasks_failed_since(since))
    for task in failed:
        task.target = task_target(task)
    active_models = active_versions_with_metrics()
    return {
        "tasks_in_progress": in_progress,
        "failed_tasks": failed,
        "task_counts": task_status_counts(failed_since=since),
        "active_models": active_models,
        "validation_failures": list(validation_failures()),
    }

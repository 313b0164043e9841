"""Evaluations: a model version scored on a dataset version, with its stored report."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EvaluationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# An evaluation's status is its task's, read through the one state machine of the work
# queue (a queued task is a pending evaluation); it is never stored twice.
TASK_STATUSES: dict[str, list[str]] = {
    EvaluationStatus.PENDING: ["pending", "queued"],
    EvaluationStatus.RUNNING: ["running"],
    EvaluationStatus.COMPLETED: ["completed"],
    EvaluationStatus.FAILED: ["failed"],
    EvaluationStatus.CANCELLED: ["cancelled"],
}
STATUS_OF_TASK = {task: status for status, tasks in TASK_STATUSES.items() for task in tasks}


class Objective(models.TextChoices):
    BINARY = "binary", "Binary classification"
    MULTICLASS = "multiclass", "Multiclass classification"
    REGRESSION = "regression", "Regression"


class Evaluation(models.Model):
    """One evaluation task and, once it completed, what it found.

    ``metrics`` holds the headline figures (AUC, KS, Gini, PSI, threshold metrics, or
    MSE/RMSE/MAE/R²), ``report`` the whole output of ``metrics.classification_report`` /
    ``regression_report`` / ``multiclass_report`` plus CSI, ``importance`` the feature
    importance. A monitoring run (``is_monitor``) also records the ``alerts`` it raised.
    """

    task = models.OneToOneField("tasks.Task", on_delete=models.PROTECT, related_name="evaluation")
    model_version = models.ForeignKey(
        "models.ModelVersion", on_delete=models.PROTECT, related_name="evaluations"
    )
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion", on_delete=models.PROTECT, related_name="evaluations"
    )
    objective = models.CharField(max_length=20, choices=Objective.choices)
    label = models.CharField(max_length=200)
    threshold = models.FloatField(null=True, blank=True, help_text="Predicted bad when score >= threshold.")
    options = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    report = models.JSONField(null=True, blank=True)
    importance = models.JSONField(null=True, blank=True)
    metrics_version = models.CharField(max_length=20, blank=True)
    rows = models.BigIntegerField(null=True, blank=True)
    is_monitor = models.BooleanField(default=False, db_index=True)
    alerts = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.model_version} on {self.dataset_version}"

    @property
    def status(self) -> str:
        return STATUS_OF_TASK.get(self.task.status, EvaluationStatus.PENDING)

    @property
    def is_final(self) -> bool:
        return self.task.is_final

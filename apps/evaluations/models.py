"""Evaluations: a model version scored on a dataset version, with its stored report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EvaluationStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("evaluation status", "Pending")
    RUNNING = "running", pgettext_lazy("evaluation status", "Running")
    COMPLETED = "completed", pgettext_lazy("evaluation status", "Completed")
    FAILED = "failed", pgettext_lazy("evaluation status", "Failed")
    CANCELLED = "cancelled", pgettext_lazy("evaluation status", "Cancelled")


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
    BINARY = "binary", _("Binary classification")
    MULTICLASS = "multiclass", _("Multiclass classification")
    REGRESSION = "regression", pgettext_lazy("objective", "Regression")


class Evaluation(models.Model):
    """One evaluation task and, once it completed, what it found.

    ``metrics`` holds the headline figures (AUC, KS, Gini, PSI, threshold metrics, or
    MSE/RMSE/MAE/R²), ``report`` the whole output of ``metrics.classification_report`` /
    ``regression_report`` / ``multiclass_report`` plus CSI, ``importance`` the feature
    importance. A monitoring run (``is_monitor``) also records the ``alerts`` it raised.
    """

    task = models.OneToOneField(
        "tasks.Task", on_delete=models.PROTECT, related_name="evaluation", verbose_name=_("task")
    )
    model_version = models.ForeignKey(
        "models.ModelVersion",
        on_delete=models.PROTECT,
        related_name="evaluations",
        verbose_name=_("model version"),
    )
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion",
        on_delete=models.PROTECT,
        related_name="evaluations",
        verbose_name=_("dataset version"),
    )
    objective = models.CharField(_("objective"), max_length=20, choices=Objective.choices)
    label = models.CharField(_("label"), max_length=200)
    threshold = models.FloatField(
        _("threshold"), null=True, blank=True, help_text=_("Predicted bad when score >= threshold.")
    )
    options = models.JSONField(_("options"), default=dict, blank=True)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    report = models.JSONField(_("report"), null=True, blank=True)
    importance = models.JSONField(_("feature importance"), null=True, blank=True)
    metrics_version = models.CharField(_("metrics version"), max_length=20, blank=True)
    rows = models.BigIntegerField(_("rows"), null=True, blank=True)
    is_monitor = models.BooleanField(_("monitoring run"), default=False, db_index=True)
    alerts = models.JSONField(_("alerts"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")

    def __str__(self) -> str:
        return _("#%(id)s %(version)s on %(dataset)s") % {
            "id": self.pk,
            "version": self.model_version,
            "dataset": self.dataset_version,
        }

    @property
    def status(self) -> str:
        return STATUS_OF_TASK.get(self.task.status, EvaluationStatus.PENDING)

    @property
    def is_final(self) -> bool:
        return self.task.is_final

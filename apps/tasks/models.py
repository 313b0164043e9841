"""The work queue: tasks with one state machine, their logs and their schedules."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TaskType(models.TextChoices):
    TRAINING = "training", _("Training")
    EVALUATION = "evaluation", _("Evaluation")
    PREDICTION = "prediction", _("Batch prediction")
    INGESTION = "ingestion", _("Ingestion")


class TaskStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("task status", "Pending")
    QUEUED = "queued", pgettext_lazy("task status", "Queued")
    RUNNING = "running", pgettext_lazy("task status", "Running")
    COMPLETED = "completed", pgettext_lazy("task status", "Completed")
    FAILED = "failed", pgettext_lazy("task status", "Failed")
    CANCELLED = "cancelled", pgettext_lazy("task status", "Cancelled")


# The lowercase word a status badge shows (the API's value in English; translated otherwise).
STATUS_WORDS = {
    TaskStatus.PENDING: pgettext_lazy("task status", "pending"),
    TaskStatus.QUEUED: pgettext_lazy("task status", "queued"),
    TaskStatus.RUNNING: pgettext_lazy("task status", "running"),
    TaskStatus.COMPLETED: pgettext_lazy("task status", "completed"),
    TaskStatus.FAILED: pgettext_lazy("task status", "failed"),
    TaskStatus.CANCELLED: pgettext_lazy("task status", "cancelled"),
}


FINAL_STATUSES = (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class Priority(models.TextChoices):
    LOW = "low", pgettext_lazy("priority", "Low")
    MEDIUM = "medium", pgettext_lazy("priority", "Medium")
    HIGH = "high", pgettext_lazy("priority", "High")
    URGENT = "urgent", pgettext_lazy("priority", "Urgent")


# Redis serves priority 0 first; steps 0..9 are configured in settings.
BROKER_PRIORITY = {Priority.URGENT: 0, Priority.HIGH: 3, Priority.MEDIUM: 5, Priority.LOW: 8}


class Task(models.Model):
    """One unit of background work. Status only changes through ``services.transition``."""

    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=TaskType.choices, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.PENDING, db_index=True
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    resource_config = models.JSONField(_("resource config"), default=dict, blank=True)
    progress = models.FloatField(_("progress"), default=0)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    celery_task_id = models.CharField(_("celery task id"), max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    worker = models.CharField(
        _("worker"), max_length=255, blank=True, help_text=_("host:pid of the process running it")
    )
    heartbeat_at = models.DateTimeField(_("heartbeat at"), null=True, blank=True)
    schedule = models.ForeignKey(
        "TaskSchedule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        verbose_name=_("schedule"),
    )
    rerun_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("re-run of"),
    )
    trigger_key = models.CharField(
        _("trigger key"),
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Dedupes a scheduled run delivered twice."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [models.Index(fields=["type", "status"], name="task_type_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__gte=0, progress__lte=100), name="task_progress_range"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def status_word(self) -> str:
        """The status as a badge shows it, in the reader's language."""
        return str(STATUS_WORDS.get(self.status, self.status))

    @property
    def produced_version(self) -> dict | None:
        """The model version this task registered, as its result names it (a training or a
        QA build); the queue reads it from the result, knowing nothing of the registry."""
        result = self.result or {}
        # An evaluation or a batch prediction names the version it used, not a model: no link.
        if "modelVersionId" not in result or result.get("modelId") is None:
            return None
        return {
            "id": result["modelVersionId"],
            "model_id": result.get("modelId"),
            "model_name": result.get("modelName", ""),
            "version": result.get("version"),
        }


class LogLevel(models.TextChoices):
    DEBUG = "debug", pgettext_lazy("log level", "Debug")
    INFO = "info", pgettext_lazy("log level", "Info")
    WARNING = "warning", pgettext_lazy("log level", "Warning")
    ERROR = "error", pgettext_lazy("log level", "Error")


# The lowercase word a log row shows for its level (as stored in English; translated otherwise).
LEVEL_WORDS = {
    LogLevel.DEBUG: pgettext_lazy("log level", "debug"),
    LogLevel.INFO: pgettext_lazy("log level", "info"),
    LogLevel.WARNING: pgettext_lazy("log level", "warning"),
    LogLevel.ERROR: pgettext_lazy("log level", "error"),
}


class TaskLog(models.Model):
    """One log line of a task; training rounds carry step, losses and metrics (the live curve)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="logs", verbose_name=_("task"))
    created_at = models.DateTimeField(_("created at"), db_index=True)
    level = models.CharField(_("level"), max_length=10, choices=LogLevel.choices, default=LogLevel.INFO)
    message = models.TextField(_("message"))
    step = models.PositiveIntegerField(_("step"), null=True, blank=True)
    loss = models.FloatField(_("loss"), null=True, blank=True)
    valid_loss = models.FloatField(_("valid loss"), null=True, blank=True)
    metrics = models.JSONField(_("metrics"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["task", "id"], name="task_log_task_id")]
        verbose_name = _("task log")
        verbose_name_plural = _("task logs")

    def __str__(self) -> str:
        return f"{self.task_id} {self.level}: {self.message[:60]}"

    @property
    def level_word(self) -> str:
        """The level as the task's page shows it, in the reader's language."""
        return str(LEVEL_WORDS.get(self.level, self.level))


class TaskSchedule(models.Model):
    """A training to run on a cron or interval schedule; each run is a normal Task.

    The timing lives in the linked django-celery-beat PeriodicTask, so beat fires it and
    the admin shows it next to the platform's own schedules.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    type = models.CharField(_("type"), max_length=20, choices=TaskType.choices, default=TaskType.TRAINING)
    parameters = models.JSONField(_("parameters"), default=dict)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM
    )
    resource_config = models.JSONField(_("resource config"), default=dict, blank=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        on_delete=models.CASCADE,
        related_name="omm_schedule",
        verbose_name=_("periodic task"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("task schedule")
        verbose_name_plural = _("task schedules")

    def __str__(self) -> str:
        return self.name

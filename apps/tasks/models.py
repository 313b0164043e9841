"""The work queue: tasks with one state machine, their logs and their schedules."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TaskType(models.TextChoices):
    TRAINING = "training", "Training"
    EVALUATION = "evaluation", "Evaluation"
    PREDICTION = "prediction", "Batch prediction"
    INGESTION = "ingestion", "Ingestion"


class TaskStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINAL_STATUSES = (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


# Redis serves priority 0 first; steps 0..9 are configured in settings.
BROKER_PRIORITY = {Priority.URGENT: 0, Priority.HIGH: 3, Priority.MEDIUM: 5, Priority.LOW: 8}


class Task(models.Model):
    """One unit of background work. Status only changes through ``services.transition``."""

    name = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=TaskType.choices, db_index=True)
    status = models.CharField(
        max_length=20, choices=TaskStatus.choices, default=TaskStatus.PENDING, db_index=True
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    parameters = models.JSONField(default=dict, blank=True)
    resource_config = models.JSONField(default=dict, blank=True)
    progress = models.FloatField(default=0)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    celery_task_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True, help_text="host:pid of the process running it")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    schedule = models.ForeignKey(
        "TaskSchedule", on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    rerun_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    trigger_key = models.CharField(
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        help_text="Dedupes a scheduled run delivered twice.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
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
    def produced_version(self) -> dict | None:
        """The model version this task registered, as its result names it (a training or a
        QA build); the queue reads it from the result, knowing nothing of the registry."""
        result = self.result or {}
        if "modelVersionId" not in result:
            return None
        return {
            "id": result["modelVersionId"],
            "model_id": result.get("modelId"),
            "model_name": result.get("modelName", ""),
            "version": result.get("version"),
        }


class LogLevel(models.TextChoices):
    DEBUG = "debug", "Debug"
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"


class TaskLog(models.Model):
    """One log line of a task; training rounds carry step, losses and metrics (the live curve)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="logs")
    created_at = models.DateTimeField(db_index=True)
    level = models.CharField(max_length=10, choices=LogLevel.choices, default=LogLevel.INFO)
    message = models.TextField()
    step = models.PositiveIntegerField(null=True, blank=True)
    loss = models.FloatField(null=True, blank=True)
    valid_loss = models.FloatField(null=True, blank=True)
    metrics = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["task", "id"], name="task_log_task_id")]

    def __str__(self) -> str:
        return f"{self.task_id} {self.level}: {self.message[:60]}"


class TaskSchedule(models.Model):
    """A training to run on a cron or interval schedule; each run is a normal Task.

    The timing lives in the linked django-celery-beat PeriodicTask, so beat fires it and
    the admin shows it next to the platform's own schedules.
    """

    name = models.CharField(max_length=200, unique=True)
    type = models.CharField(max_length=20, choices=TaskType.choices, default=TaskType.TRAINING)
    parameters = models.JSONField(default=dict)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    resource_config = models.JSONField(default=dict, blank=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", on_delete=models.CASCADE, related_name="omm_schedule"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

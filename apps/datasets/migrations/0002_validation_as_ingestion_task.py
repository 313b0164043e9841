"""Validation runs as an ingestion task of the work queue: the version's own claim fields
(attempts, validation_started_at) go, and a version links to its task.

A version left uploaded or validating by the old mechanism gets a failed ingestion task
saying so, and ends in error: re-running that task (POST /api/tasks/{id}/rerun) validates it.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

INTERRUPTED = "Validation was interrupted by an upgrade; re-run this task to validate the version."


def fail_unfinished(apps, schema_editor):
    DatasetVersion = apps.get_model("datasets", "DatasetVersion")
    Task = apps.get_model("tasks", "Task")
    now = timezone.now()
    unfinished = DatasetVersion.objects.filter(status__in=["uploaded", "validating"], task__isnull=True)
    for version in unfinished.select_related("dataset"):
        task = Task.objects.create(
            name=f"Validate {version.dataset.name} v{version.version}"[:200],
            type="ingestion",
            status="failed",
            parameters={
                "dataset": version.dataset_id,
                "dataset_name": version.dataset.name,
                "dataset_version": version.version,
                "dataset_version_id": version.pk,
            },
            error=INTERRUPTED,
            celery_task_id=str(uuid.uuid4()),
            created_by_id=version.created_by_id,
            completed_at=now,
        )
        DatasetVersion.objects.filter(pk=version.pk).update(
            task=task, status="error", error_message=INTERRUPTED, validated_at=now
        )


class Migration(migrations.Migration):
    dependencies = [
        ("datasets", "0001_initial"),
        ("tasks", "0003_task_type_ingestion"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="datasetversion",
            name="attempts",
        ),
        migrations.RemoveField(
            model_name="datasetversion",
            name="validation_started_at",
        ),
        migrations.AddField(
            model_name="datasetversion",
            name="task",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="tasks.task",
            ),
        ),
        migrations.RunPython(fail_unfinished, migrations.RunPython.noop),
    ]

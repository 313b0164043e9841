"""Validation as an ``ingestion`` task of the work queue: listed with its logs, cancelled,
reaped and re-run like any task, with the version's own status kept in step."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from apps.core.config import config_invalidate
from apps.core.errors import Conflict, Invalid, TooLarge
from apps.core.models import SystemConfig
from apps.datasets import bank_records, errors, ingestion, services
from apps.datasets.models import DatasetRecord, DatasetStatus, DatasetVersion
from apps.tasks import services as queue
from apps.tasks.models import Task, TaskStatus, TaskType
from tests.core.test_api_conventions import assert_error
from tests.sample_data import CREDIT_CSV, bank_csv

pytestmark = pytest.mark.django_db


def _stored_parquets() -> set[str]:
    folder = Path(settings.MEDIA_ROOT) / "datasets"
    return {p.name for p in folder.glob("*.parquet")} if folder.is_dir() else set()


def _set(key: str, value) -> None:
    SystemConfig.objects.update_or_create(key=key, defaults={"value": value, "value_type": "number"})
    config_invalidate(key)


def _pending_upload(upload, content=CREDIT_CSV, filename="c.csv", **fields) -> DatasetVersion:
    response = upload(content, filename, validate=False, name=fields.pop("name", "credit"), **fields)
    assert response.status_code == 201, response.json()
    return DatasetVersion.objects.select_related("task").get(pk=response.json()["data"]["id"])


def test_an_upload_is_an_ingestion_task_listed_with_its_logs(api, upload):
    response = upload(CREDIT_CSV, "credit.csv", name="credit", labelColumn="is_bad")
    body = response.json()["data"]
    version = DatasetVersion.objects.get(pk=body["id"])
    assert body["taskId"] == version.task_id is not None

    listed = api.get("/api/tasks", {"type": "ingestion"}).json()
    assert listed["total"] == 1
    task = listed["data"][0]
    assert task["id"] == version.task_id and task["status"] == "completed" and task["progress"] == 100
    assert task["name"] == "Validate credit v1"
    assert task["parameters"]["datasetVersionId"] == version.pk
    assert task["result"]["rowCount"] == 6 and task["result"]["qualityScore"] == version.quality_score

    logs = [row["message"] for row in api.get(f"/api/tasks/{version.task_id}/logs").json()["data"]]
    assert any(m.startswith("Started on") for m in logs)
    assert any("Read 6 rows x 6 columns" in m for m in logs)
    assert any(m.startswith("Profiled: quality score") for m in logs)

    detail = api.get(f"/api/datasets/{version.dataset_id}/versions/1").json()
    assert detail["taskId"] == version.task_id and detail["validationStartedAt"] is not None


def test_a_bad_file_fails_its_task_with_the_reason(api, upload):
    upload("a,b\n1,2\n3,4,5\n", "ragged.csv", name="ragged")
    version = DatasetVersion.objects.select_related("task").get()
    assert version.status == DatasetStatus.ERROR and "line 3" in version.error_message
    assert version.task.status == TaskStatus.FAILED and version.task.error == version.error_message


def test_cancel_while_queued_ends_the_version_in_error(api, upload):
    version = _pending_upload(upload)
    assert version.status == DatasetStatus.UPLOADED and version.task.status == TaskStatus.PENDING

    response = api.post(f"/api/tasks/{version.task_id}/cancel")
    assert response.status_code == 200 and response.json()["data"]["status"] == "cancelled"
    # The version follows its task as soon as anyone looks at it.
    detail = api.get(f"/api/datasets/{version.dataset_id}/versions/1").json()
    assert detail["status"] == "error" and detail["errorMessage"] == "Validation cancelled by request."
    # A delivery of the cancelled task's message does nothing.
    assert services.dataset_version_validate(version_id=version.pk) is None
    version.refresh_from_db()
    assert version.status == DatasetStatus.ERROR and not version.parquet


def test_cancel_while_running_stops_between_steps_and_writes_nothing(admin_user, upload, monkeypatch):
    version = _pending_upload(upload, bank_csv(5), "banks.csv", name="banks", kind="bank_records")
    before = _stored_parquets()
    checked = bank_records.validate_bank_records

    def cancel_then_check(*args, **kwargs):
        # The analyst cancels while the lines are being checked.
        task = queue.task_cancel(task=Task.objects.get(pk=version.task_id))
        assert task.status == TaskStatus.RUNNING and task.cancel_requested
        return checked(*args, **kwargs)

    monkeypatch.setattr(bank_records, "validate_bank_records", cancel_then_check)
    result = services.dataset_version_validate(version_id=version.pk)

    assert result.status == DatasetStatus.ERROR and result.error_message == ingestion.CANCELLED
    assert result.task.status == TaskStatus.CANCELLED
    assert not result.parquet and result.row_count is None and result.valid_count is None
    assert not DatasetRecord.objects.filter(version=version).exists()
    assert _stored_parquets() == before  # the columnar copy written for the outcome is gone


def test_a_kill_during_the_commit_leaves_nothing_half_written(upload, monkeypatch):
    version = _pending_upload(upload, bank_csv(5), "banks.csv", name="banks", kind="bank_records")

    def killed(*, version_id, result):
        DatasetRecord.objects.create(version_id=version_id, line_number=1, is_valid=True)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(ingestion, "records_write", killed)
    result = services.dataset_version_validate(version_id=version.pk)
    assert result.task.status == TaskStatus.FAILED and "worker killed" in result.task.error
    assert result.status == DatasetStatus.ERROR and not result.parquet
    assert not DatasetRecord.objects.filter(version=version).exists()


def test_a_lost_worker_is_reaped_requeued_then_failed_at_the_cap(upload):
    _set("tasks-max-attempts", 2)
    version = _pending_upload(upload)
    long_ago = timezone.now() - timedelta(hours=1)

    def lose_a_worker(attempt: int) -> None:
        queue.transition(
            version.task_id, TaskStatus.RUNNING, attempts=attempt, heartbeat_at=long_ago, worker="gone:1"
        )
        DatasetVersion.objects.filter(pk=version.pk).update(status=DatasetStatus.VALIDATING, progress=40)

    lose_a_worker(1)
    assert queue.tasks_reap() == {"requeued": 1, "failed": 0, "resent": 0}
    version.refresh_from_db()
    assert version.task.status == TaskStatus.QUEUED
    assert ingestion.versions_settle() == 0  # a requeued validation is not settled
    assert DatasetVersion.objects.get(pk=version.pk).status == DatasetStatus.VALIDATING  # to run again

    lose_a_worker(2)
    assert queue.tasks_reap() == {"requeued": 0, "failed": 1, "resent": 0}
    version.refresh_from_db()  # the kind's on_end hook settled it at once
    assert version.status == DatasetStatus.ERROR and "stopped responding" in version.error_message


def test_a_requeued_run_validates_on_its_next_attempt(upload):
    version = _pending_upload(upload)
    long_ago = timezone.now() - timedelta(hours=1)
    queue.transition(version.task_id, TaskStatus.RUNNING, attempts=1, heartbeat_at=long_ago, worker="gone:1")
    assert queue.tasks_reap()["requeued"] == 1
    result = services.dataset_version_validate(version_id=version.pk)
    assert result.status == DatasetStatus.VALIDATED and result.task.attempts == 2


def test_rerun_validates_the_same_version_again(api, upload):
    version = _pending_upload(upload, bank_csv(5), "banks.csv", name="banks", kind="bank_records")
    first = version.task_id
    api.post(f"/api/tasks/{first}/cancel")
    assert api.get(f"/api/datasets/{version.dataset_id}/versions/1").json()["status"] == "error"

    response = api.post(f"/api/tasks/{first}/rerun")
    assert response.status_code == 201, response.json()
    again = response.json()["data"]
    assert again["type"] == "ingestion" and again["rerunOf"] == first
    assert again["parameters"]["datasetVersionId"] == version.pk
    version.refresh_from_db()
    assert version.task_id == again["id"] and version.status == DatasetStatus.UPLOADED
    assert not version.error_message

    # Another re-run while this one is pending is refused.
    assert_error(api.post(f"/api/tasks/{first}/rerun"), 409, "validation_running")

    result = services.dataset_version_validate(version_id=version.pk)
    assert result.status == DatasetStatus.VALIDATED and result.valid_count == 5
    assert DatasetRecord.objects.filter(version=version).count() == 8

    # A completed validation re-run replaces its outcome (no duplicate lines, one Parquet copy).
    old_parquet = result.parquet.name
    rerun = queue.task_rerun(task=result.task, user=version.created_by)
    result = services.dataset_version_validate(version_id=version.pk)
    assert result.task_id == rerun.pk and result.status == DatasetStatus.VALIDATED
    assert DatasetRecord.objects.filter(version=version).count() == 8
    assert result.parquet.name != old_parquet
    assert result.parquet.storage.exists(result.parquet.name)


def test_the_dataset_page_and_the_admin_link_the_task(client, admin_user, upload):
    version = DatasetVersion.objects.get(pk=upload(CREDIT_CSV, "c.csv", name="credit").json()["data"]["id"])
    client.force_login(admin_user)
    page = client.get(f"/datasets/{version.dataset_id}/").content.decode()
    assert f'href="/tasks/{version.task_id}/"' in page
    admin_page = client.get(f"/admin/datasets/datasetversion/{version.pk}/change/").content.decode()
    assert f"/admin/tasks/task/{version.task_id}/change/" in admin_page
    task_page = client.get(f"/admin/tasks/task/{version.task_id}/change/").content.decode()
    assert f"/admin/datasets/datasetversion/{version.pk}/change/" in task_page
    queue_page = client.get(f"/tasks/{version.task_id}/")
    assert queue_page.status_code == 200 and "Validate credit v1" in queue_page.content.decode()
    assert "Validate credit v1" in client.get("/tasks/", {"type": "ingestion"}).content.decode()


def test_the_import_command_runs_the_task_in_process(tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / "banks.csv"
    path.write_text(bank_csv(5), encoding="utf-8")
    call_command("import_dataset", str(path), "--name", "banks", "--kind", "bank_records")
    version = DatasetVersion.objects.select_related("task").get()
    assert version.task.type == TaskType.INGESTION and version.task.status == TaskStatus.COMPLETED
    assert version.task.worker.startswith("import_dataset@")
    assert "5 valid, 3 invalid" in capsys.readouterr().out


def test_services_raise_the_platform_errors(admin_user, settings):
    def send(content: bytes, filename: str, **fields):
        return services.dataset_upload(
            name=fields.pop("name", "x"),
            kind=fields.pop("kind", "tabular"),
            file=ContentFile(content, name=filename),
            original_name=filename,
            user=admin_user,
            enqueue=False,
        )

    with pytest.raises(errors.UploadInvalid) as refused:
        send(b"MZ\x90\x00", "tool.exe")
    assert isinstance(refused.value, Invalid) and refused.value.reader_code == "unknown_extension"
    assert refused.value.errors["file"] == [refused.value.message]

    send(CREDIT_CSV.encode(), "c.csv", name="shared")
    with pytest.raises(errors.DatasetKindConflict) as conflict:
        send(bank_csv(2).encode(), "b.csv", name="shared", kind="bank_records")
    assert isinstance(conflict.value, Conflict) and "name" in conflict.value.errors

    settings.OMM_MAX_UPLOAD_BYTES = 10
    with pytest.raises(errors.FileTooLarge) as too_large:
        send(CREDIT_CSV.encode(), "big.csv")
    assert isinstance(too_large.value, TooLarge) and too_large.value.code == "file_too_large"
    assert not DatasetVersion.objects.filter(dataset__name="x").exists()


def test_a_version_gone_before_its_task_runs_fails_the_task(upload):
    version = _pending_upload(upload)
    task_id = version.task_id
    services.dataset_delete(dataset=version.dataset)
    from apps.tasks.runner import task_execute

    assert task_execute(task_id=task_id, worker="w:1") == "failed"
    assert "no longer exists" in Task.objects.get(pk=task_id).error


def test_a_validation_request_names_an_existing_version(admin_user, upload):
    from apps.tasks.errors import RequestInvalid

    version = _pending_upload(upload)
    with pytest.raises(RequestInvalid) as unknown:
        ingestion.validation_create(user=admin_user, request={"dataset": 999999, "dataset_version": 1})
    assert "dataset" in unknown.value.errors
    with pytest.raises(RequestInvalid) as missing:
        ingestion.validation_create(
            user=admin_user, request={"dataset": version.dataset_id, "dataset_version": 7}
        )
    assert "dataset_version" in missing.value.errors
    with pytest.raises(errors.ValidationRunning):  # its first task has not run yet
        ingestion.validation_create(
            user=admin_user, request={"dataset": version.dataset_id, "dataset_version": 1}
        )
    assert Task.objects.count() == 1

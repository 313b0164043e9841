"""Datasets end to end: a real worker, the shell command, the admin, metrics, races."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from apps.datasets.models import Dataset, DatasetRecord, DatasetStatus, DatasetVersion
from tests.sample_data import CREDIT_CSV, bank_csv


def wait_status(version_id: int, timeout: float = 60) -> DatasetVersion:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = DatasetVersion.objects.get(pk=version_id)
        if version.status in (DatasetStatus.VALIDATED, DatasetStatus.ERROR):
            return version
        time.sleep(0.2)
    raise AssertionError(f"version {version_id} still {version.status}")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_upload_through_api_is_validated_by_a_real_worker(celery_worker, api):
    response = api.post(
        "/api/datasets",
        {
            "file": SimpleUploadedFile("banks.csv", bank_csv(20).encode()),
            "name": "banks",
            "kind": "bank_records",
        },
        format="multipart",
    )
    assert response.status_code == 201
    version = wait_status(response.json()["data"]["id"])
    assert version.status == DatasetStatus.VALIDATED, version.error_message
    assert (version.valid_count, version.invalid_count) == (20, 3)
    assert DatasetRecord.objects.filter(version=version).count() == 23
    assert version.task.attempts == 1 and version.task.status == "completed"
    # The worker ran it as a task of the work queue: listed, with its logs.
    task = api.get(f"/api/tasks/{version.task_id}").json()
    assert task["type"] == "ingestion" and task["worker"].startswith(celery_worker["hostname"])
    logs = [row["message"] for row in api.get(f"/api/tasks/{version.task_id}/logs").json()["data"]]
    assert any("Checked 23 lines: 20 valid, 3 invalid." in m for m in logs)


@pytest.mark.django_db
def test_import_command_validates_and_reports(tmp_path, capsys):
    path = tmp_path / "credit.csv"
    path.write_text(CREDIT_CSV, encoding="utf-8")
    call_command("import_dataset", str(path), "--name", "credit", "--label", "is_bad")
    out = capsys.readouterr()
    assert "credit v1: validated, 6 rows" in out.out and "quality score" in out.out
    assert "100%" in out.err  # the progress bar reached the end
    call_command("import_dataset", str(path), "--name", "credit")
    assert "Already imported as credit v1" in capsys.readouterr().out
    assert DatasetVersion.objects.count() == 1


@pytest.mark.django_db
def test_import_command_bad_input_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_dataset", str(tmp_path / "missing.csv"), "--name", "x")
    bad = tmp_path / "ragged.csv"
    bad.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(CommandError, match="line 3"):
        call_command("import_dataset", str(bad), "--name", "ragged")
    assert DatasetVersion.objects.get().status == DatasetStatus.ERROR


@pytest.mark.django_db
def test_admin_upload_form_and_lists(client, admin_user, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    assert client.get("/admin/datasets/dataset/upload/").status_code == 200
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            "/admin/datasets/dataset/upload/",
            {
                "name": "credit",
                "kind": "tabular",
                "file": SimpleUploadedFile("c.csv", CREDIT_CSV.encode()),
                "description": "",
                "label_column": "is_bad",
                "time_column": "",
            },
        )
    version = DatasetVersion.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/datasetversion/{version.pk}/change/"
    )
    bad = client.post(
        "/admin/datasets/dataset/upload/",
        {
            "name": "bad",
            "kind": "tabular",
            "file": SimpleUploadedFile("c.exe", b"MZ\x90\x00"),
        },
    )
    assert bad.status_code == 200 and b"errorlist" in bad.content
    assert DatasetVersion.objects.count() == 1
    for url in [
        "/admin/datasets/dataset/",
        f"/admin/datasets/datasetversion/{version.pk}/change/",
        "/admin/datasets/datasetrecord/",
    ]:
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_analyst_page_upload_and_viewer_cannot(client, make_user, django_capture_on_commit_callbacks):
    client.force_login(make_user("viewer"))
    page = client.get("/datasets/")
    assert page.status_code == 200 and b"upload-form" not in page.content
    client.force_login(make_user("analyst"))
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            "/datasets/",
            {
                "name": "credit",
                "kind": "tabular",
                "file": SimpleUploadedFile("c.csv", CREDIT_CSV.encode()),
            },
        )
    dataset = Dataset.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/datasets/{dataset.pk}/"
    assert b"Version 1" in client.get(response["Location"]).content


@pytest.mark.django_db
def test_quality_score_is_a_prometheus_gauge(client, upload):
    import re

    upload(CREDIT_CSV, "c.csv", name="credit", labelColumn="is_bad")
    text = client.get("/metrics").content.decode()
    match = re.search(r'^omm_dataset_quality_score\{dataset="credit",version="1"\} (\S+)$', text, re.M)
    assert match and 0 <= float(match.group(1)) <= 100
    score = DatasetVersion.objects.get().quality_score
    assert float(match.group(1)) == pytest.approx(score)


@pytest.mark.django_db(transaction=True)
def test_the_same_file_uploaded_concurrently_makes_one_version(admin_user):
    from django.core.files.base import ContentFile
    from django.db import connection

    from apps.datasets import services

    results, errors = [], []
    barrier = threading.Barrier(2)

    def send() -> None:
        try:
            barrier.wait()
            results.append(
                services.dataset_upload(
                    name="race",
                    kind="tabular",
                    file=ContentFile(CREDIT_CSV.encode(), name="c.csv"),
                    original_name="c.csv",
                    user=admin_user,
                )
            )
        except Exception as exc:  # noqa: BLE001 - the test reports it below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert DatasetVersion.objects.count() == 1 and Dataset.objects.count() == 1
    assert {version.pk for version, _ in results} == {DatasetVersion.objects.get().pk}
    assert sorted(created for _, created in results) == [False, True]

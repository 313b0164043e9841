"""The dashboard's work blocks: running and queued tasks, models in production with their
latest evaluation, and the alerts (tasks failed in the last 24 hours, datasets whose newest
version failed validation), each read from the domain that owns it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.evaluations import services as evaluations
from apps.models import services as registry
from apps.overview.selectors import dashboard_work, task_target
from apps.tasks.models import Task, TaskStatus, TaskType
from apps.users.models import Role
from tests.evaluations.conftest import run, train
from tests.factories import ModelVersionFactory, TaskFactory

pytestmark = pytest.mark.django_db


def _rows(page: str, table_id: str) -> list[str]:
    body = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-[a-z]+="([^"]+)"', body)


def test_dashboard_shows_running_then_queued_tasks_with_target_and_progress(client, make_user):
    now = timezone.now()
    running = TaskFactory(
        status=TaskStatus.RUNNING,
        started_at=now - timedelta(minutes=5),
        progress=42,
        parameters={"model_name": "credit", "dataset": 3, "dataset_version": 2},
    )
    queued = TaskFactory(
        type=TaskType.PREDICTION,
        status=TaskStatus.QUEUED,
        parameters={"model_name": "credit", "version": 4, "dataset": 3, "dataset_version": 2},
    )
    TaskFactory(status=TaskStatus.COMPLETED, completed_at=now)
    client.force_login(make_user(Role.VIEWER))
    page = client.get("/").content.decode()
    assert _rows(page, "running-tasks") == [str(running.pk), str(queued.pk)]
    row = page.split(f'<tr data-id="{running.pk}">', 1)[1].split("</tr>", 1)[0]
    assert f'href="/tasks/{running.pk}/"' in row and "credit · #3 v2" in row
    assert 'aria-valuenow="42"' in row and "Training" in row and "5\xa0minutes ago" in row
    queued_row = page.split(f'<tr data-id="{queued.pk}">', 1)[1].split("</tr>", 1)[0]
    assert "credit v4 · #3 v2" in queued_row and "waiting for" in queued_row
    assert re.search(r'id="running-count">.*?stat-value">1<', page, re.S)


def test_dashboard_says_when_nothing_runs(client, make_user):
    client.force_login(make_user(Role.VIEWER))
    page = client.get("/").content.decode()
    assert "Nothing is running or waiting." in page and "No task failed in the last 24 hours." in page
    assert "No model has an active version yet." in page and "No dataset failed validation." in page


def test_failed_tasks_of_the_last_24_hours_are_alerts(client, make_user):
    now = timezone.now()
    recent = TaskFactory(
        status=TaskStatus.FAILED, completed_at=now - timedelta(hours=2), error="boom: no data"
    )
    TaskFactory(status=TaskStatus.FAILED, completed_at=now - timedelta(hours=30), error="old failure")
    work = dashboard_work()
    assert [t.pk for t in work["failed_tasks"]] == [recent.pk]
    assert work["task_counts"] == {"running": 0, "waiting": 0, "failed": 1}
    client.force_login(make_user(Role.VIEWER))
    page = client.get("/").content.decode()
    alerts = page.split('id="failed-tasks"', 1)[1].split("</ul>", 1)[0]
    assert f'href="/tasks/{recent.pk}/"' in alerts and "boom: no data" in alerts
    assert "old failure" not in page


def test_a_dataset_whose_newest_version_failed_validation_is_an_alert(client, make_user, upload):
    from tests.sample_data import CREDIT_CSV

    upload(CREDIT_CSV, "good.csv", name="good")
    # Other bytes than "good" (the same file is recognised), naming a label it lacks.
    bad = upload(CREDIT_CSV + "A7,2024-01-07,33,北京,7000,0\n", "bad.csv", name="broken", labelColumn="nope")
    assert bad.status_code == 201, bad.content
    client.force_login(make_user(Role.VIEWER))
    page = client.get("/").content.decode()
    alerts = page.split('id="validation-failures"', 1)[1].split("</ul>", 1)[0]
    assert "broken v1" in alerts and "nope" in alerts and "good" not in alerts
    # A newer version that validates closes the alert.
    upload(CREDIT_CSV + "A8,2024-01-08,34,北京,7000,0\n", "fixed.csv", name="broken")
    page = client.get("/").content.decode()
    assert "broken v1" not in page.split('id="validation-failures"', 1)[1].split("</ul>", 1)[0]


def test_models_in_production_show_their_latest_evaluation(client, make_user, admin_user, credit_version):
    version = train(admin_user, credit_version.dataset_id, rounds=5)
    registry.version_activate(version=version, user=admin_user, reason="go")
    ModelVersionFactory(model__name="retrieval-qa", model__type="retrieval", status="active")
    unevaluated = ModelVersionFactory(model__name="zeta", status="active")
    client.force_login(make_user(Role.VIEWER))
    page = client.get("/").content.decode()
    assert _rows(page, "active-models") == ["credit", "zeta"]  # retrieval models have no AUC/KS
    assert "not evaluated yet" in page.split('data-model="credit"', 1)[1].split("</tr>", 1)[0]

    ev = run(
        evaluations.evaluation_create(
            user=admin_user,
            request={"model_version": version.pk, "dataset": credit_version.dataset_id},
            enqueue=False,
        )
    )
    page = client.get("/").content.decode()
    row = page.split('data-model="credit"', 1)[1].split("</tr>", 1)[0]
    assert f'href="/evaluation/report/{ev.pk}/"' in row
    assert f"{ev.metrics['auc']:.4f}" in row and f"{ev.metrics['ks']:.4f}" in row
    assert f'href="/models/{unevaluated.model_id}/"' in page


def test_task_target_names_the_model_and_the_data():
    assert task_target(Task(parameters={"model_name": "credit"})) == "credit"
    assert (
        task_target(Task(parameters={"dataset_name": "banks", "dataset_version": 3, "kind": "qa"}))
        == "banks v3"
    )
    assert task_target(Task(parameters={})) == ""


def test_dashboard_work_blocks_render_in_chinese(client, make_user):
    TaskFactory(status=TaskStatus.RUNNING, started_at=timezone.now(), parameters={"model_name": "credit"})
    client.cookies["omm_language"] = "zh-hans"
    client.force_login(make_user(Role.VIEWER))
    page = client.get("/").content.decode()
    assert "运行中和排队中的任务" in page and "生产中的模型" in page and "最近 24 小时失败的任务" in page
    assert "Running and queued tasks" not in page and "Models in production" not in page

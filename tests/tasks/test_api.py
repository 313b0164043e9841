"""The work-queue API as integrators use it: create, list, status, logs, cancel, re-run, schedules."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django_celery_beat.models import PeriodicTask

from apps.models.models import ModelVersion
from apps.tasks import runner as task_runner
from apps.tasks import schedules as task_schedules
from apps.tasks.models import Task, TaskSchedule, TaskStatus
from apps.users.models import Role, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_training(api, credit_version, django_capture_on_commit_callbacks):
    """POST /api/tasks/training without sending the broker message (no worker here)."""

    def post(client=None, **overrides):
        body = {
            "name": "credit-lgbm",
            "dataset": credit_version.dataset_id,
            "algorithm": "lightgbm",
            "params": {"numBoostRound": 20},
            **overrides,
        }
        with django_capture_on_commit_callbacks(execute=False):
            return (client or api).post("/api/tasks/training", body, format="json")

    return post


def test_create_training_returns_the_task(post_training):
    response = post_training(priority="high", resourceConfig={"threads": 1})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["success"] is True and body["message"].startswith("Task #")
    task = body["data"]
    assert task["type"] == "training" and task["priority"] == "high"
    assert task["status"] == "pending"
    assert task["parameters"]["params"]["numBoostRound"] == 20
    assert task["resourceConfig"] == {"threads": 1}
    assert Task.objects.get(pk=task["id"]).parameters["params"]["num_boost_round"] == 20


def test_generic_create_with_type(api, credit_version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(
            "/api/tasks",
            {"type": "training", "name": "m", "dataset": credit_version.dataset_id},
            format="json",
        )
    assert response.status_code == 201, response.content
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post("/api/tasks", {"type": "cooking", "name": "m"}, format="json")
    assert response.status_code == 400 and "type" in response.json()["errors"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"dataset": 999999}, "dataset"),
        ({"label": "no_such_column"}, "nonFieldErrors"),
        ({"algorithm": "xgboost"}, "algorithm"),
        ({"params": {"numBoostRound": "lots"}}, "nonFieldErrors"),
        ({"params": {"learningRate": 0}}, "nonFieldErrors"),
        ({"params": {"noSuchParam": 1}}, "nonFieldErrors"),
        ({"resourceConfig": {"threads": -2}}, "resourceConfig"),
        ({"resourceConfig": {"memoryMb": 10**9}}, "resourceConfig"),
        ({"priority": "asap"}, "priority"),
        ({"validationShare": 0.9}, "validationShare"),
        ({"featureSet": 424242}, "featureSet"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_training_requests_answer_400_and_queue_nothing(post_training, overrides, field):
    response = post_training(**overrides)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["success"] is False and body["status"] == 400
    assert field in body["errors"], body
    assert not Task.objects.filter(type="training").exists()


def test_unvalidated_dataset_is_refused(api, upload, django_capture_on_commit_callbacks):
    response = upload("a,b\n1,2\n", "raw.csv", validate=False, name="raw", kind="tabular")
    dataset_id = response.json()["data"]["dataset"]
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post("/api/tasks/training", {"name": "m", "dataset": dataset_id}, format="json")
    assert response.status_code == 400
    assert "only a validated version" in response.json()["errors"]["dataset"][0]
    assert not Task.objects.filter(type="training").exists()


def test_feature_set_of_another_dataset_is_refused(api, post_training, credit_version, upload, admin_user):
    from apps.features.services import features_register

    upload(
        "x,is_bad\n" + "".join(f"{i},{i % 2}\n" for i in range(40)), "other.csv", name="other", kind="tabular"
    )
    from apps.datasets.models import DatasetVersion

    other = DatasetVersion.objects.get(dataset__name="other")
    _, feature_set = features_register(
        dataset_version=other,
        columns=[{"column": "x"}],
        user=admin_user,
        tags=[],
        feature_set_name="other-set",
    )
    response = post_training(featureSet=feature_set.pk)
    assert response.status_code == 400
    assert "is drawn from other" in response.json()["errors"]["featureSet"][0]


def test_status_logs_and_list_filters(api, post_training):
    task_id = post_training().json()["data"]["id"]
    task_runner.task_execute(task_id=task_id, worker="w:1")
    status = api.get(f"/api/tasks/{task_id}/status").json()
    assert status["status"] == "completed" and status["progress"] == 100
    assert status["result"]["modelVersionId"] == ModelVersion.objects.get(task_id=task_id).pk
    assert 0 < len(status["logs"]) <= 20

    logs = api.get(f"/api/tasks/{task_id}/logs").json()["data"]
    rounds = [row for row in logs if row["step"] is not None]
    assert [r["step"] for r in rounds] == list(range(1, 21))
    assert all(r["loss"] is not None and r["validLoss"] is not None for r in rounds)
    tail = api.get(f"/api/tasks/{task_id}/logs", {"after": logs[-2]["id"]}).json()["data"]
    assert [r["id"] for r in tail] == [logs[-1]["id"]]

    assert api.get("/api/tasks", {"status": "completed", "type": "training"}).json()["total"] == 1
    assert api.get("/api/tasks", {"status": "running"}).json()["total"] == 0
    assert api.get("/api/tasks", {"type": "training", "priority": "medium"}).json()["total"] == 1
    assert api.get("/api/tasks", {"createdBy": "nobody"}).json()["total"] == 0
    assert api.get("/api/tasks", {"bogus": 1}).status_code == 400
    assert api.get(f"/api/tasks/{task_id}/logs", {"after": "x"}).status_code == 400
    assert api.get("/api/tasks/999999/status").status_code == 404


def test_cancel_and_conflict_on_finished(api, post_training):
    task_id = post_training().json()["data"]["id"]
    response = api.post(f"/api/tasks/{task_id}/cancel")
    assert response.status_code == 200 and response.json()["data"]["status"] == "cancelled"
    again = api.post(f"/api/tasks/{task_id}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "conflict" and "cancelled" in again.json()["message"]


def test_rerun(api, post_training, django_capture_on_commit_callbacks):
    task_id = post_training().json()["data"]["id"]
    assert api.post(f"/api/tasks/{task_id}/rerun").status_code == 409  # not finished yet
    task_runner.task_execute(task_id=task_id, worker="w:1")
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(f"/api/tasks/{task_id}/rerun")
    assert response.status_code == 201
    assert response.json()["data"]["rerunOf"] == task_id


def test_roles(make_user, client_for, post_training):
    viewer = client_for(make_user(Role.VIEWER))
    assert post_training(client=viewer).status_code == 403
    integrator_user = make_user(Role.INTEGRATOR)
    integrator = client_for(integrator_user)
    # A system account does not train (a training registers a model version)...
    refused = post_training(client=integrator)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert "admin can grant" in refused.json()["message"]
    assert not Task.objects.filter(created_by=integrator_user).exists()
    # ...unless an admin grants it to that account.
    integrator_user.user_permissions.add(
        Permission.objects.get(content_type__app_label="models", codename="add_modelversion")
    )
    integrator = client_for(User.objects.get(pk=integrator_user.pk))  # permissions are cached per object
    mine = post_training(client=integrator)
    assert mine.status_code == 201
    assert viewer.get(f"/api/tasks/{mine.json()['data']['id']}/status").status_code == 200
    theirs = post_training().json()["data"]["id"]
    assert integrator.post(f"/api/tasks/{theirs}/cancel").status_code == 403
    assert integrator.post(f"/api/tasks/{mine.json()['data']['id']}/cancel").status_code == 200
    assert Task.objects.get(pk=theirs).status == TaskStatus.PENDING


def test_schedules(api, credit_version, make_user, client_for):
    body = {
        "name": "nightly credit",
        "request": {"name": "credit-lgbm", "dataset": credit_version.dataset_id},
        "cron": "0 2 * * *",
    }
    response = api.post("/api/tasks/schedules", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["timing"] == "cron 0 2 * * *" and data["enabled"] is True
    periodic = PeriodicTask.objects.get(pk=data["periodicTask"])
    assert periodic.task == "tasks.run_schedule" and f'"schedule_id": {data["id"]}' in periodic.kwargs

    assert api.post("/api/tasks/schedules", body, format="json").status_code == 400  # same name
    bad = [
        {**body, "name": "b1", "cron": "99 * * * *"},
        {**body, "name": "b2", "cron": "* *"},
        {**body, "name": "b3", "everyMinutes": 5},
        {**{k: v for k, v in body.items() if k != "cron"}, "name": "b4"},
        {**body, "name": "b5", "request": {"name": "m", "dataset": 99999}},
    ]
    for payload in bad:
        assert api.post("/api/tasks/schedules", payload, format="json").status_code == 400, payload
    assert TaskSchedule.objects.count() == 1

    paused = api.patch(f"/api/tasks/schedules/{data['id']}", {"enabled": False}, format="json")
    assert paused.status_code == 200 and paused.json()["data"]["enabled"] is False
    periodic.refresh_from_db()
    assert periodic.enabled is False
    assert api.patch(f"/api/tasks/schedules/{data['id']}", {"name": "x"}, format="json").status_code == 400

    analyst = client_for(make_user(Role.ANALYST))
    assert analyst.delete(f"/api/tasks/schedules/{data['id']}").status_code == 403
    assert api.delete(f"/api/tasks/schedules/{data['id']}").status_code == 204
    assert not PeriodicTask.objects.filter(pk=periodic.pk).exists()


def test_schedule_run_creates_one_task_per_trigger(
    api, credit_version, admin_user, django_capture_on_commit_callbacks
):
    schedule = task_schedules.schedule_create(
        user=admin_user,
        name="hourly",
        request={"name": "credit-lgbm", "dataset": credit_version.dataset_id},
        every_minutes=60,
    )
    with django_capture_on_commit_callbacks(execute=False):
        first = task_schedules.schedule_run(schedule_id=schedule.pk, trigger_key="schedule:1:abc")
        again = task_schedules.schedule_run(schedule_id=schedule.pk, trigger_key="schedule:1:abc")
    assert first.pk == again.pk and first.schedule_id == schedule.pk
    assert Task.objects.filter(schedule=schedule).count() == 1


def test_models_api_shows_version_metrics_and_lineage(api, post_training, credit_version):
    task_id = post_training().json()["data"]["id"]
    task_runner.task_execute(task_id=task_id, worker="w:1")
    models = api.get("/api/models", {"type": "classification"}).json()
    assert models["total"] == 1
    model = models["data"][0]
    assert model["name"] == "credit-lgbm" and model["latestVersion"] == 1
    versions = api.get(f"/api/models/{model['id']}/versions").json()["data"]
    version = versions[0]
    assert version["metrics"]["auc"] > 0.5
    lineage = api.get(f"/api/model-versions/{version['id']}").json()["lineage"]
    assert lineage["task"]["id"] == task_id
    assert lineage["dataset"]["sha256"] == credit_version.sha256
    assert lineage["seed"] == 42 and lineage["libraryVersions"]["lightgbm"]
    assert api.get("/api/models", {"status": "nope"}).status_code == 400


def test_evaluations_can_be_scheduled_too(api, credit_version, admin_user):
    from apps.evaluations.models import Evaluation
    from tests.models.test_governance import _train

    version = _train(admin_user, credit_version.dataset_id, rounds=3)
    body = {
        "name": "weekly check",
        "type": "evaluation",
        "request": {"modelVersion": version.pk, "dataset": credit_version.dataset_id, "options": {"bins": 5}},
        "cron": "0 6 * * 1",
    }
    response = api.post("/api/tasks/schedules", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["type"] == "evaluation"
    schedule = TaskSchedule.objects.get(pk=data["id"])
    assert schedule.parameters["model_version"] == version.pk and schedule.parameters["options"] == {
        "bins": 5
    }

    # A training request under the evaluation type, a bad version or threshold: 400, nothing stored.
    bad = [
        {**body, "name": "e1", "request": {"name": "credit", "dataset": credit_version.dataset_id}},
        {**body, "name": "e2", "request": {"modelVersion": 99999, "dataset": credit_version.dataset_id}},
        {**body, "name": "e3", "request": {**body["request"], "threshold": 3}},
        {**body, "name": "e4", "type": "prediction"},
    ]
    for payload in bad:
        response = api.post("/api/tasks/schedules", payload, format="json")
        assert response.status_code == 400, (payload, response.content)
    assert TaskSchedule.objects.count() == 1

    # A due run creates the evaluation, like one requested by hand.
    task = task_schedules.schedule_run(schedule_id=schedule.pk, trigger_key="test:1")
    evaluation = Evaluation.objects.get(task=task)
    assert evaluation.model_version == version and evaluation.options["bins"] == 5

"""The work queue's analyst pages and the registry's read pages, through the Django test client:
the task list with its filters and schedules, the training form (errors, create, schedule),
a task's page with cancel and re-run, the model pages with metrics and lineage, and who may
do what."""

from __future__ import annotations

import json
import re

import pytest
from django_celery_beat.models import PeriodicTask

from apps.datasets.demo_data import credit_frame
from apps.datasets.models import DatasetVersion
from apps.features import services as feature_services
from apps.models import training_tasks
from apps.models.models import Model, ModelVersion
from apps.models.training import DEFAULT_PARAMS
from apps.tasks import runner as task_runner
from apps.tasks import services
from apps.tasks.models import Task, TaskSchedule, TaskStatus
from apps.users.models import Role
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

ROUNDS = 20


@pytest.fixture
def analyst(make_user):
    return make_user(Role.ANALYST)


@pytest.fixture
def no_broker(monkeypatch):
    """Nothing here talks to the broker: revokes are dropped (sends only run on commit)."""
    monkeypatch.setattr(services, "_revoke", lambda celery_task_id, *, terminate: None)


def _form(version, **overrides) -> dict:
    data = {
        "name": "credit-lgbm",
        "dataset": str(version.dataset_id),
        "dataset_version": "",
        "feature_set": "",
        "label": "is_bad",
        "algorithm": "lightgbm",
        "objective": "",
        "params": json.dumps({"num_boost_round": ROUNDS}),
        "split": "random",
        "time_column": "",
        "validation_share": "0.2",
        "seed": "42",
        "priority": "medium",
        "schedule": "",
        "schedule_name": "",
        "every_minutes": "",
        "cron": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _trained(user, version, django_capture_on_commit_callbacks) -> Task:
    with django_capture_on_commit_callbacks(execute=False):
        task = training_tasks.training_create(
            user=user,
            request={
                "name": "credit-lgbm",
                "dataset": version.dataset_id,
                "params": {"num_boost_round": ROUNDS},
            },
        )
    assert task_runner.task_execute(task_id=task.pk, worker="test:1") == "completed"
    task.refresh_from_db()
    return task


def _text(response) -> str:
    return response.content.decode()


# --------------------------------------------------------------------------- the training form


def test_form_offers_validated_tabular_datasets_with_their_columns_and_defaults(
    client, analyst, credit_version
):
    client.force_login(analyst)
    response = client.get("/tasks/create/")
    assert response.status_code == 200
    page = _text(response)
    assert f'<option value="{credit_version.dataset_id}" selected>credit</option>' in page
    assert 'name="label" value="is_bad"' in page
    assert 'name="seed" value="42"' in page and 'name="validation_share" value="0.2"' in page
    # The chosen dataset's columns are the feature choices; every dataset's are in the data block.
    columns = [c["name"] for c in credit_version.validation_result["columns"]]
    for column in columns:
        assert f'<option value="{column}">' in page
    data = json.loads(re.search(r'id="training-datasets"[^>]*>(.*?)</script>', page, re.S).group(1))
    info = data[str(credit_version.dataset_id)]
    assert [c["name"] for c in info["columns"]] == columns
    assert (info["label"], info["timeColumn"], info["version"]) == ("is_bad", "application_date", 1)
    defaults = json.loads(re.search(r'id="default-params"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert defaults == json.loads(json.dumps(DEFAULT_PARAMS))
    # The parameters start as LightGBM's defaults.
    assert "&quot;num_boost_round&quot;: 100" in page


@pytest.mark.parametrize(
    ("overrides", "field_text"),
    [
        ({"name": ""}, "This field is required."),
        ({"dataset": "999999"}, "Select a valid choice."),
        ({"params": "{num_boost_round: 5}"}, "Not valid JSON"),
        ({"params": "[1, 2]"}, "Give an object"),
        ({"params": json.dumps({"learning_rate": 5})}, "out of range"),
        ({"params": json.dumps({"n_estimators": 5})}, "unknown parameter"),
        ({"label": "nope"}, "label column &#x27;nope&#x27; does not exist"),
        ({"features": ["user_age", "nope"]}, "feature columns do not exist: nope"),
        ({"validation_share": "0.9"}, "less than or equal to 0.5"),
        ({"dataset_version": "7"}, "has no version 7"),
        ({"schedule": "interval"}, "A scheduled training needs a name."),
        ({"schedule": "interval", "schedule_name": "nightly"}, "How many minutes between runs?"),
        ({"schedule": "cron", "schedule_name": "nightly", "cron": "0 3 * *"}, "A cron has five fields"),
        (
            {"schedule": "cron", "schedule_name": "nightly", "cron": "0 3 * * *", "label": "nope"},
            "label column &#x27;nope&#x27; does not exist",
        ),
    ],
)
def test_bad_input_shows_the_errors_and_creates_nothing(
    client, analyst, credit_version, django_capture_on_commit_callbacks, overrides, field_text
):
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/tasks/create/", _form(credit_version, **overrides))
    assert response.status_code == 400
    assert field_text in _text(response)
    assert 'role="alert"' in _text(response)
    assert not callbacks
    assert not Task.objects.filter(type="training").exists()
    assert (
        not TaskSchedule.objects.exists() and not PeriodicTask.objects.filter(name__startswith="omm").exists()
    )


def test_create_queues_the_training_and_lands_on_its_page(
    client, analyst, credit_version, django_capture_on_commit_callbacks
):
    client.force_login(analyst)
    form = _form(
        credit_version,
        features=["user_age", "monthly_income", "education"],
        params=json.dumps({"num_boost_round": 50, "learning_rate": 0.05}),
        seed="7",
        validation_share="0.25",
        priority="high",
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/tasks/create/", form)
    task = Task.objects.get(type="training")
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}/"
    assert len(callbacks) == 1  # the send to the queue, after commit
    p = task.parameters
    assert (p["model_name"], p["dataset"], p["label"], p["algorithm"]) == (
        "credit-lgbm",
        credit_version.dataset_id,
        "is_bad",
        "lightgbm",
    )
    assert p["features"] == ["user_age", "monthly_income", "education"]
    assert p["params"]["num_boost_round"] == 50 and p["params"]["learning_rate"] == 0.05
    assert (p["seed"], p["validation_share"], p["split"], p["objective"]) == (7, 0.25, "random", "binary")
    assert (task.priority, task.created_by, task.status) == ("high", analyst, TaskStatus.PENDING)

    page = _text(client.get(response["Location"]))
    assert f"Task #{task.pk} is queued." in page
    assert 'id="cancel-form"' in page and 'id="rerun-form"' in page
    assert f'data-logs-url="/api/tasks/{task.pk}/logs"' in page
    assert f'data-status-url="/api/tasks/{task.pk}/status"' in page
    assert 'data-final="0"' in page


def test_defaults_train_on_every_usable_column(
    client, analyst, credit_version, django_capture_on_commit_callbacks
):
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/tasks/create/", _form(credit_version, label="", params=""))
    assert response.status_code == 302
    p = Task.objects.get(type="training").parameters
    assert p["label"] == "is_bad"
    assert p["features"] and not {"is_bad", "application_date", "application_id"} & set(p["features"])
    assert p["params"] == DEFAULT_PARAMS["lightgbm"]


def _feature_set(version, user, columns):
    proposals = feature_services.features_propose(dataset_version=version)
    _, feature_set = feature_services.features_register(
        dataset_version=version,
        columns=[{"column": c} for c in columns],
        user=user,
        feature_set_name=f"{version.dataset.name}-features",
        proposals=proposals,
    )
    return feature_set


def test_a_feature_set_brings_its_columns_and_must_come_from_the_chosen_dataset(
    client, analyst, credit_version, upload, django_capture_on_commit_callbacks
):
    other = upload(credit_frame(400, seed=3).to_csv(index=False), "other.csv", name="other", kind="tabular")
    assert other.status_code == 201, other.content
    other_version = DatasetVersion.objects.get(pk=other.json()["data"]["id"])
    ours = _feature_set(credit_version, analyst, ["user_age", "credit_score"])
    theirs = _feature_set(other_version, analyst, ["user_age", "credit_score"])
    client.force_login(analyst)
    page = _text(client.get("/tasks/create/", {"dataset": other_version.dataset_id}))
    assert f'<option value="{other_version.dataset_id}" selected>other</option>' in page
    assert f'<option value="{ours.pk}">credit-features v1 (from credit v1)</option>' in page

    response = client.post("/tasks/create/", _form(credit_version, feature_set=str(theirs.pk)))
    assert response.status_code == 400
    assert "other-features v1 was drawn from other; choose that dataset or no feature set." in _text(response)
    response = client.post(
        "/tasks/create/", _form(credit_version, feature_set=str(ours.pk), features=["user_age"])
    )
    assert response.status_code == 400
    assert "Give either a feature set or a column list, not both." in _text(response)
    assert not Task.objects.filter(type="training").exists()

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/tasks/create/", _form(credit_version, feature_set=str(ours.pk)))
    assert response.status_code == 302
    p = Task.objects.get(type="training").parameters
    assert (p["feature_set"], p["features"]) == (ours.pk, ["user_age", "credit_score"])


@pytest.mark.parametrize(
    ("timing", "shown"),
    [
        ({"schedule": "interval", "every_minutes": "90"}, "every 90 minutes"),
        ({"schedule": "cron", "cron": "0 3 * * 1"}, "cron <code>0 3 * * 1</code>"),
    ],
)
def test_a_schedule_is_saved_instead_of_a_task_and_listed(
    client, analyst, credit_version, django_capture_on_commit_callbacks, timing, shown
):
    client.force_login(analyst)
    form = _form(credit_version, schedule_name="nightly credit", **timing)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/tasks/create/", form)
    assert response.status_code == 302 and response["Location"] == "/tasks/"
    assert not Task.objects.filter(type="training").exists()
    schedule = TaskSchedule.objects.select_related("periodic_task").get()
    assert schedule.name == "nightly credit" and schedule.periodic_task.enabled
    assert schedule.parameters["name"] == "credit-lgbm" and schedule.created_by == analyst

    page = _text(client.get("/tasks/"))
    assert "Scheduled nightly credit." in page
    schedules = page.split('id="schedules"', 1)[1]
    assert "nightly credit" in schedules and shown in schedules and "never" in schedules

    # The same name again is an error of the schedule name field.
    response = client.post("/tasks/create/", form)
    assert response.status_code == 400
    assert "A schedule named &#x27;nightly credit&#x27; exists." in _text(response)
    assert TaskSchedule.objects.count() == 1


# --------------------------------------------------------------------------- list and task page


def test_list_filters_and_shows_status_progress_and_model_version(
    client, make_user, analyst, credit_version, django_capture_on_commit_callbacks, no_broker
):
    done = _trained(analyst, credit_version, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        waiting = training_tasks.training_create(
            user=analyst, request={"name": "other", "dataset": credit_version.dataset_id}, priority="urgent"
        )
    mv = ModelVersion.objects.get(task=done)

    client.force_login(make_user(Role.VIEWER))
    page = _text(client.get("/tasks/"))
    assert f'<tr data-id="{done.pk}" data-final="1">' in page
    assert f'<tr data-id="{waiting.pk}" data-final="0">' in page
    assert '<span class="badge completed" data-role="status">completed</span>' in page
    assert 'style="width: 100.0%"' in page
    assert f'href="/models/{mv.model_id}/#v1">credit-lgbm v1</a>' in page
    assert 'data-api-url="/api/tasks?page=1&amp;pageSize=25"' in page
    assert "New training" not in page  # a viewer cannot create

    page = _text(client.get("/tasks/", {"status": "pending", "priority": "urgent"}))
    assert f'data-id="{waiting.pk}"' in page and f'data-id="{done.pk}"' not in page
    assert 'data-api-url="/api/tasks?status=pending&amp;priority=urgent&amp;page=1&amp;pageSize=25"' in page
    page = _text(client.get("/tasks/", {"status": "completed"}))
    assert f'data-id="{done.pk}"' in page and f'data-id="{waiting.pk}"' not in page
    # An unknown filter value is ignored, not an error.
    page = _text(client.get("/tasks/", {"status": "exploded"}))
    assert f'data-id="{done.pk}"' in page and f'data-id="{waiting.pk}"' in page


def test_finished_task_page_shows_result_parameters_log_and_model_link(
    client, make_user, analyst, credit_version, django_capture_on_commit_callbacks
):
    task = _trained(analyst, credit_version, django_capture_on_commit_callbacks)
    mv = ModelVersion.objects.get(task=task)
    client.force_login(make_user(Role.VIEWER))
    response = client.get(f"/tasks/{task.pk}/")
    assert response.status_code == 200
    page = _text(response)
    assert '<span class="badge completed" id="status">completed</span>' in page
    assert 'data-final="1"' in page
    assert f'<a href="/models/{mv.model_id}/#v1">credit-lgbm v1</a>' in page
    metrics = page.split('id="metrics"', 1)[1].split("</table>", 1)[0]
    assert f"<td>auc</td><td>{mv.metrics['auc']:.4f}</td>" in metrics
    assert (
        f"<th>features</th><td><code>{json.dumps(task.parameters['features'])}</code>".replace('"', "&quot;")
        in page
    )
    assert "Registered credit-lgbm v1." in page and f"round {ROUNDS}/{ROUNDS}" in page
    assert 'id="cancel-form"' not in page and 'id="rerun-form"' not in page  # a viewer's page
    assert 'id="loss-chart"' in page


def test_failed_task_page_shows_the_error_and_no_cancel(client, analyst):
    task = TaskFactory(
        name="Train broken",
        type="training",
        status=TaskStatus.FAILED,
        parameters={"model_name": "broken"},
        error="The data cannot be trained as requested: boom",
        created_by=analyst,
    )
    client.force_login(analyst)
    page = _text(client.get(f"/tasks/{task.pk}/"))
    assert (
        '<p class="error" role="alert" id="error-message">The data cannot be trained as requested: boom</p>'
        in page
    )
    assert '<span class="badge failed" id="status">failed</span>' in page
    assert 'id="cancel-form"' not in page and 'id="rerun-form"' in page
    assert "No rounds were logged." in page and 'id="result"' not in page
    assert client.get("/tasks/999999/").status_code == 404


def test_cancel_and_rerun_from_the_task_page(
    client, analyst, credit_version, django_capture_on_commit_callbacks, no_broker
):
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=False):
        client.post("/tasks/create/", _form(credit_version))
    task = Task.objects.get(type="training")

    response = client.post(f"/tasks/{task.pk}/cancel/", follow=True)
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    page = _text(response)
    assert "Cancelled." in page and 'id="cancel-form"' not in page
    # Cancelling again is refused with a message, not an error page.
    page = _text(client.post(f"/tasks/{task.pk}/cancel/", follow=True))
    assert f"Task #{task.pk} is cancelled; only an unfinished task can be cancelled." in page

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/tasks/{task.pk}/rerun/")
    new = Task.objects.filter(type="training").exclude(pk=task.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/tasks/{new.pk}/"
    assert new.rerun_of == task and new.parameters == task.parameters and new.status == TaskStatus.PENDING
    assert f're-run of <a href="/tasks/{task.pk}/">#{task.pk}</a>' in _text(client.get(response["Location"]))
    assert client.get(f"/tasks/{task.pk}/cancel/").status_code == 405


def test_viewers_may_look_but_not_create_cancel_or_rerun(
    client, make_user, analyst, credit_version, django_capture_on_commit_callbacks, no_broker
):
    with django_capture_on_commit_callbacks(execute=False):
        task = training_tasks.training_create(
            user=analyst, request={"name": "m", "dataset": credit_version.dataset_id}
        )
    client.force_login(make_user(Role.VIEWER))
    assert client.get("/tasks/").status_code == 200
    assert client.get(f"/tasks/{task.pk}/").status_code == 200
    assert client.get("/models/").status_code == 200
    assert client.get("/tasks/create/").status_code == 403
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post("/tasks/create/", _form(credit_version)).status_code == 403
        assert client.post(f"/tasks/{task.pk}/cancel/").status_code == 403
        assert client.post(f"/tasks/{task.pk}/rerun/").status_code == 403
    assert Task.objects.filter(type="training").count() == 1
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING and not task.cancel_requested


def test_an_analyst_cannot_cancel_someone_elses_task(
    client, make_user, analyst, credit_version, django_capture_on_commit_callbacks, no_broker
):
    # Analysts hold change_task, so they may; an integrator holds add_task only.
    integrator = make_user(Role.INTEGRATOR)
    with django_capture_on_commit_callbacks(execute=False):
        task = training_tasks.training_create(
            user=analyst, request={"name": "m", "dataset": credit_version.dataset_id}
        )
    client.force_login(integrator)
    assert 'id="cancel-form"' not in _text(client.get(f"/tasks/{task.pk}/"))
    assert client.post(f"/tasks/{task.pk}/cancel/").status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING


def test_pages_need_a_login(client):
    for url in ("/tasks/", "/tasks/create/", "/tasks/1/", "/models/", "/models/1/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


# --------------------------------------------------------------------------- what the scripts read


def test_the_api_answers_the_shapes_the_page_scripts_read(
    client, analyst, credit_version, django_capture_on_commit_callbacks
):
    task = _trained(analyst, credit_version, django_capture_on_commit_callbacks)
    client.force_login(analyst)  # the pages' scripts call the API with the session
    logs = client.get(f"/api/tasks/{task.pk}/logs", {"after": 0, "limit": 1000}).json()
    assert logs["status"] == "completed"
    rounds = [row for row in logs["data"] if row["step"] is not None]
    assert len(rounds) == ROUNDS
    assert {"id", "createdAt", "level", "message", "step", "loss", "validLoss"} <= set(rounds[0])
    last = logs["data"][-1]["id"]
    assert client.get(f"/api/tasks/{task.pk}/logs", {"after": last}).json()["data"] == []

    status = client.get(f"/api/tasks/{task.pk}/status", {"limit": 1}).json()
    assert (status["status"], status["progress"]) == ("completed", 100)

    listed = client.get("/api/tasks", {"page": 1, "pageSize": 25}).json()
    row = listed["data"][0]
    mv = ModelVersion.objects.get(task=task)
    assert (row["id"], row["status"], row["progress"]) == (task.pk, "completed", 100)
    assert row["modelVersion"] == {
        "id": mv.pk,
        "model": mv.model_id,
        "modelName": "credit-lgbm",
        "version": 1,
    }


# --------------------------------------------------------------------------- model registry pages


def test_model_pages_list_versions_side_by_side_with_lineage(
    client, make_user, analyst, credit_version, django_capture_on_commit_callbacks
):
    first = _trained(analyst, credit_version, django_capture_on_commit_callbacks)
    second = _trained(analyst, credit_version, django_capture_on_commit_callbacks)
    model = Model.objects.get()
    v1, v2 = ModelVersion.objects.get(task=first), ModelVersion.objects.get(task=second)
    client.force_login(make_user(Role.VIEWER))

    page = _text(client.get("/models/"))
    row = page.split('id="models"', 1)[1].split("</table>", 1)[0]
    assert f'<a href="/models/{model.pk}/">credit-lgbm</a>' in row
    assert f'<a href="/models/{model.pk}/#v2">v2</a>' in row and "<td>2</td>" in row
    assert "Classification" in row and "lightgbm" in row

    response = client.get(f"/models/{model.pk}/")
    assert response.status_code == 200
    page = _text(response)
    metrics = page.split('id="metrics"', 1)[1].split("</table>", 1)[0]
    assert "<th>v2</th><th>v1</th>" in metrics
    assert f"<td>AUC</td><td>{v2.metrics['auc']:.4f}</td><td>{v1.metrics['auc']:.4f}</td>" in metrics
    for version, task in ((v1, first), (v2, second)):
        section = page.split(f'id="v{version.version}"', 1)[1].split("</section>", 1)[0]
        assert f'<a href="/tasks/{task.pk}/">#{task.pk} {task.name}</a>' in section
        assert f'href="/datasets/{credit_version.dataset_id}/?version=1">credit v1</a>' in section
        assert f'<code class="sha256">{credit_version.sha256}</code>' in section
        assert "<th>Seed</th><td>42</td>" in section
        assert "lightgbm <code>" in section and analyst.username in section
        assert "<th>num_boost_round</th><td>20</td>" in section
    assert client.get("/models/999999/").status_code == 404

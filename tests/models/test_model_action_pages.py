"""The model page's actions through the Django test client: upload a version, try a
prediction, set the A/B split, launch a batch prediction and download its file; a bad
input is a form error that stores nothing; each action is for the roles allowed it."""

from __future__ import annotations

import csv
import io
import pickle

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.models import services
from apps.models.models import Model, ModelVersion, VersionEvent
from apps.tasks import runner as task_runner
from apps.tasks.models import Task
from apps.users.models import Role
from tests.models.test_governance import _lgb_text, _train

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(make_user):
    return make_user(Role.ANALYST)


@pytest.fixture
def ext(admin_user) -> Model:
    return services.model_create(name="ext", type="classification", algorithm="lightgbm", user=admin_user)


def _upload(client, model: Model, content: bytes | None = None, name: str = "m.txt", **fields):
    file = SimpleUploadedFile(name, _lgb_text() if content is None else content)
    return client.post(f"/models/{model.pk}/upload/", {"file": file, **fields})


def _uploaded(model: Model, user, number: int | None = None) -> ModelVersion:
    return services.version_upload(
        model=model, data=_lgb_text(), filename="m.txt", user=user, version_number=number
    )


# --------------------------------------------------------------------------- upload


def test_upload_page_registers_a_version(client, analyst, ext):
    client.force_login(analyst)
    page = client.get(f"/models/{ext.pk}/").content.decode()
    assert 'id="upload-form"' in page and 'enctype="multipart/form-data"' in page
    response = _upload(client, ext, changelog="from a notebook", features="f0, f1, f2")
    assert response.status_code == 302 and response["Location"] == f"/models/{ext.pk}/#v1"
    version = ext.versions.get()
    assert version.source == "uploaded" and version.created_by == analyst
    assert version.changelog == "from a notebook"
    assert version.feature_schema["features"] == ["f0", "f1", "f2"]
    assert "Uploaded ext v1." in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("content", "name", "fields", "needle"),
    [
        (pickle.dumps({"a": 1}), "model.pkl", {}, "pickle"),
        (b"just some text\n", "model.txt", {}, "unrecognised"),
        (b"", "model.txt", {}, "The submitted file is empty."),
        (None, "m.txt", {"features": "a, b"}, "do not match"),
        (None, "m.txt", {"features": "a, a, b"}, "distinct"),
        (None, "m.txt", {"features": "[1, 2"}, "Not a valid JSON list."),
        (None, "m.txt", {"version": "0"}, "greater than or equal to 1"),
    ],
)
def test_upload_page_refuses_bad_input_and_stores_nothing(
    client, analyst, ext, content, name, fields, needle
):
    client.force_login(analyst)
    response = _upload(client, ext, content, name, **fields)
    assert response.status_code == 400
    page = response.content.decode()
    assert needle in page and 'role="alert"' in page and 'id="upload-form"' in page
    assert not ModelVersion.objects.exists()


def test_upload_page_refuses_a_taken_version_number(client, analyst, ext):
    _uploaded(ext, analyst, 1)
    client.force_login(analyst)
    response = _upload(client, ext, version="1")
    assert response.status_code == 400 and "already has a version 1" in response.content.decode()
    assert ext.versions.count() == 1


def test_viewer_page_has_no_actions_and_posts_are_refused(client, make_user, ext, admin_user):
    version = _uploaded(ext, admin_user)
    client.force_login(make_user(Role.VIEWER))
    page = client.get(f"/models/{ext.pk}/").content.decode()
    for form_id in ("upload-form", "try-form", "ab-form", "batch-form"):
        assert f'id="{form_id}"' not in page
    assert _upload(client, ext).status_code == 403
    assert client.get(f"/models/{ext.pk}/try/").status_code == 403
    assert client.post(f"/models/{ext.pk}/try/", {"version": "1", "feature_0": "1"}).status_code == 403
    assert client.post(f"/models/{ext.pk}/ab/", {"version": "1", "percent": "10"}).status_code == 403
    assert client.post(f"/models/{ext.pk}/batch/", {"version": "1", "dataset": "1"}).status_code == 403
    assert list(ext.versions.all()) == [version]


# --------------------------------------------------------------------------- try


def test_try_page_scores_a_record_with_its_explanation(client, analyst, ext, admin_user):
    _uploaded(ext, admin_user)  # registered, not active: a trial needs no promotion
    client.force_login(analyst)
    page = client.get(f"/models/{ext.pk}/").content.decode()
    assert 'id="try-form"' in page
    for i, name in enumerate(["f0", "f1", "f2"]):
        assert f'<label for="id_feature_{i}">{name}</label>' in page
    response = client.post(
        f"/models/{ext.pk}/try/", {"version": "1", "feature_0": "2", "feature_1": "0", "feature_2": ""}
    )
    assert response.status_code == 200
    answer = response.context["answer"]
    assert 0.5 < answer["score"] <= 1  # f0 > 0 is the event in the training data
    assert answer["contributions"][0]["feature"] == "f0" and answer["contributions"][0]["contribution"] > 0
    page = response.content.decode()
    assert 'id="try-score"' in page and 'id="try-contributions"' in page
    assert "Probability of 1" in page
    # Nothing was logged or counted: a trial is not a served request.
    assert not ext.prediction_logs.exists()


@pytest.mark.parametrize(("value", "needle"), [("abc", "Enter a number."), ("1e999", "Enter a number.")])
def test_try_page_refuses_a_value_that_is_not_a_number(client, analyst, ext, admin_user, value, needle):
    _uploaded(ext, admin_user)
    client.force_login(analyst)
    response = client.post(f"/models/{ext.pk}/try/", {"version": "1", "feature_0": value})
    assert response.status_code == 400 and needle in response.content.decode()
    assert response.context["answer"] is None


def test_try_page_picks_the_version_and_refuses_an_unknown_one(client, analyst, ext, admin_user):
    _uploaded(ext, admin_user, 1)
    _uploaded(ext, admin_user, 2)
    client.force_login(analyst)
    assert client.get(f"/models/{ext.pk}/try/?version=1").context["version"].version == 1
    assert client.get(f"/models/{ext.pk}/try/").context["version"].version == 2  # the newest
    assert client.get(f"/models/{ext.pk}/try/?version=9").status_code == 404


def test_try_page_offers_a_trained_versions_categories(client, analyst, admin_user, credit_version):
    version = _train(admin_user, credit_version.dataset_id)
    schema = version.feature_schema
    categorical = next(iter(schema["categoricalLevels"]))
    levels = schema["categoricalLevels"][categorical]
    index = schema["features"].index(categorical)
    client.force_login(analyst)
    form = client.get(f"/models/{version.model_id}/try/").context["form"]
    field = form.fields[f"feature_{index}"]
    assert [value for value, _ in field.choices] == ["", *map(str, levels)]
    data = {"version": "1", f"feature_{index}": str(levels[0])}
    scored = client.post(f"/models/{version.model_id}/try/", data)
    assert scored.status_code == 200 and 0 <= scored.context["answer"]["score"] <= 1
    refused = client.post(f"/models/{version.model_id}/try/", {**data, f"feature_{index}": "no-such-level"})
    assert refused.status_code == 400 and "Select a valid choice." in refused.content.decode()


# --------------------------------------------------------------------------- A/B


def test_admin_sets_and_ends_the_ab_split(client, admin_user, ext):
    v1, v2 = _uploaded(ext, admin_user), _uploaded(ext, admin_user)
    services.version_activate(version=v1, user=admin_user, reason="go")
    client.force_login(admin_user)
    assert 'id="ab-form"' in client.get(f"/models/{ext.pk}/").content.decode()
    response = client.post(f"/models/{ext.pk}/ab/", {"version": "2", "percent": "20", "reason": "try v2"})
    assert response.status_code == 302
    ext.refresh_from_db()
    assert ext.ab_version == v2 and ext.ab_percent == 20
    event = VersionEvent.objects.filter(action="ab").get()
    assert event.actor == admin_user and event.reason == "try v2"
    assert client.post(f"/models/{ext.pk}/ab/", {"version": "", "percent": "0"}).status_code == 302
    ext.refresh_from_db()
    assert ext.ab_version is None and ext.ab_percent == 0


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"version": "2", "percent": "150"}, "less than or equal to 100"),
        ({"version": "1", "percent": "20"}, "Select a valid choice"),  # the active version
        ({"version": "2", "percent": ""}, "This field is required."),
    ],
)
def test_ab_form_refuses_bad_input_and_changes_nothing(client, admin_user, ext, data, needle):
    v1 = _uploaded(ext, admin_user)
    _uploaded(ext, admin_user)
    services.version_activate(version=v1, user=admin_user, reason="go")
    client.force_login(admin_user)
    response = client.post(f"/models/{ext.pk}/ab/", data)
    assert response.status_code == 400 and needle in response.content.decode()
    ext.refresh_from_db()
    assert ext.ab_version is None and ext.ab_percent == 0


def test_ab_split_needs_an_active_version(client, admin_user, ext):
    _uploaded(ext, admin_user)
    client.force_login(admin_user)
    response = client.post(f"/models/{ext.pk}/ab/", {"version": "1", "percent": "10"})
    assert response.status_code == 400 and "no active version" in response.content.decode()
    ext.refresh_from_db()
    assert ext.ab_version is None


def test_analyst_cannot_set_the_ab_split(client, analyst, admin_user, ext):
    v1 = _uploaded(ext, admin_user)
    _uploaded(ext, admin_user)
    services.version_activate(version=v1, user=admin_user, reason="go")
    client.force_login(analyst)
    assert 'id="ab-form"' not in client.get(f"/models/{ext.pk}/").content.decode()
    assert client.post(f"/models/{ext.pk}/ab/", {"version": "2", "percent": "50"}).status_code == 403
    ext.refresh_from_db()
    assert ext.ab_version is None


# --------------------------------------------------------------------------- batch


def test_batch_prediction_page_runs_and_its_file_downloads(
    client, analyst, admin_user, credit_version, make_user
):
    version = _train(admin_user, credit_version.dataset_id)
    model = version.model
    client.force_login(analyst)
    assert 'id="batch-form"' in client.get(f"/models/{model.pk}/").content.decode()
    response = client.post(
        f"/models/{model.pk}/batch/",
        {"version": str(version.version), "dataset": str(credit_version.dataset_id), "priority": "high"},
    )
    task = Task.objects.get(type="prediction")
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}/"
    assert task.created_by == analyst and task.priority == "high"
    page = client.get(f"/models/{model.pk}/").content.decode()
    assert f'data-task="{task.pk}"' in page and "not ready yet" in page
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"

    page = client.get(f"/models/{model.pk}/").content.decode()
    batch = task.batch_prediction
    assert f"/models/batch-predictions/{batch.pk}/download/" in page
    # The task's page, where the form led, offers the file too (and names no produced version).
    task_page = client.get(f"/tasks/{task.pk}/")
    assert task_page.status_code == 200 and client.get("/tasks/").status_code == 200
    task_page = task_page.content.decode()
    assert f'href="/models/batch-predictions/{batch.pk}/download/"' in task_page
    assert 'id="model-version"' not in task_page
    client.force_login(make_user(Role.VIEWER))  # reading a finished file is for every role
    download = client.get(f"/models/batch-predictions/{batch.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert (
        rows[0][:3] == ["application_id", "score", "reason_1"] and len(rows) == credit_version.row_count + 1
    )
    assert client.get("/models/batch-predictions/999999/download/").status_code == 404


def test_batch_prediction_form_refuses_data_without_the_features(
    client, analyst, admin_user, ext, credit_version
):
    _uploaded(ext, admin_user)  # features f0, f1, f2: not columns of the credit data
    client.force_login(analyst)
    response = client.post(
        f"/models/{ext.pk}/batch/",
        {"version": "1", "dataset": str(credit_version.dataset_id), "priority": "medium"},
    )
    assert response.status_code == 400 and "lacks the version&#x27;s feature(s)" in response.content.decode()
    bad_version = client.post(
        f"/models/{ext.pk}/batch/",
        {
            "version": "1",
            "dataset": str(credit_version.dataset_id),
            "dataset_version": "9",
            "priority": "medium",
        },
    )
    assert bad_version.status_code == 400 and "has no version 9" in bad_version.content.decode()
    assert not Task.objects.filter(type="prediction").exists()


def test_viewer_cannot_launch_a_batch_prediction(client, make_user, admin_user, ext, credit_version):
    _uploaded(ext, admin_user)
    client.force_login(make_user(Role.VIEWER))
    response = client.post(
        f"/models/{ext.pk}/batch/", {"version": "1", "dataset": str(credit_version.dataset_id)}
    )
    assert response.status_code == 403 and not Task.objects.filter(type="prediction").exists()


# --------------------------------------------------------------------------- Chinese


def test_model_page_actions_render_in_chinese(client, admin_user, ext):
    _uploaded(ext, admin_user)
    client.cookies["omm_language"] = "zh-hans"
    client.force_login(admin_user)
    page = client.get(f"/models/{ext.pk}/").content.decode()
    assert "试算" in page and "上传模型版本" in page and "批量预测" in page
    assert "Try a prediction" not in page and "Upload a model version" not in page
    result = client.post(f"/models/{ext.pk}/try/", {"version": "1", "feature_0": "2"}).content.decode()
    assert "结果" in result and "Result" not in result

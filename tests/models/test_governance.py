"""Registry governance: uploads that never unpickle, maker-checker, archive, trace,
reproduce, batch prediction files and the champion/challenger gate."""

from __future__ import annotations

import csv
import io
import pickle

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.config import config_invalidate
from apps.core.models import SystemConfig
from apps.models import training_tasks
from apps.models.models import BatchPrediction, ModelVersion, PromotionRequest, VersionEvent
from apps.tasks import runner as task_runner
from apps.tasks import schedules as task_schedules
from apps.tasks.models import Task, TaskSchedule
from apps.users.models import Role
from tests.factories import ModelFactory

pytestmark = pytest.mark.django_db


def _train(user, dataset_id, *, seed=42, rounds=5, name="credit", **extra):
    task = training_tasks.training_create(
        user=user,
        request={
            "name": name,
            "dataset": dataset_id,
            "params": {"num_boost_round": rounds},
            "seed": seed,
            **extra,
        },
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed", Task.objects.get(
        pk=task.pk
    ).error
    return ModelVersion.objects.get(task=task)


def _config(key, value, value_type="boolean"):
    SystemConfig.objects.update_or_create(key=key, defaults={"value": value, "value_type": value_type})
    config_invalidate(key)


@pytest.fixture
def trained(admin_user, credit_version):
    return _train(admin_user, credit_version.dataset_id)


# --------------------------------------------------------------------------- upload


def _lgb_text(n_features=3):
    import lightgbm as lgb
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, n_features))
    y = (X[:, 0] > 0).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1},
        lgb.Dataset(X, y, feature_name=[f"f{i}" for i in range(n_features)]),
        5,
    )
    return booster.model_to_string().encode()


def _post_upload(api, **fields):
    return api.post("/api/models/upload", fields, format="multipart")


def test_upload_a_lightgbm_model_and_score_with_it(api, admin_user):
    api.post("/api/models", {"name": "ext", "type": "classification", "algorithm": "lightgbm"}, format="json")
    r = _post_upload(
        api, model="ext", file=SimpleUploadedFile("m.txt", _lgb_text()), changelog="from a notebook"
    )
    assert r.status_code == 201, r.content
    body = r.json()["data"]
    assert (
        body["version"] == 1
        and body["source"] == "uploaded"
        and body["featureSchema"]["features"]
        == [
            "f0",
            "f1",
            "f2",
        ]
    )
    version = ModelVersion.objects.get(pk=body["id"])
    assert len(version.checksum) == 64 and version.artifact_format == "lightgbm-text"
    api.post(f"/api/model-versions/{version.pk}/promote", {"reason": "external"}, format="json")
    scored = api.post(
        f"/api/models/{version.model_id}/predict",
        {"record": {"f0": 2.0, "f1": 0.0, "f2": None}},
        format="json",
    )
    assert scored.status_code == 200 and 0.5 < scored.json()["data"]["scores"][0] <= 1

    again = _post_upload(api, model="ext", version=1, file=SimpleUploadedFile("m.txt", _lgb_text()))
    assert again.status_code == 400 and "already has a version 1" in again.json()["message"]


@pytest.mark.parametrize(
    ("filename", "content", "needle"),
    [
        ("model.pkl", pickle.dumps({"a": 1}), "pickle"),
        ("model.bin", pickle.dumps({"a": 1}), "pickle"),
        ("model.joblib", b"anything", "pickle"),
        ("model.txt", b"just some text\n", "unrecognised"),
        ("model.txt", b"", "empty"),
    ],
)
def test_unsafe_or_unknown_files_are_refused_unread(api, filename, content, needle, monkeypatch):
    ModelFactory(name="ext", type="classification", algorithm="lightgbm")
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("an upload was unpickled"))
    r = _post_upload(api, model="ext", file=SimpleUploadedFile(filename, content))
    assert r.status_code == 400 and needle in r.json()["message"]
    assert not ModelVersion.objects.exists()


def test_upload_schema_mismatches_are_refused(api):
    ModelFactory(name="ext", type="classification", algorithm="lightgbm")
    ModelFactory(name="reg", type="regression", algorithm="lightgbm")
    r = _post_upload(
        api, model="ext", file=SimpleUploadedFile("m.txt", _lgb_text()), features='["a", "b", "c"]'
    )
    assert r.status_code == 400 and "do not match" in r.json()["message"]
    r = _post_upload(api, model="reg", file=SimpleUploadedFile("m.txt", _lgb_text()))
    assert r.status_code == 400 and "regression model" in r.json()["message"]
    r = _post_upload(api, model="nobody", file=SimpleUploadedFile("m.txt", _lgb_text()))
    assert r.status_code == 400 and "create it first" in r.json()["message"]
    assert not ModelVersion.objects.exists()


def test_model_create_rules(api, client_for, make_user):
    body = {"name": "scorecard", "type": "classification", "algorithm": "logistic_regression"}
    assert api.post("/api/models", body, format="json").status_code == 201
    assert api.post("/api/models", body, format="json").status_code == 400  # duplicate name
    assert api.post("/api/models", {**body, "name": "../x"}, format="json").status_code == 400
    assert api.post("/api/models", {**body, "name": "y", "type": "magic"}, format="json").status_code == 400
    assert client_for(make_user(Role.VIEWER)).post("/api/models", {**body, "name": "z"}).status_code == 403
    assert client_for(make_user(Role.ANALYST)).post("/api/models", {**body, "name": "z"}).status_code == 201


# --------------------------------------------------------------------------- maker-checker


def test_promotion_waits_for_a_different_admin(api, client_for, make_user, trained):
    _config("models-promotion-approval", True)
    r = api.post(f"/api/model-versions/{trained.pk}/promote", {"reason": "ship it"}, format="json")
    assert r.status_code == 202 and r.json()["data"]["status"] == "pending"
    trained.refresh_from_db()
    assert trained.status == "registered"
    request_id = r.json()["data"]["id"]
    again = api.post(f"/api/model-versions/{trained.pk}/promote", {"reason": "again"}, format="json")
    assert again.status_code == 409  # one pending request per version

    own = api.post(f"/api/promotion-requests/{request_id}/approve", {"reason": "me"}, format="json")
    assert own.status_code == 409 and "different admin" in own.json()["message"]
    checker = client_for(make_user(Role.ADMIN))
    assert checker.post(f"/api/promotion-requests/{request_id}/reject", {}, format="json").status_code == 400
    ok = checker.post(f"/api/promotion-requests/{request_id}/approve", {"reason": "checked"}, format="json")
    assert ok.status_code == 200 and ok.json()["data"]["status"] == "active"
    assert PromotionRequest.objects.get(pk=request_id).status == "approved"
    actions = list(VersionEvent.objects.filter(version=trained).values_list("action", flat=True))
    assert actions == ["register", "request", "approve"]
    assert checker.post(f"/api/promotion-requests/{request_id}/approve", format="json").status_code == 409
    analyst = client_for(make_user(Role.ANALYST))
    assert analyst.post(f"/api/promotion-requests/{request_id}/approve", format="json").status_code == 403


def test_a_rejected_promotion_changes_nothing_but_the_trail(api, client_for, make_user, trained):
    _config("models-promotion-approval", True)
    request_id = api.post(f"/api/model-versions/{trained.pk}/promote", {"reason": "x"}, format="json").json()[
        "data"
    ]["id"]
    checker = client_for(make_user(Role.ADMIN))
    r = checker.post(f"/api/promotion-requests/{request_id}/reject", {"reason": "KS too low"}, format="json")
    assert r.status_code == 200 and r.json()["data"]["status"] == "rejected"
    trained.refresh_from_db()
    assert trained.status == "registered"
    assert VersionEvent.objects.filter(version=trained, action="reject", reason="KS too low").exists()
    assert api.get("/api/promotion-requests?status=rejected").json()["total"] == 1


# --------------------------------------------------------------------------- archive and time travel


def test_archiving_stops_serving_and_promotion_and_answers_active_at(api, trained):
    from django.utils import timezone

    api.post(f"/api/model-versions/{trained.pk}/promote", {"reason": "go"}, format="json")
    before = timezone.now()
    r = api.post(f"/api/models/{trained.model_id}/archive", {"reason": "product closed"}, format="json")
    assert r.status_code == 200 and r.json()["data"]["status"] == "archived"
    trained.refresh_from_db()
    assert trained.status == "inactive"
    assert (
        api.post(f"/api/model-versions/{trained.pk}/promote", {"reason": "test"}, format="json").status_code
        == 409
    )
    assert (
        api.post(f"/api/models/{trained.model_id}/archive", {"reason": "again"}, format="json").status_code
        == 409
    )
    at = api.get(f"/api/models/{trained.model_id}/active-at", {"at": before.isoformat()})
    assert at.status_code == 200 and at.json()["version"] == 1
    now = api.get(f"/api/models/{trained.model_id}/active-at", {"at": timezone.now().isoformat()})
    assert now.status_code == 404


# --------------------------------------------------------------------------- trace and reproduce


def test_trace_walks_back_to_the_data_and_reproduce_matches(api, trained, credit_version):
    trace = api.get(f"/api/model-versions/{trained.pk}/trace").json()
    back = trace["back"]
    assert back["dataset"]["sha256"] == credit_version.sha256 and back["seed"] == 42
    assert back["task"]["id"] == trained.task_id and back["libraryVersions"]["lightgbm"]
    assert [e["action"] for e in trace["events"]] == ["register"]

    r = api.post(f"/api/model-versions/{trained.pk}/reproduce", format="json")
    assert r.status_code == 201
    task_id = r.json()["data"]["id"]
    assert task_runner.task_execute(task_id=task_id, worker="w:1") == "completed"
    report = Task.objects.get(pk=task_id).result["reproduction"]
    assert report["metricsMatch"] is True and report["checksumMatch"] is True and report["differences"] == {}
    assert ModelVersion.objects.filter(model=trained.model).count() == 1  # nothing new registered
    forward = api.get(f"/api/model-versions/{trained.pk}/trace").json()["forward"]
    assert forward["reproductions"][0]["metricsMatch"] is True


def test_an_uploaded_version_cannot_be_reproduced(api):
    api.post("/api/models", {"name": "ext", "type": "classification", "algorithm": "lightgbm"}, format="json")
    vid = _post_upload(api, model="ext", file=SimpleUploadedFile("m.txt", _lgb_text())).json()["data"]["id"]
    r = api.post(f"/api/model-versions/{vid}/reproduce", format="json")
    assert r.status_code == 409 and "uploaded" in r.json()["message"]


# --------------------------------------------------------------------------- batch prediction


def test_batch_prediction_writes_a_formula_safe_csv(
    api, trained, credit_version, django_capture_on_commit_callbacks
):
    import pyarrow as pa
    import pyarrow.parquet as pq

    # A key that a spreadsheet would run as a formula.
    with credit_version.parquet.open("rb") as fh:
        table = pq.read_table(fh)
    keys = table.column("application_id").cast(pa.string()).to_pylist()
    keys[0] = "=HYPERLINK(1)"
    table = table.set_column(table.schema.get_field_index("application_id"), "application_id", pa.array(keys))
    pq.write_table(table, credit_version.parquet.path)
    credit_version.validation_result["columns"] = [
        {**c, "dtype": "string"} if c["name"] == "application_id" else c
        for c in credit_version.validation_result["columns"]
    ]
    credit_version.save()

    api.post(f"/api/model-versions/{trained.pk}/promote", {"reason": "go"}, format="json")
    with django_capture_on_commit_callbacks(execute=False):
        r = api.post(
            f"/api/models/{trained.model_id}/batch-predictions",
            {"dataset": credit_version.dataset_id},
            format="json",
        )
    assert r.status_code == 201, r.content
    task_id = r.json()["data"]["id"]
    assert Task.objects.get(pk=task_id).type == "prediction"
    assert task_runner.task_execute(task_id=task_id, worker="w:1") == "completed", Task.objects.get(
        pk=task_id
    ).error
    batch = BatchPrediction.objects.get(task_id=task_id)
    assert batch.rows == credit_version.row_count
    listed = api.get(f"/api/models/{trained.model_id}/batch-predictions").json()
    assert listed["total"] == 1
    download = api.get(listed["data"][0]["download"])
    assert download.status_code == 200 and download["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    reasons = [f"reason_{i}{part}" for i in range(1, 5) for part in ("", "_code")]
    assert rows[0] == ["application_id", "score", *reasons]
    assert rows[1][0] == "'=HYPERLINK(1)" and 0 <= float(rows[1][1]) <= 1
    features = set(trained.feature_schema["features"])
    # The first reason names one of the model's features (blank when nothing pushed towards the event).
    assert {r[2] for r in rows[1:]} <= features | {""} and any(r[2] for r in rows[1:])
    assert len(rows) == credit_version.row_count + 1


def test_batch_prediction_bad_requests(api, client_for, make_user, trained, credit_version):
    url = f"/api/models/{trained.model_id}/batch-predictions"
    assert (
        api.post(url, {"dataset": credit_version.dataset_id}, format="json").status_code == 409
    )  # none active
    assert api.post(url, {"dataset": 99999, "version": 1}, format="json").status_code == 400
    assert (
        api.post(url, {"dataset": credit_version.dataset_id, "version": 7}, format="json").status_code == 400
    )
    viewer = client_for(make_user(Role.VIEWER))
    assert (
        viewer.post(url, {"dataset": credit_version.dataset_id, "version": 1}, format="json").status_code
        == 403
    )
    assert not Task.objects.filter(type="prediction").exists()


# --------------------------------------------------------------------------- champion/challenger


def _scheduled(admin_user, credit_version, **request):
    schedule = task_schedules.schedule_create(
        user=admin_user,
        name=f"nightly-{request.get('seed', 0)}",
        request={"name": "credit", "dataset": credit_version.dataset_id, **request},
        every_minutes=60,
    )
    task = task_schedules.schedule_run(schedule_id=schedule.pk, trigger_key=f"k-{schedule.pk}")
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed", Task.objects.get(
        pk=task.pk
    ).error
    return ModelVersion.objects.get(task=task), Task.objects.get(pk=task.pk)


def test_a_retrained_challenger_is_promoted_only_past_the_margin(api, admin_user, credit_version):
    # A weak champion (one feature) and a challenger on every feature, same split and seed.
    trained = _train(admin_user, credit_version.dataset_id, features=["user_age"])
    api.post(f"/api/model-versions/{trained.pk}/promote", {"reason": "champion"}, format="json")
    _config("models-challenger-margin", 0.01, "number")
    better, task = _scheduled(admin_user, credit_version, params={"num_boost_round": 5}, seed=42)
    gate = task.result["gate"]
    assert gate["champion"] == pytest.approx(trained.metrics["auc"]), (gate, trained.metrics)  # same holdout
    assert gate["decision"] == "promoted" and gate["metric"] == "auc", gate
    assert gate["challenger"] == pytest.approx(better.metrics["auc"])
    better.refresh_from_db()
    assert better.status == "active"
    # The next one must beat it by an impossible margin: it stays registered, logged.
    _config("models-challenger-margin", 0.5, "number")
    kept, task = _scheduled(admin_user, credit_version, params={"num_boost_round": 6}, seed=7)
    kept.refresh_from_db()
    assert kept.status == "registered" and task.result["gate"]["decision"] == "kept"
    event = VersionEvent.objects.get(version=kept, action="gate")
    assert "Kept registered" in event.reason and event.details["margin"] == 0.5
    assert TaskSchedule.objects.count() == 2

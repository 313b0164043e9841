"""The seed design's request names beside OMM's, and its JSON types on request.

OMM's names stay primary; the seed's (``modelId``, ``datasetId``, ``parameters``,
``resourceConfig.cpu``...) are aliases. These run without the design document; the
document-driven contract is tests/core/test_seed_contract.py.
"""

from __future__ import annotations

import pickle

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.evaluations.models import Evaluation
from apps.models import training_tasks
from apps.models.models import Model, ModelVersion
from apps.tasks import runner as task_runner
from apps.tasks.models import Task
from tests.core.test_api_conventions import assert_error

pytestmark = pytest.mark.django_db

SEED = {"HTTP_ACCEPT": "application/json; profile=seed"}


def lgb_text(n_features: int = 3) -> bytes:
    """A small binary LightGBM model as its text file (features f0, f1...)."""
    import lightgbm as lgb
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, n_features))
    booster = lgb.train(
        {"objective": "binary", "verbose": -1},
        lgb.Dataset(X, (X[:, 0] > 0).astype(int), feature_name=[f"f{i}" for i in range(n_features)]),
        5,
    )
    return booster.model_to_string().encode()


@pytest.fixture
def model(api) -> Model:
    r = api.post(
        "/api/models", {"name": "risk", "type": "classification", "algorithm": "lightgbm"}, format="json"
    )
    assert r.status_code == 201, r.content
    return Model.objects.get(pk=r.json()["data"]["id"])


@pytest.fixture
def post(api, django_capture_on_commit_callbacks):
    """POST JSON without sending the broker message (no worker here)."""

    def send(path: str, body: dict, **headers):
        with django_capture_on_commit_callbacks(execute=False):
            return api.post(path, body, format="json", **headers)

    return send


def _train(user, model: Model, dataset_id: int) -> ModelVersion:
    task = training_tasks.training_create(
        user=user,
        request={"name": model.name, "dataset": dataset_id, "params": {"num_boost_round": 10}},
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    return ModelVersion.objects.get(task=task)


# --------------------------------------------------------------------------- trainings


def test_the_seed_training_request_names_the_model_and_keeps_its_resources(post, model, credit_version):
    r = post(
        "/api/tasks/training",
        {
            "name": "nightly risk training",
            "modelId": str(model.pk),
            "datasetId": str(credit_version.dataset_id),
            "algorithm": "RandomForest",
            "parameters": {"n_estimators": 50},
            "resourceConfig": {"cpu": 2, "memory": 4096, "gpu": 0},
            "priority": "high",
        },
    )
    assert r.status_code == 201, r.content
    task = Task.objects.get(pk=r.json()["data"]["id"])
    assert task.name == "nightly risk training" and task.priority == "high"
    p = task.parameters
    assert p["model_name"] == "risk" and p["dataset"] == credit_version.dataset_id
    assert p["algorithm"] == "random_forest" and p["params"]["n_estimators"] == 50
    # cpu, memory and gpu have no OMM meaning: kept with the task, nothing applied.
    assert p["requested_resources"] == {"cpu": 2, "memory": 4096, "gpu": 0}
    assert task.resource_config == {}
    assert r.json()["data"]["parameters"]["requestedResources"] == {"cpu": 2, "memory": 4096, "gpu": 0}


def test_omm_resource_keys_arrive_as_spelt(post, credit_version):
    r = post(
        "/api/tasks/training",
        {
            "name": "m",
            "dataset": credit_version.dataset_id,
            "resourceConfig": {"memoryMb": 2048, "threads": 1},
        },
    )
    assert r.status_code == 201, r.content
    assert Task.objects.get(pk=r.json()["data"]["id"]).resource_config == {"memoryMb": 2048, "threads": 1}


def test_the_generic_create_takes_the_seed_names_too(post, model, credit_version):
    r = post("/api/tasks", {"type": "training", "modelId": model.pk, "datasetId": credit_version.dataset_id})
    assert r.status_code == 201, r.content
    assert Task.objects.get(pk=r.json()["data"]["id"]).parameters["model_name"] == "risk"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"modelId": "424242"}, "modelId"),
        ({"modelId": "risk"}, "modelId"),
        ({"datasetId": "abc"}, "datasetId"),
        ({"dataset": 424242}, "datasetId"),
        ({"parameters": {"n_estimators": 1}, "params": {"n_estimators": 2}}, "parameters"),
        ({"resourceConfig": {"cpu": "lots"}}, "resourceConfig"),
        ({"resourceConfig": {"gpu": -1}}, "resourceConfig"),
        ({"resourceConfig": {"cores": 2}}, "resourceConfig"),
        ({"algorithm": "XGBoost"}, "algorithm"),
        ({"priority": "asap"}, "priority"),
    ],
)
def test_bad_seed_training_requests_answer_400_and_queue_nothing(
    post, model, credit_version, overrides, field
):
    body = {"name": "t", "modelId": str(model.pk), "datasetId": str(credit_version.dataset_id), **overrides}
    body = {k: v for k, v in body.items() if v is not None}
    error = assert_error(post("/api/tasks/training", body), 400, "validation_error")
    assert field in error["errors"], error
    assert not Task.objects.filter(type="training").exists()


def test_a_training_without_name_or_model_is_refused(post, credit_version):
    error = assert_error(
        post("/api/tasks/training", {"datasetId": credit_version.dataset_id}), 400, "validation_error"
    )
    assert "name" in error["errors"]


# --------------------------------------------------------------------------- models and uploads


def test_registering_a_model_with_its_file_makes_the_first_version(api):
    r = api.post(
        "/api/models",
        {
            "name": "RiskScore_v1",
            "version": "v3",
            "type": "classification",
            "algorithm": "RandomForest",
            "description": "用户风险评分模型",
            "parameters": '{"n_estimators": 100, "max_depth": 10}',
            "file": SimpleUploadedFile("model.txt", lgb_text()),
        },
        format="multipart",
    )
    assert r.status_code == 201, r.content
    data = r.json()["data"]
    assert data["version"] == "3" and data["versionCount"] == 1 and data["status"] == "draft"
    assert data["parameters"] == {"nEstimators": 100, "maxDepth": 10}
    assert ModelVersion.objects.get(model__name="RiskScore_v1").version == 3


def test_a_refused_file_registers_no_model(api):
    r = api.post(
        "/api/models",
        {
            "name": "bad",
            "version": "1",
            "type": "classification",
            "algorithm": "x",
            "file": SimpleUploadedFile("m.pkl", pickle.dumps({"a": 1})),
        },
        format="multipart",
    )
    assert "file" in assert_error(r, 400, "validation_error")["errors"]
    assert not Model.objects.filter(name="bad").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"type": "clustering"}, "type"),
        ({"version": "1.5"}, "version"),
        ({"parameters": "[1]"}, "parameters"),
    ],
)
def test_bad_seed_model_requests_answer_400(api, overrides, field):
    body = {"name": "m", "version": "v1", "type": "classification", "algorithm": "a", "parameters": "{}"}
    error = assert_error(
        api.post("/api/models", {**body, **overrides}, format="multipart"), 400, "validation_error"
    )
    assert field in error["errors"] and not Model.objects.exists()


def test_the_seed_upload_answers_file_id_url_and_size(api, model):
    r = api.post(
        "/api/models/upload",
        {"modelId": str(model.pk), "version": "v2", "file": SimpleUploadedFile("m.txt", lgb_text())},
        format="multipart",
        **SEED,
    )
    assert r.status_code == 201, r.content
    data = r.json()["data"]
    version = ModelVersion.objects.get(model=model)
    assert data["fileId"] == data["id"] == str(version.pk) and data["version"] == "2"
    assert data["url"] == f"/api/model-versions/{version.pk}" and data["size"] == version.size > 0
    assert api.get(data["url"]).json()["id"] == version.pk


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"modelId": "424242"}, "modelId"),
        ({"modelId": "risk", "model": "other"}, "modelId"),
        ({"version": "two"}, "version"),
        ({}, "model"),
    ],
)
def test_bad_seed_uploads_answer_400(api, model, fields, field):
    r = api.post(
        "/api/models/upload", {**fields, "file": SimpleUploadedFile("m.txt", lgb_text())}, format="multipart"
    )
    error = assert_error(r, 400, "validation_error")
    assert field in error["errors"] and not ModelVersion.objects.exists()


def test_a_model_reads_as_its_current_version(api, admin_user, model, credit_version):
    first = _train(admin_user, model, credit_version.dataset_id)
    second = _train(admin_user, model, credit_version.dataset_id)
    newest = api.get(f"/api/models/{model.pk}").json()
    assert newest["version"] == "2" and newest["metrics"]["auc"] == second.metrics["auc"]
    api.post(f"/api/model-versions/{first.pk}/promote", {"reason": "champion"}, format="json")
    listed = api.get("/api/models").json()["data"][0]
    assert listed["version"] == "1" and listed["metrics"]["auc"] == first.metrics["auc"]


# --------------------------------------------------------------------------- evaluations


def test_an_evaluation_named_the_seed_way(api, admin_user, post, model, credit_version):
    _train(admin_user, model, credit_version.dataset_id)
    second = _train(admin_user, model, credit_version.dataset_id)
    r = post("/api/evaluation", {"modelId": str(model.pk), "datasetId": str(credit_version.dataset_id)})
    assert r.status_code == 201, r.content
    assert Evaluation.objects.get(pk=r.json()["data"]["id"]).model_version == second
    r = post(
        "/api/evaluation", {"modelId": model.pk, "modelVersion": "1", "datasetId": credit_version.dataset_id}
    )
    assert r.status_code == 201, r.content
    assert r.json()["data"]["modelVersion"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"modelId": 424242}, "modelId"),
        ({"modelVersion": 7}, "modelVersion"),
        ({"datasetId": 1, "dataset": 2}, "datasetId"),
        ({"modelId": None}, "modelVersion"),
    ],
)
def test_bad_seed_evaluation_requests_answer_400(admin_user, post, model, credit_version, body, field):
    _train(admin_user, model, credit_version.dataset_id)
    request = {"modelId": model.pk, "datasetId": credit_version.dataset_id, **body}
    request = {k: v for k, v in request.items() if v is not None}
    error = assert_error(post("/api/evaluation", request), 400, "validation_error")
    assert field in error["errors"], error
    assert not Evaluation.objects.exists()


def test_a_model_without_versions_cannot_be_evaluated(post, model, credit_version):
    error = assert_error(
        post("/api/evaluation", {"modelId": model.pk, "datasetId": credit_version.dataset_id}),
        400,
        "validation_error",
    )
    assert "has no version to evaluate" in error["errors"]["modelId"][0]


# --------------------------------------------------------------------------- features


def test_tags_as_a_query_builder_writes_an_array(api):
    for name, tags in (("a_feature", ["seed", "core"]), ("b_feature", ["seed"])):
        assert (
            api.post(
                "/api/features", {"name": name, "type": "numerical", "tags": tags}, format="json"
            ).status_code
            == 201
        )
    body = api.get("/api/features?tags[]=seed&tags[]=core").json()
    assert [f["name"] for f in body["data"]] == ["a_feature"] and body["total"] == 1
    assert_error(api.get("/api/features?tags[]=bad tag"), 400, "validation_error")


def test_a_feature_read_can_be_put_back_edited(api):
    created = api.post("/api/features", {"name": "age", "type": "numerical", "tags": ["x"]}, format="json")
    feature_id = created.json()["data"]["id"]
    read = api.get(f"/api/features/{feature_id}", **SEED).json()
    assert read["id"] == str(feature_id) and "statistics" in read
    r = api.put(f"/api/features/{feature_id}", {**read, "displayName": "年龄"}, format="json", **SEED)
    assert r.status_code == 200, r.content
    assert r.json()["data"]["displayName"] == "年龄" and r.json()["data"]["tags"] == ["x"]


# --------------------------------------------------------------------------- the seed's JSON types


def test_the_seed_profile_types_ids_and_version_numbers_as_text(api, admin_user, model, credit_version):
    version = _train(admin_user, model, credit_version.dataset_id)
    omm = api.get("/api/models").json()["data"][0]
    seed = api.get("/api/models", **SEED).json()["data"][0]
    assert omm["id"] == model.pk and omm["latestVersion"] == 1
    assert seed["id"] == str(model.pk) and seed["latestVersion"] == "1" and seed["version"] == "1"
    # Only the resource's own fields: nested data stays as stored.
    assert seed["metrics"] == omm["metrics"] and {
        k: v for k, v in seed.items() if k not in ("id", "latestVersion")
    } == {k: v for k, v in omm.items() if k not in ("id", "latestVersion")}
    task = api.get(f"/api/tasks/{version.task_id}", **SEED).json()
    assert task["id"] == str(version.task_id) and task["modelVersion"]["id"] == version.pk
    # Errors keep the one error format.
    assert_error(api.get("/api/models/424242", **SEED), 404, "not_found")

"""The seed design's API contract, read from the document itself (../shared/seeds/000_*.txt).

Every request block of sections 4.2-4.4 is filled with values of its declared types (ids of
data made here) and sent as the seed's front end would (a query string, JSON, or a
multipart form when it carries a file); every answer must hold every field the seed
declares, of the declared JSON type. Every route of the table in 3.2 must answer its method.

Answers are checked twice: with ``Accept: application/json; profile=seed`` they must have
the seed's types exactly; OMM's own form may differ only as ``seed_doc.Checker`` documents
(integer ids and version numbers, log rows for log lines).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.evaluations import services as evaluation_services
from apps.features.models import FeatureType
from apps.models import training_tasks
from apps.models.models import Model, ModelStatus, ModelType, ModelVersion
from apps.tasks import runner as task_runner
from apps.tasks.models import Priority, Task, TaskStatus, TaskType

from . import seed_doc
from .seed_doc import Arr, Lit, Obj, Ref, Union, make_value, parse_type
from .test_seed_aliases import lgb_text

ROOT = Path(__file__).resolve().parents[2]
FOUND = sorted((ROOT.parent / "shared" / "seeds").glob("000_*.txt"))
if not FOUND:
    pytest.skip(
        f"the seed design document is not here ({ROOT.parent / 'shared' / 'seeds' / '000_*.txt'}): "
        "its contract is checked where the shared folder sits next to the repository",
        allow_module_level=True,
    )
DOC = seed_doc.read(FOUND[0])

pytestmark = pytest.mark.django_db

SEED_ACCEPT = "application/json; profile=seed"
# Values OMM's enums add to the seed's unions (OMM has a queue and QA models besides).
EXTENSIONS = {"Task.status": {"queued"}, "Task.type": {"ingestion"}, "Model.type": {"retrieval"}}
# Seed values OMM has no meaning for: refused with a 400 that lists OMM's types.
GAPS = {("Model.type", "clustering")}
# OMM's choices for each of the seed's unions.
OMM_CHOICES = {
    "Feature.type": FeatureType.values,
    "Model.type": ModelType.values,
    "Model.status": ModelStatus.values,
    "Task.type": TaskType.values,
    "Task.status": TaskStatus.values,
    "Task.priority": Priority.values,
}
# What the routes of 3.2 that have no request/response block of their own answer, in the
# seed's words (its types of 4.1, its list shape and its write envelope).
PAGE = "{{ data: {}[]; total: number; page: number; pageSize: number }}"
WRITE = "{{ success: boolean; data: {}; message?: string }}"
ROUTE_ANSWERS = {
    "GET /api/features/:id": "Feature",
    "PUT /api/features/:id": WRITE.format("Feature"),
    "GET /api/models": PAGE.format("Model"),
    "GET /api/models/:id": "Model",
    "GET /api/models/:id/versions": PAGE.format("any"),
    "GET /api/tasks": PAGE.format("Task"),
    "POST /api/tasks": WRITE.format("Task"),
    "POST /api/evaluation": WRITE.format("EvaluationResult"),
    "GET /api/evaluation/:id": "EvaluationResult",
}


def checker(form: str) -> seed_doc.Checker:
    return seed_doc.Checker(DOC.interfaces, omm_form=form == "omm", extensions=EXTENSIONS)


# --------------------------------------------------------------------------- data made here


class World:
    """What the examples name: a dataset (and the task that validated it, with its logs),
    a tagged feature and registered models, made through the API as an analyst would."""

    def __init__(self, api, dataset_version):
        self.api = api
        self.dataset = dataset_version
        self.task = Task.objects.get(pk=dataset_version.task_id)
        self.serial = 0
        created = api.post(
            "/api/features",
            {"name": "seed_age", "type": "numerical", "dataType": "int64", "tags": ["seed"]},
            format="json",
        )
        assert created.status_code == 201, created.content
        self.feature_id = created.json()["data"]["id"]
        self.model = self.register("seed-risk")

    def register(self, name: str) -> Model:
        r = self.api.post(
            "/api/models", {"name": name, "type": "classification", "algorithm": "lightgbm"}, format="json"
        )
        assert r.status_code == 201, r.content
        return Model.objects.get(pk=r.json()["data"]["id"])

    def unique(self, stem: str) -> str:
        self.serial += 1
        return f"{stem}_{self.serial}"

    def values(self, endpoint: str) -> dict:
        """Meaningful values where a plain one of the declared type would name nothing (ids
        of data made here, a type and an algorithm OMM knows, a name not taken yet)."""
        if endpoint == "GET /api/features":
            return {"type": "numerical", "search": "seed_age", "tags": ["seed"], "page": 1, "pageSize": 20}
        if endpoint == "POST /api/features":
            return {"name": self.unique("seed_feature"), "type": "categorical", "dataType": "string"}
        if endpoint == "POST /api/models":
            return {
                "name": self.unique("seed-model"),
                "type": "classification",
                "algorithm": "lightgbm",
                "version": "v1",
                "parameters": {"n_estimators": 100, "max_depth": 10},
            }
        if endpoint == "POST /api/models/upload":
            return {"modelId": str(self.register(self.unique("seed-upload")).pk), "version": "v2"}
        if endpoint == "POST /api/tasks/training":
            return {
                "name": self.unique("seed training"),
                "modelId": str(self.model.pk),
                "datasetId": str(self.dataset.dataset_id),
                "algorithm": "LightGBM",
                "parameters": {"num_boost_round": 10},
                "cpu": 2,
                "memory": 4096,
            }
        return {}

    def pick(self, endpoint: str):
        """The chooser ``make_value`` asks first, for one request to ``endpoint``."""
        values = self.values(endpoint)

        def choose(name: str, t):
            if name in values:
                return values[name]
            if t == Ref("File"):
                return SimpleUploadedFile("model.txt", lgb_text(), content_type="text/plain")
            return None

        return choose


@pytest.fixture
def world(api, credit_version) -> World:
    return World(api, credit_version)


@pytest.fixture
def evaluated(world, admin_user):
    """A trained version of ``world.model`` and its completed evaluation on the dataset."""
    task = training_tasks.training_create(
        user=admin_user,
        request={
            "name": world.model.name,
            "dataset": world.dataset.dataset_id,
            "params": {"num_boost_round": 20},
        },
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    version = ModelVersion.objects.get(task=task)
    evaluation = evaluation_services.evaluation_create(
        user=admin_user,
        request={"model_version": version.pk, "dataset": world.dataset.dataset_id},
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=evaluation.task_id, worker="w:1") == "completed"
    return version, evaluation


# --------------------------------------------------------------------------- sending


def send(api, method: str, path: str, body, form: str, *, brackets: bool = False):
    """The request as the seed's front end sends it: a query string (arrays as ``tags[]=``
    when ``brackets``, as a browser's query builder writes them), JSON, or a multipart form
    with objects as JSON text when it carries a file."""
    headers = {"HTTP_ACCEPT": SEED_ACCEPT} if form == "seed" else {}
    call = getattr(api, method.lower())
    if body is None:
        return call(path, **headers)
    if method == "GET":
        query = {f"{k}[]" if brackets and isinstance(v, list) else k: v for k, v in body.items()}
        return call(path, query, **headers)
    if any(isinstance(v, SimpleUploadedFile) for v in body.values()):
        fields = {k: v if isinstance(v, SimpleUploadedFile | str) else json.dumps(v) for k, v in body.items()}
        return call(path, fields, format="multipart", **headers)
    return call(path, body, format="json", **headers)


def answered(response, answer_type, form: str, what: str) -> dict:
    body = response.json()
    assert 200 <= response.status_code < 300, (what, response.status_code, body)
    problems = checker(form).problems(body, answer_type)
    assert not problems, (what, problems)
    if isinstance(body, dict) and "success" in body:
        assert body["success"] is True, (what, body)
    return body


# --------------------------------------------------------------------------- the document is read


def test_the_document_gives_the_routes_types_and_examples():
    assert {"Feature", "Model", "Task", "EvaluationResult"} <= set(DOC.interfaces)
    assert len(DOC.routes) >= 14 and ("GET", "/api/evaluation/:id") in {(m, p) for m, p, _ in DOC.routes}
    keys = {e.key for e in DOC.endpoints}
    assert {
        "GET /api/features",
        "POST /api/features",
        "POST /api/models",
        "POST /api/models/upload",
        "POST /api/tasks/training",
        "GET /api/tasks/:id/status",
    } <= keys
    for endpoint in DOC.endpoints:
        assert endpoint.response is not None, endpoint.key
        assert endpoint.request is not None or endpoint.method == "GET", endpoint.key
    training = next(e for e in DOC.endpoints if e.key == "POST /api/tasks/training")
    assert training.request.get("resourceConfig").type.get("gpu").optional
    assert training.request.get("priority").type == Union(
        tuple(Lit(p) for p in ("low", "medium", "high", "urgent"))
    )
    assert DOC.interfaces["EvaluationResult"].get("rocCurve").type == Arr(
        parse_type("{fpr: number; tpr: number}")
    )
    # Every route has an answer to check: its own block in 4.2-4.4, or one named above.
    for method, path, _ in DOC.routes:
        assert f"{method} {path}" in keys | set(ROUTE_ANSWERS), (method, path)


def _unions(t, owner: str):
    if isinstance(t, Obj):
        for name, member in t.items():
            yield from _unions(member.type, f"{owner}.{name}")
    elif isinstance(t, Union) and all(isinstance(o, Lit) for o in t.options):
        yield owner, [o.value for o in t.options]


def test_the_seed_enums_are_omm_values():
    """The seed's enums (Feature.type, Model.status, Task.priority...) are OMM's values as
    they are, except the documented gaps: no mapping is needed, and none is hidden."""
    seen = set()
    for name, interface in DOC.interfaces.items():
        for owner, values in _unions(interface, name):
            seen.add(owner)
            assert owner in OMM_CHOICES, owner
            missing = {v for v in values if v not in OMM_CHOICES[owner]} - {v for o, v in GAPS if o == owner}
            assert not missing, (owner, missing)
            assert set(OMM_CHOICES[owner]) - set(values) <= EXTENSIONS.get(owner, set()), owner
    assert {"Feature.type", "Model.status", "Task.priority"} <= seen


# --------------------------------------------------------------------------- every example


EXAMPLES = [
    (e, form, variant) for e in DOC.endpoints for form in ("seed", "omm") for variant in ("full", "required")
]


def _path(endpoint: seed_doc.Endpoint, world: World) -> str:
    ids = {"/api/tasks/": world.task.pk, "/api/features/": world.feature_id, "/api/models/": world.model.pk}
    prefix = next((p for p in ids if endpoint.path.startswith(p) and ":id" in endpoint.path), None)
    return endpoint.path.replace(":id", str(ids[prefix])) if prefix else endpoint.path


@pytest.mark.parametrize(
    ("endpoint", "form", "variant"), EXAMPLES, ids=[f"{e.key}-{f}-{v}" for e, f, v in EXAMPLES]
)
def test_each_example_is_accepted_and_answered_in_the_seed_shape(
    world, endpoint, form, variant, django_capture_on_commit_callbacks
):
    body = None
    if endpoint.request is not None:
        body = make_value(
            endpoint.request, name="", pick=world.pick(endpoint.key), required_only=variant == "required"
        )
        # The request itself is of the declared types (files apart), or the test proves nothing.
        declared = seed_doc.Checker(DOC.interfaces)
        plain = {k: v for k, v in body.items() if not isinstance(v, SimpleUploadedFile)}
        assert not declared.problems(plain, Obj(tuple(m for m in endpoint.request.items() if m[0] in plain)))
    with django_capture_on_commit_callbacks(execute=False):  # queued tasks stay queued: no worker here
        response = send(
            world.api, endpoint.method, _path(endpoint, world), body, form, brackets=form == "seed"
        )
    answer = answered(response, endpoint.response, form, endpoint.key)

    if endpoint.key == "GET /api/features":
        assert answer["total"] >= 1 and answer["data"][0]["name"] == "seed_age"
    if endpoint.key == "POST /api/models" and "file" in body:
        assert answer["data"]["version"] == "1" and answer["data"]["name"] == body["name"]
    if endpoint.key == "POST /api/models/upload":
        version = ModelVersion.objects.get(pk=int(answer["data"]["fileId"]))
        assert version.version == 2 and answer["data"]["size"] == version.size > 0
        assert answer["data"]["url"] == f"/api/model-versions/{version.pk}"
    if endpoint.key == "POST /api/tasks/training":
        task = Task.objects.get(pk=int(answer["data"]["id"]))
        assert task.parameters["model_name"] == world.model.name and task.name == body["name"]
        assert task.parameters["dataset"] == world.dataset.dataset_id and task.priority == body["priority"]
        assert task.parameters["requested_resources"] == body["resourceConfig"]
    if endpoint.key == "GET /api/tasks/:id/status":
        assert answer["logs"] and answer["status"] == "completed"
        if form == "seed":
            assert answer["id"] == str(world.task.pk) and all(
                isinstance(line, str) for line in answer["logs"]
            )


# --------------------------------------------------------------------------- every route


@pytest.mark.parametrize("form", ["seed", "omm"])
def test_every_route_of_the_table_answers_its_method(
    world, evaluated, form, django_capture_on_commit_callbacks
):
    version, evaluation = evaluated
    examples = {e.key: e for e in DOC.endpoints}
    ids = {
        "features": world.feature_id,
        "models": world.model.pk,
        "tasks": world.task.pk,
        "evaluation": evaluation.pk,
    }
    headers = {"HTTP_ACCEPT": SEED_ACCEPT} if form == "seed" else {}
    feature = world.api.get(f"/api/features/{world.feature_id}", **headers).json()
    training = make_value(
        examples["POST /api/tasks/training"].request, name="", pick=world.pick("POST /api/tasks/training")
    )
    bodies = {
        "PUT /api/features/:id": {**feature, "description": "edited", "tags": ["seed", "edited"]},
        "POST /api/tasks": {**training, "type": "training"},
        "POST /api/evaluation": {
            "modelId": str(version.model_id),
            "modelVersion": str(version.version),
            "datasetId": str(world.dataset.dataset_id),
        },
    }
    for method, route, what in DOC.routes:
        key = f"{method} {route}"
        path = route.replace(":id", str(ids[route.split("/")[2]]))
        example = examples.get(key)
        if example is not None and example.request is not None:
            body = make_value(example.request, name="", pick=world.pick(key))
        else:
            body = bodies.get(key)
        with django_capture_on_commit_callbacks(execute=False):
            response = send(world.api, method, path, body, form)
        assert response.status_code not in (404, 405), (key, what, response.status_code)
        answer_type = example.response if example is not None else parse_type(ROUTE_ANSWERS[key])
        answer = answered(response, answer_type, form, f"{key} ({what})")
        if key == "GET /api/evaluation/:id":
            assert answer["metrics"]["auc"] > 0.5 and answer["rocCurve"] and answer["featureImportance"]
            assert answer["confusionMatrix"] and answer["modelVersion"] in (
                version.version,
                str(version.version),
            )
        if key == "PUT /api/features/:id":
            assert answer["data"]["description"] == "edited" and answer["data"]["tags"] == ["edited", "seed"]
        if key == "GET /api/models/:id":
            assert answer["version"] == str(version.version)
            assert answer["metrics"]["auc"] == version.metrics["auc"]

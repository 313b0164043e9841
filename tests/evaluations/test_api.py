"""The evaluation API: the seed's POST/GET /api/evaluation, bad input (400, nothing stored),
permissions, the list and its filters, comparisons and exports."""

from __future__ import annotations

import csv
import io
import re

import pytest

from apps.datasets.demo_data import credit_frame
from apps.evaluations.models import Evaluation
from apps.models.models import ModelVersion
from apps.tasks.models import Task
from apps.users.models import Role
from tests.evaluations.conftest import run, train
from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db


def _post(client, **body):
    return client.post("/api/evaluation", body, format="json")


def _fake_version(name: str, type_: str, objective: str, features: list[str]) -> ModelVersion:
    """A registry row for request checks that refuse before anything is loaded."""
    return ModelVersionFactory(
        model__name=name,
        model__type=type_,
        model__algorithm="lightgbm",
        version=1,
        objective=objective,
        feature_schema={"features": features},
    )


@pytest.fixture
def evaluated(api, trained, holdout):
    """A completed evaluation of the trained version on the hold-out data, made through the API."""
    r = _post(api, modelVersion=trained.pk, dataset=holdout.dataset_id)
    assert r.status_code == 201, r.content
    return run(r.json()["data"]["id"])


def test_post_answers_the_pending_evaluation_and_get_the_seed_result(api, trained, holdout):
    r = _post(api, modelVersion=trained.pk, dataset=holdout.dataset_id, threshold=0.25, options={"bins": 8})
    assert r.status_code == 201, r.content
    body = r.json()
    data = body["data"]
    assert body["success"] is True and f"task #{data['taskId']}" in body["message"]
    assert data["status"] == "pending" and data["metrics"] == {} and data["threshold"] == 0.25
    assert (data["modelVersionId"], data["datasetVersionId"]) == (trained.pk, holdout.pk)
    assert Task.objects.get(pk=data["taskId"]).type == "evaluation"
    pending = api.get(f"/api/evaluation/{data['id']}").json()
    assert pending["status"] == "pending" and pending["rocCurve"] is None

    ev = run(data["id"])
    result = api.get(f"/api/evaluation/{ev.pk}").json()
    # The seed's EvaluationResult ...
    assert result["id"] == ev.pk and result["modelId"] == trained.model_id
    assert result["modelVersion"] == trained.version and result["datasetId"] == holdout.dataset_id
    metrics = result["metrics"]
    assert {"accuracy", "precision", "recall", "f1Score", "auc", "ks", "gini", "psi"} <= set(metrics)
    assert metrics["auc"] == ev.metrics["auc"] and metrics["f1Score"] == ev.metrics["f1"]
    c = ev.report["confusion_matrix"]
    assert result["confusionMatrix"] == [[c["tn"], c["fp"]], [c["fn"], c["tp"]]]
    assert sum(map(sum, result["confusionMatrix"])) == ev.rows == 2000
    roc = result["rocCurve"]
    assert roc[0] == {"fpr": 0.0, "tpr": 0.0, "population": 0.0, "threshold": None}
    assert roc[-1]["fpr"] == roc[-1]["tpr"] == 1.0 and len(roc) <= 200
    assert {"feature", "importance"} <= set(result["featureImportance"][0])
    assert result["createdAt"].startswith(str(ev.created_at.year))
    # ... and what a risk report adds.
    assert len(result["deciles"]) == 8 and result["deciles"][0]["bucket"] == 1
    assert result["deciles"][-1]["cumBadShare"] == pytest.approx(1)
    assert result["psi"]["psi"] == metrics["psi"] and len(result["psi"]["rows"]) == 8
    assert result["prCurve"][0]["precision"] == 1.0
    assert result["metricsVersion"] == ev.metrics_version and "ks" in result["definitions"]
    assert "f1Score" in result["definitions"] and result["status"] == "completed"


def _no_rows() -> tuple[int, int]:
    return Evaluation.objects.count(), Task.objects.count()


@pytest.mark.parametrize(
    ("body", "field", "needle"),
    [
        ({"modelVersion": 999999}, "modelVersion", "No model version with id 999999"),
        ({"dataset": 999999}, "dataset", "No dataset with id 999999"),
        ({"threshold": 1.5}, "threshold", "between 0 and 1"),
        ({"threshold": -0.1}, "threshold", "between 0 and 1"),
        ({"threshold": "high"}, "threshold", "valid number"),
        ({"datasetVersion": 9}, "datasetVersion", "has no version 9"),
        ({"options": {"bins": 1}}, "options", "bins must be an integer between 2 and 100"),
        ({"options": {"fast": True}}, "options", "Unknown field"),
        ({"surprise": 1}, "surprise", "Unknown field"),
    ],
)
def test_bad_requests_answer_400_and_store_nothing(api, trained, holdout, body, field, needle):
    before = _no_rows()
    r = _post(api, **{"modelVersion": trained.pk, "dataset": holdout.dataset_id, **body})
    assert r.status_code == 400, r.content
    error = r.json()
    assert error["code"] == "validation_error" and needle in " ".join(error["errors"][field])
    assert _no_rows() == before


def test_data_that_does_not_fit_the_version_is_refused(api, trained, upload):
    frame = credit_frame(400, seed=3)
    no_label = upload(
        frame.drop(columns=["is_bad"]).to_csv(index=False), "nolabel.csv", name="nolabel", kind="tabular"
    )
    no_feature = upload(
        frame.drop(columns=["credit_score", "user_age"]).to_csv(index=False),
        "nofeat.csv",
        name="nofeat",
        kind="tabular",
    )
    not_validated = upload(
        frame.to_csv(index=False), "later.csv", name="later", kind="tabular", validate=False
    )
    before = _no_rows()

    r = _post(api, modelVersion=trained.pk, dataset=no_label.json()["data"]["dataset"])
    assert r.status_code == 400 and "has no label column 'is_bad'" in r.json()["errors"]["label"][0]
    r = _post(api, modelVersion=trained.pk, dataset=no_feature.json()["data"]["dataset"])
    assert r.status_code == 400
    assert re.search(r"lacks 2 of the version's features: .*credit_score", r.json()["errors"]["dataset"][0])
    r = _post(api, modelVersion=trained.pk, dataset=not_validated.json()["data"]["dataset"])
    assert r.status_code == 400 and "no validated version" in r.json()["errors"]["dataset"][0]
    r = _post(api, modelVersion=trained.pk, dataset=not_validated.json()["data"]["dataset"], datasetVersion=1)
    assert r.status_code == 400 and "only a validated version" in r.json()["errors"]["datasetVersion"][0]
    assert _no_rows() == before


def test_model_kinds_that_cannot_take_the_request_are_refused(api, holdout):
    regression = _fake_version("loan", "regression", "regression", ["user_age"])
    retrieval = _fake_version("banks", "retrieval", "", [])
    before = _no_rows()
    r = _post(api, modelVersion=regression.pk, dataset=holdout.dataset_id, threshold=0.5)
    assert r.status_code == 400 and "regression model" in r.json()["errors"]["threshold"][0]
    r = _post(api, modelVersion=retrieval.pk, dataset=holdout.dataset_id)
    assert r.status_code == 400 and "retrieval model" in r.json()["errors"]["modelVersion"][0]
    assert _no_rows() == before


def test_permissions(client_for, make_user, trained, holdout, evaluated):
    viewer, analyst, integrator = (
        client_for(make_user(role)) for role in (Role.VIEWER, Role.ANALYST, Role.INTEGRATOR)
    )
    body = {"modelVersion": trained.pk, "dataset": holdout.dataset_id}
    assert _post(viewer, **body).status_code == 403
    assert _post(integrator, **body).status_code == 403
    assert viewer.get("/api/evaluation").status_code == 200
    assert viewer.get(f"/api/evaluation/{evaluated.pk}").status_code == 200
    assert viewer.get(f"/api/evaluation/{evaluated.pk}/export.html").status_code == 200
    created = _post(analyst, **body)
    assert created.status_code == 201 and created.json()["data"]["createdBy"] != evaluated.created_by.username


def test_list_filters(api, admin_user, trained, holdout, credit_version, evaluated):
    other = _post(api, modelVersion=trained.pk, dataset=credit_version.dataset_id).json()["data"]

    def ids(query: str) -> list[int]:
        r = api.get(f"/api/evaluation?{query}")
        assert r.status_code == 200, r.content
        return [row["id"] for row in r.json()["data"]]

    assert ids("") == [other["id"], evaluated.pk]
    assert ids(f"dataset={holdout.dataset_id}") == [evaluated.pk]
    assert ids(f"model={trained.model_id}&version={trained.pk}") == [other["id"], evaluated.pk]
    assert ids("status=completed") == [evaluated.pk]
    assert ids("status=pending") == [other["id"]]
    assert ids("version=999999") == []
    row = api.get(f"/api/evaluation?dataset={holdout.dataset_id}").json()["data"][0]
    assert row["metrics"]["auc"] == evaluated.metrics["auc"] and row["status"] == "completed"
    assert api.get("/api/evaluation?colour=red").status_code == 400


def test_compare_two_versions_on_the_same_data(api, admin_user, trained, holdout, credit_version, evaluated):
    challenger = train(admin_user, credit_version.dataset_id, rounds=60, seed=7)
    second = run(_post(api, modelVersion=challenger.pk, dataset=holdout.dataset_id).json()["data"]["id"])
    r = api.get(f"/api/evaluation/compare?ids={evaluated.pk},{second.pk}")
    assert r.status_code == 200, r.content
    c = r.json()
    assert c["datasetVersion"] == holdout.version and c["objective"] == "binary"
    assert [e["modelVersion"] for e in c["evaluations"]] == [trained.version, challenger.version]
    auc = next(row for row in c["metrics"] if row["name"] == "auc")
    assert auc["values"] == [evaluated.metrics["auc"], second.metrics["auc"]]
    assert (
        auc["best"] == (0 if evaluated.metrics["auc"] > second.metrics["auc"] else 1)
        and auc["largerIsBetter"]
    )
    assert all(len(e["rocCurve"]) > 10 for e in c["evaluations"])

    on_train = run(
        _post(api, modelVersion=trained.pk, dataset=credit_version.dataset_id).json()["data"]["id"]
    )
    pending = _post(api, modelVersion=trained.pk, dataset=holdout.dataset_id).json()["data"]["id"]
    for query, needle in [
        (f"{evaluated.pk},{on_train.pk}", "same dataset version"),
        (f"{evaluated.pk},{pending}", f"#{pending} is pending"),
        (f"{evaluated.pk}", "between 2 and 10"),
        (f"{evaluated.pk},999999", "No evaluation with id 999999"),
        ("a,b", "separated by commas"),
    ]:
        r = api.get(f"/api/evaluation/compare?ids={query}")
        assert r.status_code == 400 and needle in r.json()["errors"]["ids"][0], (query, r.content)


def test_html_export_is_standalone(api, evaluated):
    r = api.get(f"/api/evaluation/{evaluated.pk}/export.html")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/html")
    assert (
        r["Content-Disposition"]
        == f'attachment; filename="evaluation-{evaluated.pk}-version-{evaluated.model_version_id}.html"'
    )
    html = r.content.decode()
    # Nothing to fetch: no scripts, stylesheets, images or links to follow.
    assert not re.search(r"<(script|link|img|iframe)\b", html) and not re.search(r"\b(src|href)=", html)
    assert html.count("<svg") >= 4 and "ROC curve" in html and "Bad rate by decile" in html
    assert f"{evaluated.metrics['ks']:.4f}" in html and f"{evaluated.metrics['gini']:.4f}" in html
    assert "Lift and gain by bucket" in html and "Score stability: PSI" in html


def test_csv_exports_are_tables_and_formula_safe(api, admin_user, upload, evaluated):
    r = api.get(f"/api/evaluation/{evaluated.pk}/export.csv?table=deciles")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert [int(row["count"]) for row in rows] == [d["count"] for d in evaluated.report["deciles"]["rows"]]
    metrics_rows = list(
        csv.reader(
            io.StringIO(api.get(f"/api/evaluation/{evaluated.pk}/export.csv?table=metrics").content.decode())
        )
    )
    assert metrics_rows[0] == ["metric", "value", "definition"]
    assert ["auc", repr(evaluated.metrics["auc"])] == metrics_rows[1][:2]
    assert api.get(f"/api/evaluation/{evaluated.pk}/export.csv?table=roc").status_code == 200
    bad = api.get(f"/api/evaluation/{evaluated.pk}/export.csv?table=secrets")
    assert bad.status_code == 400 and "Unknown table" in bad.json()["errors"]["table"][0]

    # A column whose name a spreadsheet would run as a formula is written as text.
    frame = credit_frame(1500, seed=4).rename(columns={"credit_score": "=1+2"})
    response = upload(
        frame.to_csv(index=False), "formula.csv", name="formula", kind="tabular", labelColumn="is_bad"
    )
    version = train(
        admin_user, response.json()["data"]["dataset"], name="formula", features=["=1+2", "user_age"]
    )
    ev = run(
        _post(api, modelVersion=version.pk, dataset=response.json()["data"]["dataset"]).json()["data"]["id"]
    )
    text = api.get(f"/api/evaluation/{ev.pk}/export.csv?table=importance").content.decode()
    cells = [row[0] for row in csv.reader(io.StringIO(text))]
    assert "'=1+2" in cells and "=1+2" not in cells


def test_exports_wait_for_completion(api, trained, holdout):
    pending = _post(api, modelVersion=trained.pk, dataset=holdout.dataset_id).json()["data"]["id"]
    r = api.get(f"/api/evaluation/{pending}/export.html")
    assert r.status_code == 409 and "is pending" in r.json()["message"]
    assert r.json()["code"] == "conflict"


def test_the_version_trace_leads_forward_to_its_evaluations(api, trained, evaluated):
    forward = api.get(f"/api/model-versions/{trained.pk}/trace").json()["forward"]["evaluations"]
    assert [e["id"] for e in forward] == [evaluated.pk]
    assert forward[0]["status"] == "completed" and forward[0]["dataset"] == "holdout v1"
    assert forward[0]["metrics"]["auc"] == evaluated.metrics["auc"] and "psi" in forward[0]["metrics"]

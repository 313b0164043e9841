"""Scorecards as a risk team uses them: trained on credit data, the card read on its page,
two bins merged and the card refitted as a new version, promoted, answering with points and
four reasons; the SQL export scores as the API does; ONNX for the others."""

from __future__ import annotations

import io
import sqlite3
import zipfile

import numpy as np
import pytest
from django.db import connection

from apps.models import training_tasks
from apps.models.models import ModelVersion, ReasonText
from apps.tasks import runner as task_runner
from apps.tasks.models import Task, TaskStatus
from apps.users.models import Role

pytestmark = pytest.mark.django_db


def _run(task: Task) -> ModelVersion:
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed", Task.objects.get(
        pk=task.pk
    ).error
    return ModelVersion.objects.get(task=task)


@pytest.fixture
def scorecard(admin_user, credit_version) -> ModelVersion:
    task = training_tasks.training_create(
        user=admin_user,
        request={
            "name": "credit-card",
            "dataset": credit_version.dataset_id,
            "algorithm": "scorecard",
            "params": {"max_n_bins": 4, "pdo": 20, "base_score": 600, "base_odds": 50},
        },
        enqueue=False,
    )
    return _run(task)


def _records(version: ModelVersion, frame, rows: range) -> list[dict]:
    features = version.feature_schema["features"]
    out = []
    for i in rows:
        record = {}
        for f in features:
            v = frame[f].iloc[i]
            record[f] = None if v != v else (v.item() if hasattr(v, "item") else v)
        out.append(record)
    return out


@pytest.fixture
def frame(credit_csv):
    import pandas as pd

    return pd.read_csv(io.StringIO(credit_csv))


def _interval_feature(card: dict) -> dict:
    """The first card feature with two adjacent interval bins."""
    for feature in card["features"]:
        if sum(b["kind"] == "interval" for b in feature["bins"]) >= 3:
            return feature
    raise AssertionError("no numeric feature with three intervals")


def test_a_scorecard_is_trained_with_its_card(scorecard):
    assert scorecard.algorithm == "scorecard" and scorecard.artifact_format == "omm-scorecard"
    card = scorecard.card
    assert card["format"] == "omm-scorecard" and card["features"]
    assert scorecard.metrics["auc"] > 0.6
    for feature in card["features"]:
        kinds = [b["kind"] for b in feature["bins"]]
        assert kinds[-1] == "missing" and sum(b["count"] for b in feature["bins"]) == card["totals"]["count"]
    assert scorecard.feature_schema["eventValue"] == 1  # is_bad = 1: the event


def test_the_card_page_reads_in_chinese(client, make_user, scorecard, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(make_user(Role.ANALYST))
    page = client.get(f"/models/versions/{scorecard.pk}/scorecard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "评分卡" in html and "分箱" in html and "分数" in html
    for feature in scorecard.card["features"]:
        assert f'data-feature="{feature["name"]}"' in html
    assert 'id="refit-form"' in html


def test_merging_two_bins_refits_a_new_version_with_the_edit_in_its_lineage(
    api, scorecard, django_capture_on_commit_callbacks
):
    feature = _interval_feature(scorecard.card)
    before = [b for b in feature["bins"] if b["kind"] == "interval"]
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(
            f"/api/model-versions/{scorecard.pk}/refit",
            {"edits": [{"feature": feature["name"], "merge": [0, 1]}]},
            format="json",
        )
    assert response.status_code == 201, response.content
    refit = _run(Task.objects.get(pk=response.json()["data"]["id"]))
    assert refit.derived_from_id == scorecard.pk and refit.version == scorecard.version + 1
    assert refit.training_info["edits"] == [{"feature": feature["name"], "merge": [0, 1]}]
    assert "Refitted from" in refit.changelog
    after = next(f for f in refit.card["features"] if f["name"] == feature["name"])
    intervals = [b for b in after["bins"] if b["kind"] == "interval"]
    assert len(intervals) == len(before) - 1
    assert intervals[0]["count"] == before[0]["count"] + before[1]["count"]
    # The card's own page shows where it came from.
    assert api.get(f"/api/model-versions/{refit.pk}/card").json()["data"]["edits"] == [
        {"feature": feature["name"], "merge": [0, 1]}
    ]


def test_bad_edits_are_refused_naming_the_bins(api, scorecard):
    feature = _interval_feature(scorecard.card)
    url = f"/api/model-versions/{scorecard.pk}/refit"
    bad = [
        {"feature": feature["name"], "merge": [0, 2]},  # not adjacent
        {"feature": "no_such_feature", "merge": [0, 1]},
        {"feature": feature["name"], "split": {"bin": 0, "at": 1e12}},  # outside the bin
    ]
    for edit in bad:
        response = api.post(url, {"edits": [edit]}, format="json")
        assert response.status_code == 400, (edit, response.content)
        assert response.json()["errors"]["edits"], edit
    assert api.post(url, {"edits": []}, format="json").status_code == 400
    assert not Task.objects.filter(parameters__base_version=scorecard.pk).exists()


def test_a_promoted_scorecard_answers_with_points_and_four_reasons(api, scorecard, frame):
    ReasonText.objects.create(
        feature=scorecard.card["features"][0]["name"], code="R07", text_zh="测试原因", text_en="Test reason"
    )
    assert (
        api.post(f"/api/model-versions/{scorecard.pk}/promote", {"reason": "go"}, format="json").status_code
        == 200
    )
    records = _records(scorecard, frame, range(40))
    answer = api.post(
        f"/api/models/{scorecard.model_id}/predict", {"records": records, "topReasons": 4}, format="json"
    ).json()["data"]
    assert len(answer["points"]) == 40 and len(answer["reasons"]) == 40
    assert all(len(r) <= 4 for r in answer["reasons"]) and any(len(r) == 4 for r in answer["reasons"])
    for row in answer["reasons"]:
        lost = [r["lost"] for r in row]
        assert lost == sorted(lost, reverse=True) and all(v > 0 for v in lost)
    coded = [r for row in answer["reasons"] for r in row if r["code"] == "R07"]
    assert coded and coded[0]["text"] == "Test reason"
    # Higher points, lower probability of the event.
    order = np.argsort(answer["points"])
    assert np.all(np.diff(np.asarray(answer["scores"])[order]) <= 1e-12)
    no_reasons = api.post(
        f"/api/models/{scorecard.model_id}/predict", {"records": records[:2], "topReasons": 0}, format="json"
    ).json()["data"]
    assert "reasons" not in no_reasons and no_reasons["points"] == answer["points"][:2]
    one = api.post(f"/api/models/{scorecard.model_id}/predict", {"record": records[0]}, format="json").json()[
        "data"
    ]
    assert one["reasons"] == answer["reasons"][:1]  # one record: its reasons without asking
    listed = api.post(
        f"/api/models/{scorecard.model_id}/predict", {"records": records[:3]}, format="json"
    ).json()
    assert "reasons" not in listed["data"]  # a list: only when asked
    assert (
        api.post(
            f"/api/models/{scorecard.model_id}/predict",
            {"records": records[:1], "topReasons": 99},
            format="json",
        ).status_code
        == 400
    )


def _sqlite_points(sql: str, records: list[dict]) -> list[float]:
    db = sqlite3.connect(":memory:")
    names = list(records[0])
    db.execute("CREATE TABLE applicants (omm_row INTEGER, " + ", ".join(f'"{n}"' for n in names) + ")")
    db.executemany(
        f"INSERT INTO applicants VALUES ({', '.join('?' * (len(names) + 1))})",  # noqa: S608 - test table
        [(i, *r.values()) for i, r in enumerate(records)],
    )
    return [row[0] for row in db.execute(f"SELECT points FROM ({sql}) s ORDER BY omm_row")]  # noqa: S608


def test_the_sql_export_scores_as_the_api_does(api, scorecard, frame):
    api.post(f"/api/model-versions/{scorecard.pk}/promote", {"reason": "go"}, format="json")
    records = _records(scorecard, frame, range(200))
    points = api.post(
        f"/api/models/{scorecard.model_id}/predict", {"records": records}, format="json"
    ).json()["data"]["points"]
    for dialect in ("postgresql", "mysql", "hive", "sqlite"):
        response = api.get(f"/api/model-versions/{scorecard.pk}/export?format=sql&dialect={dialect}")
        assert response.status_code == 200, response.content
        assert float(response["X-OMM-Max-Abs-Diff"]) <= 1e-6
        assert response["Content-Disposition"].endswith(f'-{dialect}.sql"')
    sql = api.get(f"/api/model-versions/{scorecard.pk}/export?format=sql&dialect=sqlite").content.decode()
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    assert np.max(np.abs(np.array(_sqlite_points(body, records)) - np.array(points))) <= 1e-6
    if connection.vendor == "postgresql":
        pg = api.get(
            f"/api/model-versions/{scorecard.pk}/export?format=sql&dialect=postgresql"
        ).content.decode()
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE applicants (omm_row integer, "
                + ", ".join(
                    f'"{n}" ' + ("text" if isinstance(records[0][n], str) else "double precision")
                    for n in records[0]
                )
                + ")"
            )
            cursor.executemany(
                f"INSERT INTO applicants VALUES ({', '.join(['%s'] * (len(records[0]) + 1))})",  # noqa: S608
                [(i, *r.values()) for i, r in enumerate(records)],
            )
            body = "\n".join(line for line in pg.splitlines() if not line.startswith("--"))
            cursor.execute(f"SELECT points FROM ({body}) s ORDER BY omm_row")  # noqa: S608 - the export
            got = [float(row[0]) for row in cursor.fetchall()]
        assert np.max(np.abs(np.array(got) - np.array(points))) <= 1e-6


def test_exports_with_no_converter_are_a_clear_400(api, scorecard):
    response = api.get(f"/api/model-versions/{scorecard.pk}/export?format=onnx")
    assert response.status_code == 400
    assert "no ONNX converter" in response.json()["errors"]["format"][0]
    assert api.get(f"/api/model-versions/{scorecard.pk}/export?format=pmml").status_code == 400
    assert api.get(f"/api/model-versions/{scorecard.pk}/export?format=sql&dialect=oracle").status_code == 400


def test_the_onnx_export_of_a_lightgbm_scores_as_the_api_does(api, admin_user, credit_version, frame):
    import onnxruntime as ort

    task = training_tasks.training_create(
        user=admin_user,
        request={
            "name": "credit-lgbm",
            "dataset": credit_version.dataset_id,
            "params": {"num_boost_round": 30},
        },
        enqueue=False,
    )
    version = _run(task)
    response = api.get(f"/api/model-versions/{version.pk}/export?format=onnx")
    assert response.status_code == 200, response.content
    assert float(response["X-OMM-Max-Abs-Diff"]) <= 1e-6
    files = zipfile.ZipFile(io.BytesIO(response.content))
    assert set(files.namelist()) == {"model.onnx", "schema.json", "check.json"}
    api.post(f"/api/model-versions/{version.pk}/promote", {"reason": "go"}, format="json")
    records = _records(version, frame, range(50))
    answer = api.post(
        f"/api/models/{version.model_id}/predict", {"records": records, "topReasons": 4}, format="json"
    ).json()["data"]
    assert all(len(r) <= 4 for r in answer["reasons"]) and "contribution" in answer["reasons"][0][0]
    from apps.models import serving

    X = serving._matrix(serving.loaded_version(version.pk), records)
    session = ort.InferenceSession(files.read("model.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: X.astype(np.float64)})[0][:, 1]
    assert np.max(np.abs(got - np.array(answer["scores"]))) <= 1e-6


def test_a_refit_that_breaks_the_asked_trend_fails_naming_the_bins(api, admin_user, upload):
    rng = np.random.default_rng(5)
    x = rng.uniform(-3, 5, size=3000)
    # High risk at both ends: descending bins only exist if the analyst keeps the right end in.
    bad = rng.random(3000) < np.where((x < -1) | (x > 3), 0.6, 0.05)
    noise = rng.normal(size=3000)
    csv = "x,noise,bad\n" + "".join(
        f"{a:.4f},{b:.4f},{int(c)}\n" for a, b, c in zip(x, noise, bad, strict=True)
    )
    response = upload(csv, "u.csv", name="u-shape", kind="tabular", labelColumn="bad")
    dataset = response.json()["data"]["dataset"]
    task = training_tasks.training_create(
        user=admin_user,
        request={
            "name": "u-card",
            "dataset": dataset,
            "algorithm": "scorecard",
            "params": {"max_n_bins": 4, "trends": {"x": "descending"}, "min_iv": 0.0},
        },
        enqueue=False,
    )
    version = _run(task)
    response = api.post(
        f"/api/model-versions/{version.pk}/refit",
        {"edits": [{"feature": "x", "breaks": [-1, 3]}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    task = Task.objects.get(pk=response.json()["data"]["id"])
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "failed"
    task.refresh_from_db()
    assert task.status == TaskStatus.FAILED
    assert "[-1.0, 3.0)" in task.error and "[3.0, inf)" in task.error and "descending" in task.error
    assert not ModelVersion.objects.filter(derived_from=version).exists()


def test_a_reference_population_is_what_linear_reasons_compare_with(
    api, admin_user, credit_version, upload, frame, django_capture_on_commit_callbacks
):
    # The approved applicants: the safer half of the same data, by credit score.
    approved = frame[frame["credit_score"] >= frame["credit_score"].median()]
    upload(approved.to_csv(index=False), "approved.csv", name="approved", kind="tabular")
    from apps.datasets.models import Dataset

    reference = Dataset.objects.get(name="approved")
    request = {"name": "credit-lr", "dataset": credit_version.dataset_id, "algorithm": "logistic_regression"}
    plain = _run(training_tasks.training_create(user=admin_user, request=request, enqueue=False))
    referred = _run(
        training_tasks.training_create(
            user=admin_user,
            request={**request, "reference_dataset": reference.pk},
            enqueue=False,
        )
    )
    assert referred.reasons_reference["dataset"] == "approved"
    assert referred.reasons_reference["rows"] == len(approved)
    assert plain.reasons_reference is None
    records = _records(plain, frame, range(30))
    answers = {}
    for version in (plain, referred):
        api.post(f"/api/model-versions/{version.pk}/promote", {"reason": "go"}, format="json")
        answers[version.pk] = api.post(
            f"/api/models/{version.model_id}/predict", {"records": records, "topReasons": 4}, format="json"
        ).json()["data"]

    # Against the approved (low-score-safe) population, credit score is a reason more often.
    def count(answer):
        return sum(r["feature"] == "credit_score" for row in answer["reasons"] for r in row)

    assert count(answers[referred.pk]) > count(answers[plain.pk])
    # Not for models whose reasons have their own reference.
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(
            "/api/tasks/training",
            {"name": "m", "dataset": credit_version.dataset_id, "referenceDataset": reference.pk},
            format="json",
        )
    assert response.status_code == 400 and "TreeSHAP" in response.json()["errors"]["referenceDataset"][0]


def test_a_scorecard_refuses_labels_and_features_it_cannot_use(
    api, admin_user, upload, django_capture_on_commit_callbacks
):
    rng = np.random.default_rng(9)
    n = 600
    x = rng.normal(size=n)
    grade = rng.choice(["A", "B", "C"], size=n)
    bad = rng.random(n) < 1 / (1 + np.exp(-2 * x))
    rows = "".join(f"{a:.4f},7,{g},{int(b)}\n" for a, g, b in zip(x, grade, bad, strict=True))
    upload("x,constant,grade,bad\n" + rows, "s.csv", name="s", kind="tabular", labelColumn="bad")
    from apps.datasets.models import Dataset

    dataset = Dataset.objects.get(name="s").pk
    with django_capture_on_commit_callbacks(execute=False):
        three = api.post(
            "/api/tasks/training",
            {"name": "m", "dataset": dataset, "algorithm": "scorecard", "label": "grade", "features": ["x"]},
            format="json",
        )
    assert three.status_code == 400
    assert "scorecard needs a binary label" in str(three.json()["errors"])
    # A single-valued feature is a candidate left out, said why; alone, nothing is left to fit.
    only = _run(
        training_tasks.training_create(
            user=admin_user,
            request={
                "name": "s-card",
                "dataset": dataset,
                "algorithm": "scorecard",
                "features": ["x", "constant"],
            },
            enqueue=False,
        )
    )
    constant = next(c for c in only.card["candidates"] if c["name"] == "constant")
    assert not constant["selected"] and constant["reason"] == "single value"
    task = training_tasks.training_create(
        user=admin_user,
        request={"name": "s-card2", "dataset": dataset, "algorithm": "scorecard", "features": ["constant"]},
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "failed"
    task.refresh_from_db()
    assert "constant" in task.error and "single value" in task.error

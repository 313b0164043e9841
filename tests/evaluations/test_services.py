"""Evaluations as tasks: the request checks (every refusal stores nothing), the work on a
trained version (figures equal ``metrics`` on the same scores), PSI baseline and CSI,
regression and linear models, permutation importance, re-runs and schedules."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from apps.datasets.models import DatasetVersion
from apps.datasets.services import stored_file_path
from apps.evaluations import metrics, services, work
from apps.evaluations.models import Evaluation
from apps.models import training
from apps.models.models import ModelVersion
from apps.models.services import version_load
from apps.tasks import errors as task_errors
from apps.tasks import schedules as task_schedules
from apps.tasks import services as tasks
from apps.tasks.models import Task, TaskSchedule
from tests.evaluations.conftest import run, train
from tests.factories import ModelFactory

pytestmark = pytest.mark.django_db


def _scores_and_labels(version: ModelVersion, data: DatasetVersion, label: str = "is_bad"):
    """The version's scores on ``data`` computed here, independently of the service."""
    artifact, model = version_load(version=version)
    with stored_file_path(data.parquet) as path:
        table = pq.read_table(path)
    scores = training.predict(artifact.format, model, table, artifact.meta)
    return np.asarray(table.column(label).to_numpy()), scores, table


def test_evaluating_a_trained_version_gives_the_figures_of_the_metrics_module(admin_user, trained, holdout):
    ev = services.evaluation_create(
        user=admin_user,
        request={"model_version": trained.pk, "dataset": holdout.dataset_id, "threshold": 0.3},
        enqueue=False,
    )
    assert ev.status == "pending" and ev.task.type == "evaluation" and ev.threshold == 0.3
    ev = run(ev)
    assert ev.status == "completed" and ev.completed_at is not None

    y, scores, _ = _scores_and_labels(trained, holdout)
    _, base_scores, _ = _scores_and_labels(trained, trained.dataset_version)
    expected = metrics.classification_report(y, scores, threshold=0.3, baseline_score=base_scores)
    for key in ("auc", "ks", "gini", "accuracy", "precision", "recall", "f1", "ks_threshold", "log_loss"):
        assert ev.metrics[key] == pytest.approx(expected["metrics"][key], abs=1e-12), key
    assert ev.metrics["psi"] == pytest.approx(expected["psi"]["psi"], abs=1e-12)
    assert ev.report["confusion_matrix"] == expected["confusion_matrix"]
    assert ev.report["deciles"]["rows"] == expected["deciles"]["rows"]
    assert ev.rows == len(y) == 2000 and ev.metrics_version == metrics.METRICS_VERSION
    assert 0.6 < ev.metrics["auc"] < 1 and ev.metrics["gini"] == pytest.approx(2 * ev.metrics["auc"] - 1)

    # The PSI baseline (training scores on frozen bins) is kept with the version for next time.
    trained.refresh_from_db()
    cached = trained.test_results[work.BASELINE_KEY]["10"]
    assert cached["counts"] == metrics.score_baseline(base_scores, 10)["counts"]
    assert cached["dataset_version_id"] == trained.dataset_version_id

    # Importance from the model (LightGBM gain, by the dataset's column names) and CSI per feature.
    features = trained.feature_schema["features"]
    assert ev.importance["method"] == "gain"
    assert {r["feature"] for r in ev.importance["rows"]} == set(features)
    assert sum(r["importance_share"] for r in ev.importance["rows"]) == pytest.approx(1)
    assert ev.importance["permutation"] is None
    assert {r["feature"] for r in ev.report["csi"]} == set(features)
    assert all(r["psi"] < 0.1 for r in ev.report["csi"])  # same generator, another seed: stable

    task = Task.objects.get(pk=ev.task_id)
    assert task.result["evaluationId"] == ev.pk and task.result["metrics"]["auc"] == ev.metrics["auc"]


def test_a_second_evaluation_reuses_the_cached_baseline(admin_user, trained, holdout, monkeypatch):
    run(
        services.evaluation_create(
            user=admin_user,
            request={"model_version": trained.pk, "dataset": holdout.dataset_id},
            enqueue=False,
        )
    )
    calls = []
    original = work._score
    monkeypatch.setattr(work, "_score", lambda *a: calls.append(1) or original(*a))
    ev = run(
        services.evaluation_create(
            user=admin_user,
            request={"model_version": trained.pk, "dataset": holdout.dataset_id},
            enqueue=False,
        )
    )
    assert len(calls) == 1  # the evaluated data only
    assert ev.metrics["psi"] is not None


def test_figures_the_metrics_refuse_fail_the_run_with_the_reason(admin_user, trained, holdout, monkeypatch):
    request = {"model_version": trained.pk, "dataset": holdout.dataset_id}
    run(services.evaluation_create(user=admin_user, request=request, enqueue=False))  # caches the baseline
    monkeypatch.setattr(work, "_score", lambda fmt, model, table, meta: np.full(table.num_rows, np.nan))
    ev = run(services.evaluation_create(user=admin_user, request=request, enqueue=False), expect="failed")
    assert ev.task.error == "The report cannot be computed: no finite score to evaluate."
    assert ev.metrics == {} and ev.report is None


def test_importance_module_does_not_import_django():
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, apps.evaluations.importance\n"
        "bad = [m for m in ('django', 'rest_framework', 'celery') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], check=True)


def test_evaluating_on_the_training_data_notes_it(admin_user, trained, credit_version):
    ev = run(
        services.evaluation_create(
            user=admin_user,
            request={"model_version": trained.pk, "dataset": credit_version.dataset_id},
            enqueue=False,
        )
    )
    assert ev.metrics["psi"] == pytest.approx(0, abs=1e-12)
    assert ev.report["csi"] is None
    assert "training_data" in {n["code"] for n in ev.report["notes"]}


def test_permutation_importance_on_request(admin_user, trained, holdout):
    ev = run(
        services.evaluation_create(
            user=admin_user,
            request={
                "model_version": trained.pk,
                "dataset": holdout.dataset_id,
                "options": {"permutation_importance": True, "bins": 5},
            },
            enqueue=False,
        )
    )
    permutation = ev.importance["permutation"]
    assert permutation["metric"] == "auc" and len(permutation["rows"]) == len(
        trained.feature_schema["features"]
    )
    assert permutation["rows"][0]["importance"] > 0  # shuffling the strongest feature hurts AUC
    assert len(ev.report["deciles"]["rows"]) == 5 and len(ev.report["psi"]["rows"]) == 5


def test_regression_version(admin_user, credit_version):
    features = ["user_age", "city_tier", "credit_score", "loan_term_months", "education"]
    version = train(
        admin_user,
        credit_version.dataset_id,
        name="loan",
        label="loan_amount",
        features=features,
        objective="regression",
    )
    ev = run(
        services.evaluation_create(
            user=admin_user,
            request={"model_version": version.pk, "dataset": credit_version.dataset_id},
            enqueue=False,
        )
    )
    y, pred, _ = _scores_and_labels(version, credit_version, "loan_amount")
    expected = metrics.regression_report(y, pred)["metrics"]
    assert ev.objective == "regression" and ev.threshold is None
    for key in ("mse", "rmse", "mae", "r2"):
        assert ev.metrics[key] == pytest.approx(expected[key], rel=1e-12)
    assert ev.metrics["psi"] == pytest.approx(0, abs=1e-12)
    assert ev.report.get("deciles") is None


def test_logistic_regression_importance_maps_one_hot_levels_back(admin_user, credit_version, holdout):
    features = ["user_age", "credit_score", "overdue_count_12m", "education", "channel"]
    version = train(
        admin_user,
        credit_version.dataset_id,
        name="scorecard",
        algorithm="logistic_regression",
        features=features,
    )
    ev = run(
        services.evaluation_create(
            user=admin_user,
            request={"model_version": version.pk, "dataset": holdout.dataset_id},
            enqueue=False,
        )
    )
    rows = ev.importance["rows"]
    assert ev.importance["method"] == "coefficient"
    assert [r["feature"] for r in rows if r["importance"] == max(x["importance"] for x in rows)] != []
    assert {r["feature"] for r in rows} == set(features)
    assert all("coefficient" in r for r in rows)


def test_a_label_the_model_never_saw_fails_the_task_with_the_reason(admin_user, trained, upload):
    from apps.datasets.demo_data import credit_frame

    frame = credit_frame(300, seed=5)
    frame["is_bad"] = frame["is_bad"].map({0: 0, 1: 2})
    response = upload(frame.to_csv(index=False), "odd.csv", name="odd", kind="tabular", labelColumn="is_bad")
    ev = services.evaluation_create(
        user=admin_user,
        request={"model_version": trained.pk, "dataset": response.json()["data"]["dataset"]},
        enqueue=False,
    )
    ev = run(ev, expect="failed")
    assert "label the model was not trained on (2)" in ev.task.error
    assert ev.metrics == {} and ev.report is None


def test_rerun_and_schedule_use_the_registered_kind(admin_user, trained, holdout):
    ev = run(
        services.evaluation_create(
            user=admin_user,
            request={"model_version": trained.pk, "dataset": holdout.dataset_id, "threshold": 0.2},
            enqueue=False,
        )
    )
    rerun = tasks.task_rerun(task=ev.task, user=admin_user)
    again = Evaluation.objects.get(task=rerun)
    assert (again.model_version_id, again.dataset_version_id, again.threshold) == (
        trained.pk,
        holdout.pk,
        0.2,
    )
    assert run(again).metrics["auc"] == ev.metrics["auc"]  # same version, same data: same figures

    schedule = task_schedules.schedule_create(
        user=admin_user,
        name="nightly holdout",
        request={"model_version": trained.pk, "dataset": holdout.dataset_id},
        every_minutes=60 * 24,
        type="evaluation",
    )
    task = task_schedules.schedule_run(schedule_id=schedule.pk, trigger_key="t-1")
    scheduled = Evaluation.objects.get(task=task)
    assert task.schedule_id == schedule.pk and scheduled.dataset_version_id == holdout.pk
    assert (
        task_schedules.schedule_run(schedule_id=schedule.pk, trigger_key="t-1") == task
    )  # a redelivery: one task
    assert TaskSchedule.objects.get().type == "evaluation"
    with pytest.raises(task_errors.RequestInvalid):
        task_schedules.schedule_create(
            user=admin_user,
            name="bad",
            request={"model_version": 10**6, "dataset": holdout.dataset_id},
            every_minutes=60,
            type="evaluation",
        )


def test_uploaded_model_without_training_data_has_no_psi(admin_user, api, holdout):
    import lightgbm as lgb
    import pandas as pd
    from django.core.files.uploadedfile import SimpleUploadedFile

    with stored_file_path(holdout.parquet) as path:
        frame = pd.read_parquet(path, columns=["credit_score", "user_age", "is_bad"])
    booster = lgb.train(
        {"objective": "binary", "verbose": -1},
        lgb.Dataset(
            frame[["credit_score", "user_age"]].to_numpy(float),
            frame["is_bad"].to_numpy(),
            feature_name=["credit_score", "user_age"],
        ),
        10,
    )
    ModelFactory(name="ext", type="classification", algorithm="lightgbm")
    r = api.post(
        "/api/models/upload",
        {"model": "ext", "file": SimpleUploadedFile("m.txt", booster.model_to_string().encode())},
        format="multipart",
    )
    assert r.status_code == 201, r.content
    ev = run(
        services.evaluation_create(
            user=admin_user,
            request={"model_version": r.json()["data"]["id"], "dataset": holdout.dataset_id},
            enqueue=False,
        )
    )
    assert ev.metrics["auc"] > 0.5 and ev.metrics["psi"] is None
    assert "no_baseline" in {n["code"] for n in ev.report["notes"]}


def test_multiclass_version(admin_user, client, credit_version, holdout):
    features = ["user_age", "city_tier", "monthly_income", "employment_years"]
    version = train(
        admin_user,
        credit_version.dataset_id,
        name="edu",
        label="education",
        features=features,
        objective="multiclass",
    )
    request = {"model_version": version.pk, "dataset": holdout.dataset_id}
    with pytest.raises(task_errors.RequestInvalid, match="multiclass model"):
        services.evaluation_create(user=admin_user, request={**request, "threshold": 0.5}, enqueue=False)
    ev = run(services.evaluation_create(user=admin_user, request=request, enqueue=False))
    classes = version.feature_schema["labelClasses"]
    assert ev.objective == "multiclass" and ev.report["classes"] == classes and len(classes) == 4
    assert [row["class"] for row in ev.report["per_class"]] == classes
    matrix = np.asarray(ev.report["confusion_matrix"])
    assert matrix.shape == (4, 4) and matrix.sum() == ev.rows < 2000  # rows without a label left out
    assert "unlabelled_rows_dropped" in {n["code"] for n in ev.report["notes"]}
    assert ev.metrics["accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())
    client.force_login(admin_user)
    page = client.get(f"/evaluation/report/{ev.pk}/").content.decode()
    assert 'id="per-class"' in page and all(c in page for c in classes)

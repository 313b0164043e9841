"""An evaluation requested through the API runs on a real Celery worker (``evaluation`` queue)."""

from __future__ import annotations

import pytest

from apps.evaluations.models import Evaluation
from tests.tasks.test_worker_integration import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_evaluation_through_the_api_completes_on_a_worker(api, trained, holdout, celery_worker):
    # The data is validated and the version trained in-process before the worker starts
    # (its start purges the queues, so no validation message races the fixtures).
    r = api.post(
        "/api/evaluation", {"modelVersion": trained.pk, "dataset": holdout.dataset_id}, format="json"
    )
    assert r.status_code == 201, r.content
    evaluation_id = r.json()["data"]["id"]
    result = wait_for(
        lambda: (
            (body := api.get(f"/api/evaluation/{evaluation_id}").json())["status"] in ("completed", "failed")
            and body
        ),
        what="the evaluation to finish",
        log=celery_worker["log"],
    )
    assert result["status"] == "completed", result["error"]
    evaluation = Evaluation.objects.select_related("task").get(pk=evaluation_id)
    assert evaluation.task.worker.startswith(celery_worker["hostname"])
    assert result["metrics"]["auc"] == evaluation.metrics["auc"] > 0.5
    assert len(result["deciles"]) == 10 and result["psi"]["psi"] is not None
    assert "apps.evaluations.tasks.run_evaluation" in celery_worker["log"].read_text()

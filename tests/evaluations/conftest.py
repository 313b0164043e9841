"""Fixtures for the evaluation tests: trained versions (in-process) and a helper to run
an evaluation's task as a worker would."""

from __future__ import annotations

import pytest

from apps.evaluations.models import Evaluation
from apps.models import training_tasks
from apps.models.models import ModelVersion
from apps.tasks import runner as task_runner
from apps.tasks.models import Task


def train(user, dataset_id: int, *, name: str = "credit", rounds: int = 20, **extra) -> ModelVersion:
    params = {"num_boost_round": rounds} if extra.get("algorithm", "lightgbm") == "lightgbm" else {}
    task = training_tasks.training_create(
        user=user, request={"name": name, "dataset": dataset_id, "params": params, **extra}, enqueue=False
    )
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed", Task.objects.get(
        pk=task.pk
    ).error
    return ModelVersion.objects.select_related("model").get(task=task)


def run(evaluation: Evaluation | int, expect: str = "completed") -> Evaluation:
    """Execute an evaluation's task in-process; return the evaluation as stored after it."""
    pk = evaluation if isinstance(evaluation, int) else evaluation.pk
    task_id = Evaluation.objects.get(pk=pk).task_id
    outcome = task_runner.task_execute(task_id=task_id, worker="w:1")
    assert outcome == expect, Task.objects.get(pk=task_id).error
    return Evaluation.objects.select_related("task", "model_version__model").get(pk=pk)


@pytest.fixture
def trained(admin_user, credit_version) -> ModelVersion:
    """A LightGBM binary version trained on the ``credit`` dataset (label is_bad)."""
    return train(admin_user, credit_version.dataset_id)


@pytest.fixture
def holdout(upload):
    """A validated ``holdout`` dataset: the credit table drawn with another seed."""
    from apps.datasets.demo_data import credit_frame
    from apps.datasets.models import DatasetVersion

    response = upload(
        credit_frame(2000, seed=23).to_csv(index=False),
        "holdout.csv",
        name="holdout",
        kind="tabular",
        labelColumn="is_bad",
        timeColumn="application_date",
        keyColumns=["application_id"],
    )
    assert response.status_code == 201, response.content
    version = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    assert version.status == "validated", version.error_message
    return version

"""The event class of a binary label: named, or picked (1, bad, 违约 ... else the rarer class);
every score is its probability."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import roc_auc_score

from apps.models import artifacts as A
from apps.models import training as T
from apps.models import training_tasks
from apps.models.models import ModelVersion
from apps.tasks import runner as task_runner
from apps.tasks.models import Task


def _table(labels: tuple, n: int = 2000, seed: int = 3, event_share: float = 0.2) -> pa.Table:
    """``labels[1]`` is the event: rarer, and likelier when x is high."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    event = rng.random(n) < 1 / (1 + np.exp(-(2 * x + np.log(event_share / (1 - event_share)))))
    y = np.where(event, labels[1], labels[0])
    return pa.table({"x": x, "status": y.tolist()})


def _model(result: T.TrainingResult):
    blob = A.pack(result.model_bytes, result.model_format, key=b"k", meta=result.meta)
    return A.load_model(A.unpack(blob, key=b"k"))


def _spec(**kw) -> T.TrainingSpec:
    base = {"algorithm": "logistic_regression", "objective": "binary", "label": "status", "features": ["x"]}
    return T.TrainingSpec(**{**base, **kw})


@pytest.mark.parametrize(
    ("labels", "event"),
    [
        (("good", "bad"), "bad"),  # sorted, "bad" would come first: the event word wins
        ((0, 1), 1),
        (("正常", "违约"), "违约"),
        ((False, True), True),
        (("keep", "leave"), "leave"),  # no event word: the rarer class
    ],
)
def test_the_event_is_picked_and_scores_are_its_probability(labels, event):
    table = _table(labels)
    result = T.train(_spec(), table)
    assert result.meta["label_classes"][1] == event
    assert result.meta["event_value"] == event
    scores = T.predict(result.model_format, _model(result), table, result.meta)
    is_event = np.array([v == event for v in table.column("status").to_pylist()])
    assert roc_auc_score(is_event, scores) > 0.75  # oriented to the event, not against it


def test_a_named_event_value_turns_the_scores_round():
    table = _table(("good", "bad"))
    result = T.train(_spec(event_value="good"), table)
    assert result.meta["label_classes"] == ["bad", "good"]
    scores = T.predict(result.model_format, _model(result), table, result.meta)
    is_good = np.array([v == "good" for v in table.column("status").to_pylist()])
    assert roc_auc_score(is_good, scores) > 0.75


def test_an_event_value_given_as_text_names_a_number_label():
    result = T.train(_spec(event_value="0"), _table((0, 1)))
    assert result.meta["label_classes"] == [1, 0]


def test_an_event_value_the_label_does_not_hold_is_refused():
    with pytest.raises(T.SpecError) as caught:
        T.train(_spec(event_value="default"), _table(("good", "bad")))
    assert "'default' is not in the label" in str(caught.value)
    assert "bad, good" in str(caught.value)


def test_a_scorecard_needs_a_binary_label():
    problems = T.validate_spec(
        _spec(algorithm="scorecard", objective="multiclass"), {"x": "double", "status": "string"}
    )
    assert any("scorecard needs a binary label" in p for p in problems)


@pytest.mark.django_db
def test_the_api_refuses_an_event_value_not_in_the_label(
    api, credit_version, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(
            "/api/tasks/training",
            {"name": "m", "dataset": credit_version.dataset_id, "eventValue": "bad"},
            format="json",
        )
    assert response.status_code == 400, response.content
    assert "'bad' is not in the label" in response.json()["errors"]["eventValue"][0]
    assert not Task.objects.filter(type="training").exists()


@pytest.mark.django_db
def test_a_training_records_the_event_on_its_version(admin_user, credit_version):
    task = training_tasks.training_create(
        user=admin_user,
        request={
            "name": "credit-event",
            "dataset": credit_version.dataset_id,
            "params": {"num_boost_round": 5},
            "event_value": 0,  # is_bad = 0: the scores become P(good)
        },
        enqueue=False,
    )
    assert task.parameters["event_value"] == 0
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    version = ModelVersion.objects.get(task=task)
    assert version.feature_schema["eventValue"] == 0
    assert version.feature_schema["labelClasses"] == [1, 0]
    assert training_tasks.training_request_of(task)["event_value"] == 0

"""The work queue's rules, run in-process: state machine, training run, cancel, reaper, limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.config import config_invalidate
from apps.core.models import SystemConfig
from apps.models import training_tasks
from apps.models.models import ModelVersion
from apps.models.services import version_load
from apps.tasks import errors as task_errors
from apps.tasks import runner as task_runner
from apps.tasks import services
from apps.tasks.models import Task, TaskLog, TaskStatus

pytestmark = pytest.mark.django_db


def _request(version, **overrides) -> dict:
    return {
        "name": "credit-lgbm",
        "dataset": version.dataset_id,
        "algorithm": "lightgbm",
        "params": {"num_boost_round": 30},
        **overrides,
    }


def _create(user, version, django_capture_on_commit_callbacks, **overrides) -> Task:
    # The on-commit send is not executed: these tests run the worker's function themselves.
    with django_capture_on_commit_callbacks(execute=False):
        return training_tasks.training_create(user=user, request=_request(version, **overrides))


def _set(key: str, value) -> None:
    SystemConfig.objects.update_or_create(key=key, defaults={"value": value, "value_type": "number"})
    config_invalidate(key)


def test_training_runs_end_to_end_and_registers_a_verified_version(
    admin_user, credit_version, django_capture_on_commit_callbacks
):
    task = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    assert task.status == TaskStatus.PENDING
    assert task.parameters["features"] and "is_bad" not in task.parameters["features"]
    assert "application_id" not in task.parameters["features"]
    assert task.parameters["objective"] == "binary"

    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED and task.progress == 100
    assert task.attempts == 1 and task.completed_at is not None
    mv = ModelVersion.objects.get(task=task)
    assert task.result["modelVersionId"] == mv.pk and mv.version == 1
    assert 0.5 < mv.metrics["auc"] <= 1
    assert mv.dataset_version == credit_version and mv.dataset_sha256 == credit_version.sha256
    assert mv.seed == 42 and "lightgbm" in mv.library_versions
    rounds = TaskLog.objects.filter(task=task, step__isnull=False)
    assert rounds.count() == 30
    assert all(r.loss is not None and r.valid_loss is not None for r in rounds)
    artifact, booster = version_load(version=mv)
    assert artifact.format == "lightgbm-text" and booster.num_trees() == 30

    # A second delivery of the same task changes nothing and registers nothing.
    assert task_runner.task_execute(task_id=task.pk, worker="w:2") == "not-claimed"
    assert ModelVersion.objects.filter(model=mv.model).count() == 1


def test_same_request_and_seed_give_the_same_model(
    admin_user, credit_version, django_capture_on_commit_callbacks
):
    first = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    second = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    task_runner.task_execute(task_id=first.pk, worker="w:1")
    task_runner.task_execute(task_id=second.pk, worker="w:1")
    a, b = ModelVersion.objects.get(task=first), ModelVersion.objects.get(task=second)
    assert (a.version, b.version) == (1, 2)
    assert a.checksum == b.checksum and a.metrics == b.metrics


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"dataset": 999999}, "dataset", "No dataset"),
        ({"label": "nope"}, "non_field_errors", "does not exist"),
        ({"label": "has_mortgage", "objective": "binary", "features": ["user_age"]}, None, None),
        ({"algorithm": "xgboost"}, "non_field_errors", "unknown algorithm"),
        ({"params": {"num_boost_round": "many"}}, "non_field_errors", "wrong type"),
        ({"params": {"learning_rate": 5}}, "non_field_errors", "out of range"),
        ({"features": ["user_age", "nope"]}, "non_field_errors", "do not exist"),
        ({"feature_set": 999999}, "feature_set", "No feature set"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_stored(
    admin_user, credit_version, django_capture_on_commit_callbacks, overrides, field, text
):
    if field is None:  # a valid variant, to prove the others fail for their stated reason
        assert _create(admin_user, credit_version, django_capture_on_commit_callbacks, **overrides).pk
        return
    with pytest.raises(task_errors.RequestInvalid) as caught:
        _create(admin_user, credit_version, django_capture_on_commit_callbacks, **overrides)
    assert text in " ".join(caught.value.errors[field])
    assert not Task.objects.filter(type="training").exists()


def test_single_class_label_is_refused(admin_user, upload, django_capture_on_commit_callbacks):
    csv = "a,b,y\n" + "".join(f"{i},{i % 3},1\n" for i in range(50))
    upload(csv, "one.csv", name="oneclass", kind="tabular", labelColumn="y")
    from apps.datasets.models import Dataset

    dataset = Dataset.objects.get(name="oneclass")
    with (
        pytest.raises(task_errors.RequestInvalid) as caught,
        django_capture_on_commit_callbacks(execute=False),
    ):
        training_tasks.training_create(
            user=admin_user, request={"name": "m", "dataset": dataset.pk, "objective": "binary"}
        )
    assert "1 class" in str(caught.value)


@pytest.mark.parametrize(
    "config", [{"threads": -1}, {"threads": 1000}, {"memoryMb": 0}, {"gpus": 1}, {"threads": "2"}, [1]]
)
def test_bad_resource_config(admin_user, credit_version, config):
    with pytest.raises(task_errors.RequestInvalid) as caught:
        training_tasks.training_create(
            user=admin_user, request=_request(credit_version), resource_config=config
        )
    assert "resource_config" in caught.value.errors
    assert not Task.objects.filter(type="training").exists()


def test_state_machine_refuses_illegal_changes(
    admin_user, credit_version, django_capture_on_commit_callbacks
):
    task = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    assert services.transition(task.pk, TaskStatus.QUEUED)
    assert not services.transition(task.pk, TaskStatus.COMPLETED)  # queued cannot complete
    assert services.transition(task.pk, TaskStatus.RUNNING)
    assert services.transition(task.pk, TaskStatus.COMPLETED)
    for target in TaskStatus.values:
        assert not services.transition(task.pk, target)  # completed never changes
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


def test_cancel_queued_then_worker_skips_it(admin_user, credit_version, django_capture_on_commit_callbacks):
    task = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    task = services.task_cancel(task=task)
    assert task.status == TaskStatus.CANCELLED
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "not-claimed"
    with pytest.raises(task_errors.IllegalTransition):
        services.task_cancel(task=task)


def test_cancel_while_running_stops_at_the_next_round(
    admin_user, credit_version, django_capture_on_commit_callbacks
):
    task = _create(
        admin_user, credit_version, django_capture_on_commit_callbacks, params={"num_boost_round": 500}
    )
    original = training_tasks.RoundWriter.__call__
    calls = {"n": 0}

    def cancel_on_third_round(self, info):
        calls["n"] += 1
        if calls["n"] == 3:
            with django_capture_on_commit_callbacks(execute=False):
                services.task_cancel(task=Task.objects.get(pk=task.pk))
            self.last_flush = 0  # make this round flush and notice
        return original(self, info)

    training_tasks.RoundWriter.__call__ = cancel_on_third_round
    try:
        assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "cancelled"
    finally:
        training_tasks.RoundWriter.__call__ = original
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    assert not ModelVersion.objects.filter(task=task).exists()
    assert TaskLog.objects.filter(task=task, step__isnull=False).count() < 10


def test_concurrency_limit_keeps_tasks_queued(admin_user, credit_version, django_capture_on_commit_callbacks):
    _set("tasks-max-concurrent-trainings", 1)
    busy = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    waiting = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    services.transition(busy.pk, TaskStatus.RUNNING, heartbeat_at=timezone.now())
    assert task_runner.task_execute(task_id=waiting.pk, worker="w:1") == "wait"
    waiting.refresh_from_db()
    assert waiting.status == TaskStatus.PENDING and waiting.attempts == 0
    services.transition(busy.pk, TaskStatus.COMPLETED)
    assert task_runner.task_execute(task_id=waiting.pk, worker="w:1") == "completed"


def test_reaper_requeues_then_fails_at_the_attempt_cap(
    admin_user, credit_version, django_capture_on_commit_callbacks
):
    _set("tasks-max-attempts", 2)
    task = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    long_ago = timezone.now() - timedelta(hours=1)
    services.transition(task.pk, TaskStatus.RUNNING, attempts=1, heartbeat_at=long_ago, worker="gone:1")
    with django_capture_on_commit_callbacks(execute=False):
        assert services.tasks_reap() == {"requeued": 1, "failed": 0, "resent": 0}
    task.refresh_from_db()
    assert task.status == TaskStatus.QUEUED
    services.transition(task.pk, TaskStatus.RUNNING, attempts=2, heartbeat_at=long_ago)
    assert services.tasks_reap() == {"requeued": 0, "failed": 1, "resent": 0}
    task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and "stopped responding" in task.error
    # A live task is left alone.
    live = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    services.transition(live.pk, TaskStatus.RUNNING, heartbeat_at=timezone.now())
    assert services.tasks_reap() == {"requeued": 0, "failed": 0, "resent": 0}


def test_rerun_queues_the_same_request(admin_user, credit_version, django_capture_on_commit_callbacks):
    task = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    task_runner.task_execute(task_id=task.pk, worker="w:1")
    with django_capture_on_commit_callbacks(execute=False):
        again = services.task_rerun(task=Task.objects.get(pk=task.pk), user=admin_user)
    assert again.rerun_of_id == task.pk
    assert again.parameters == Task.objects.get(pk=task.pk).parameters


def test_fallback_is_recorded(admin_user, credit_version, django_capture_on_commit_callbacks, monkeypatch):
    from apps.models import training

    def broken(*args, **kwargs):
        raise RuntimeError("LightGBM exploded")

    monkeypatch.setattr(training.fit, "_train_lightgbm", broken)
    task = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    task.refresh_from_db()
    assert task.result["algorithm"] == "logistic_regression"
    assert TaskLog.objects.filter(task=task, level="warning", message__contains="LightGBM exploded").exists()


def test_cancel_is_enforced_when_a_run_ignores_it(
    admin_user, credit_version, django_capture_on_commit_callbacks
):
    task = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    services.transition(task.pk, TaskStatus.RUNNING, heartbeat_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        task = services.task_cancel(task=Task.objects.get(pk=task.pk))
    assert task.status == TaskStatus.RUNNING and task.cancel_requested
    assert len(callbacks) == 1  # the delayed enforcement
    assert services.cancel_enforce(task_id=task.pk) is True
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED and "revoked" in task.error
    assert services.cancel_enforce(task_id=task.pk) is False  # a second delivery changes nothing


def test_feature_set_training_leaves_out_dates_and_locks_the_set(
    admin_user, credit_version, django_capture_on_commit_callbacks
):
    from apps.features.services import features_register

    _, feature_set = features_register(
        dataset_version=credit_version,
        columns=[{"column": c} for c in ("user_age", "credit_score", "application_date", "city_tier")],
        user=admin_user,
        tags=[],
        feature_set_name="small",
    )
    task = _create(
        admin_user,
        credit_version,
        django_capture_on_commit_callbacks,
        dataset=None,
        feature_set=feature_set.pk,
    )
    assert task.parameters["features"] == ["user_age", "credit_score", "city_tier"]
    assert task.parameters["skipped_features"] == ["application_date"]
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    feature_set.refresh_from_db()
    assert feature_set.locked_at is not None
    assert ModelVersion.objects.get(task=task).feature_set == feature_set


def test_resource_config_is_applied(admin_user, credit_version, django_capture_on_commit_callbacks):
    type(credit_version).objects.filter(pk=credit_version.pk).update(row_count=10_000_000)
    with pytest.raises(task_errors.RequestInvalid) as caught:
        training_tasks.training_create(
            user=admin_user, request=_request(credit_version), resource_config={"memoryMb": 1}
        )
    assert "needs about" in caught.value.errors["resource_config"][0]
    type(credit_version).objects.filter(pk=credit_version.pk).update(row_count=3000)
    with django_capture_on_commit_callbacks(execute=False):
        task = training_tasks.training_create(
            user=admin_user,
            request=_request(credit_version),
            priority="urgent",
            resource_config={"timeoutSeconds": 120, "threads": 1},
        )
    options = services._send_options(task)
    assert options["priority"] == 0 and options["soft_time_limit"] == 120
    assert options["soft_time_limit"] < options["time_limit"]


def test_a_queued_task_whose_message_was_lost_is_sent_again_once(
    admin_user, credit_version, django_capture_on_commit_callbacks
):
    task = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    _set("tasks-heartbeat-timeout-seconds", 60)
    # Queued 10 minutes ago, no worker ever took it and no slot wait stamped it: lost.
    old = timezone.now() - timedelta(minutes=10)
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.QUEUED, queued_at=old, heartbeat_at=None)
    waiting = _create(admin_user, credit_version, django_capture_on_commit_callbacks)
    # Queued as long ago but waiting for a training slot just now: its message is alive.
    Task.objects.filter(pk=waiting.pk).update(
        status=TaskStatus.QUEUED, queued_at=old, heartbeat_at=timezone.now()
    )
    before = Task.objects.get(pk=task.pk).celery_task_id
    with django_capture_on_commit_callbacks(execute=False):
        assert services.tasks_reap() == {"requeued": 0, "failed": 0, "resent": 1}
    task.refresh_from_db()
    assert task.status == TaskStatus.QUEUED and task.celery_task_id != before
    assert task.queued_at > old  # sent now: not again until two windows pass
    assert "sent again" in " ".join(task.logs.values_list("message", flat=True))
    assert services.tasks_reap()["resent"] == 0

"""The dask engine of a training: LightGBM sharded over real Dask workers (a LocalCluster of
two worker processes), compared with the local engine on the same rows; the task, the API and
the page ask for it; bad input and an unreachable scheduler are refused clearly."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from distributed import Client, LocalCluster

from apps.core.config import config_invalidate
from apps.core.models import SystemConfig
from apps.models import artifacts as A
from apps.models import training as T
from apps.models import training_tasks
from apps.models.models import ModelVersion
from apps.models.training import distributed as D
from apps.tasks import runner as task_runner
from apps.tasks.models import Task, TaskLog, TaskStatus

pytestmark = pytest.mark.filterwarnings("ignore")  # LightGBM's and distributed's own notices


@pytest.fixture(scope="module")
def cluster():
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local,
        Client(local) as client,
    ):
        yield local, client


def _table(n: int = 12_000, seed: int = 5) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    region = rng.choice(["north", "south", "east", None], n)
    logit = x[:, 0] - 0.8 * x[:, 1] + np.where(region == "north", 0.7, 0.0)
    label = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "bad", "good").astype(object)
    label[rng.random(n) < 0.02] = None  # unlabelled rows are dropped by both engines
    return pa.table({**{f"x{i}": x[:, i] for i in range(4)}, "region": region, "status": label})


def _spec(**kw) -> T.TrainingSpec:
    base = {
        "algorithm": "lightgbm",
        "objective": "binary",
        "label": "status",
        "features": ["x0", "x1", "x2", "x3", "region"],
        "params": {"num_boost_round": 25},
    }
    return T.TrainingSpec(**{**base, **kw})


def _write(table: pa.Table, path, row_group_size: int = 2500) -> str:
    pq.write_table(table, path, row_group_size=row_group_size)
    return str(path)


@pytest.mark.parametrize("split", ["random", "stratified"])
def test_two_workers_train_the_local_model_on_the_same_rows(cluster, tmp_path, split):
    _, client = cluster
    table = _table()
    source = _write(table, tmp_path / "d.parquet")
    rounds: list[int] = []
    result = D.train_dask(
        _spec(split=split), client, source, on_round=lambda i: rounds.append(i.round) or True
    )
    local = T.train(_spec(split=split), table)

    assert result.rows == local.rows  # the same split, row for row
    assert result.meta["label_classes"] == local.meta["label_classes"] == ["good", "bad"]
    assert result.meta["categorical_levels"] == local.meta["categorical_levels"]
    assert abs(result.metrics["auc"] - local.metrics["auc"]) < 0.005
    assert result.metrics["auc"] > 0.7
    held = result.engine["workers"]
    assert len(held) == 2 and sum(held.values()) == result.rows["train"]
    assert min(held.values()) > 0.3 * result.rows["train"]  # each worker holds a share
    assert rounds == list(range(1, 26))
    # The artifact scores like any LightGBM version.
    blob = A.pack(result.model_bytes, result.model_format, key=b"k", meta=result.meta)
    model = A.load_model(A.unpack(blob, key=b"k"))
    scores = T.predict(result.model_format, model, table, result.meta)
    assert scores.shape == (table.num_rows,) and np.all((scores > 0) & (scores < 1))


def test_a_time_split_holds_out_the_latest_rows_on_both_engines(cluster, tmp_path):
    _, client = cluster
    table = _table(6000)
    table = table.append_column("day", pa.array(np.random.default_rng(1).integers(0, 365, 6000)))
    source = _write(table, tmp_path / "t.parquet", row_group_size=1000)
    spec = _spec(split="time", time_column="day")
    result, local = D.train_dask(spec, client, source), T.train(spec, table)
    assert result.rows == local.rows  # the same rows held out: the latest days
    # 4,800 training rows: each worker bins its own half, so AUC is compared to 0.005 only on
    # the 12,000-row data above; here it must stay a working model.
    assert result.metrics["auc"] > 0.7 and abs(result.metrics["auc"] - local.metrics["auc"]) < 0.02


def test_multiclass_and_regression_train_on_dask(cluster, tmp_path):
    _, client = cluster
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4000, 3))
    cls = np.digitize(x[:, 0] + 0.3 * rng.normal(size=4000), [-0.5, 0.5])
    table = pa.table({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "k": cls, "y": 2 * x[:, 0] - x[:, 1]})
    source = _write(table, tmp_path / "m.parquet", row_group_size=700)
    multi = D.train_dask(_spec(objective="multiclass", label="k", features=["a", "b", "c"]), client, source)
    assert multi.meta["label_classes"] == [0, 1, 2] and multi.metrics["accuracy"] > 0.6
    reg = D.train_dask(_spec(objective="regression", label="y", features=["a", "b", "c"]), client, source)
    assert reg.metrics["r2"] > 0.8


def test_on_round_returning_false_cancels_every_worker(cluster, tmp_path):
    _, client = cluster
    source = _write(_table(4000), tmp_path / "c.parquet", row_group_size=1000)
    with pytest.raises(T.Cancelled):
        D.train_dask(_spec(params={"num_boost_round": 400}), client, source, on_round=lambda i: i.round < 3)
    # The cluster is free again: the next training runs.
    assert D.train_dask(_spec(), client, source).rows["train"] > 0


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"algorithm": "scorecard"}, "the dask engine trains LightGBM"),
        ({"params": {"early_stopping_rounds": 5}}, "early stopping is not available"),
        ({"features": ["x0", "nope"]}, "feature columns do not exist: nope"),
    ],
)
def test_what_the_dask_engine_cannot_train_is_refused(cluster, tmp_path, changes, fragment):
    _, client = cluster
    source = _write(_table(500), tmp_path / "r.parquet")
    with pytest.raises(T.SpecError) as caught:
        D.train_dask(_spec(**changes), client, source)
    assert fragment in str(caught.value)


def test_plain_dask_workers_without_omm_train_it(tmp_path):
    """``dask worker`` processes that have neither Django nor OMM's code on their path, as on
    another host: what the engine sends them travels by value."""
    from tests.dask_cluster import plain_dask_cluster, workers_modules

    table = _table(6000)
    source = _write(table, tmp_path / "p.parquet", row_group_size=1500)
    with plain_dask_cluster(tmp_path, workers=2) as address, Client(address, set_as_default=False) as client:
        assert workers_modules(address, "apps") == [(False, False)] * 2
        rounds: list[int] = []
        result = D.train_dask(_spec(), client, source, on_round=lambda i: rounds.append(i.round) or True)
        assert len(result.engine["workers"]) == 2 and rounds == list(range(1, 26))
        with pytest.raises(T.Cancelled):  # the cancel reaches plain workers too
            D.train_dask(
                _spec(params={"num_boost_round": 400}), client, source, on_round=lambda i: i.round < 3
            )
    assert abs(result.metrics["auc"] - T.train(_spec(), table).metrics["auc"]) < 0.005


# --------------------------------------------------------------------------- the task


def _set(key: str, value, value_type: str = "number") -> None:
    SystemConfig.objects.update_or_create(key=key, defaults={"value": value, "value_type": value_type})
    config_invalidate(key)


def _train(user, version, **request) -> Task:
    return training_tasks.training_create(
        user=user,
        request={
            "name": "credit-dask",
            "dataset": version.dataset_id,
            "params": {"num_boost_round": 8},
            **request,
        },
        enqueue=False,
    )


def _log(task: Task) -> str:
    return "\n".join(TaskLog.objects.filter(task=task).values_list("message", flat=True))


@pytest.mark.django_db
def test_a_dask_training_task_registers_a_version_trained_on_both_workers(
    admin_user, credit_version, cluster, settings
):
    settings.DASK_SCHEDULER_ADDRESS = cluster[0].scheduler_address
    task = _train(admin_user, credit_version, engine="dask")
    assert task.parameters["engine"] == "dask"
    assert training_tasks.training_request_of(task)["engine"] == "dask"
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    task.refresh_from_db()
    assert task.result["engine"] == "dask"
    assert len(task.result["daskWorkers"]) == 2
    assert sum(task.result["daskWorkers"].values()) == task.result["rows"]["train"]
    version = ModelVersion.objects.get(task=task)
    assert version.metrics["auc"] > 0.6
    assert version.training_info["engine"] == "dask"
    log = _log(task)
    assert "Engine: dask (the dask engine was requested)" in log
    assert "Trained on 2 Dask worker(s)" in log
    assert TaskLog.objects.filter(task=task, step__isnull=False).count() >= 2  # rounds reached the log

    local = _train(admin_user, credit_version)
    assert task_runner.task_execute(task_id=local.pk, worker="w:1") == "completed"
    local.refresh_from_db()
    assert local.result["engine"] == "local"
    assert local.result["rows"] == task.result["rows"]  # the same split on both engines


@pytest.mark.django_db
def test_auto_picks_dask_from_the_threshold_and_local_below_it(admin_user, credit_version, cluster, settings):
    settings.DASK_SCHEDULER_ADDRESS = cluster[0].scheduler_address
    _set("engine-dask-auto-rows", 1000)
    big = _train(admin_user, credit_version, engine="auto")
    assert task_runner.task_execute(task_id=big.pk, worker="w:1") == "completed"
    big.refresh_from_db()
    assert big.result["engine"] == "dask"
    assert "reach the automatic threshold of 1,000" in _log(big)
    # A scorecard cannot train on dask: auto keeps it here.
    _set("engine-dask-auto-rows", 10_000_000)
    small = _train(admin_user, credit_version, engine="auto")
    assert task_runner.task_execute(task_id=small.pk, worker="w:1") == "completed"
    small.refresh_from_db()
    assert small.result["engine"] == "local"


@pytest.mark.django_db
def test_an_unreachable_scheduler_fails_the_task_unless_fallback_is_allowed(
    admin_user, credit_version, settings
):
    settings.DASK_SCHEDULER_ADDRESS = "tcp://127.0.0.1:1"
    settings.DASK_CONNECT_TIMEOUT = 1
    task = _train(admin_user, credit_version, engine="dask")
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "failed"
    task.refresh_from_db()
    assert "The Dask scheduler at tcp://127.0.0.1:1 cannot be reached" in task.error
    assert not ModelVersion.objects.filter(task=task).exists()

    _set("engine-dask-fallback-local", True, "boolean")
    again = _train(admin_user, credit_version, engine="dask")
    assert task_runner.task_execute(task_id=again.pk, worker="w:1") == "completed"
    again.refresh_from_db()
    assert again.result["engine"] == "local"
    assert "Training on the local engine, as the settings allow." in _log(again)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("request_changes", "config", "fragment"),
    [
        ({"engine": "spark"}, None, '"spark" is not a valid choice'),
        ({"engine": "dask", "algorithm": "scorecard"}, None, "the dask engine trains LightGBM"),
        ({"engine": "local"}, ("engine-local-max-cells", 1000), "run it with the dask engine"),
    ],
)
def test_the_api_refuses_an_engine_that_cannot_run_it(
    api, credit_version, django_capture_on_commit_callbacks, request_changes, config, fragment
):
    if config:
        _set(*config)
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(
            "/api/tasks/training",
            {"name": "m", "dataset": credit_version.dataset_id, **request_changes},
            format="json",
        )
    assert response.status_code == 400, response.content
    assert fragment in " ".join(response.json()["errors"]["engine"])
    assert not Task.objects.filter(type="training").exists()


@pytest.mark.worker
def test_a_celery_worker_trains_on_its_own_local_cluster(api, credit_version, celery_worker, settings):
    """The worker process, with no scheduler configured, starts a LocalCluster for the task."""
    import time

    response = api.post(
        "/api/tasks/training",
        {
            "name": "credit-worker-dask",
            "dataset": credit_version.dataset_id,
            "engine": "dask",
            "params": {"numBoostRound": 5},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    task_id = response.json()["data"]["id"]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        task = Task.objects.get(pk=task_id)
        if task.status in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED):
            break
        time.sleep(0.5)
    assert task.status == TaskStatus.COMPLETED, (task.error, celery_worker["log"].read_text()[-3000:])
    assert task.result["engine"] == "dask" and len(task.result["daskWorkers"]) == 2

"""Beyond one machine, proven on one: Celery and Dask workers on separate "hosts" (network
namespaces with their own addresses, tests/cluster/hosts.py), all reaching the same
PostgreSQL, Redis and shared storage.

(1) independent trainings spread over Celery workers on two hosts; (2) one LightGBM
training sharded over Dask workers on two hosts matches the same training run locally;
(3) a host's worker killed mid-task (a Celery worker, a Dask worker) ends the task failed or
re-run, never stuck.

Runs on PostgreSQL + Redis as root with iproute2; skipped otherwise (the reason says why).
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from apps.models.models import ModelVersion
from apps.tasks import services as queue
from apps.tasks.models import FINAL_STATUSES, Task, TaskLog, TaskStatus
from tests.cluster.conftest import Cluster, cluster_unavailable
from tests.cluster.hosts import dask_processing, kill_group, netns_inode_of
from tests.faults.conftest import config_set, queue_trainings

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(bool(cluster_unavailable()), reason=cluster_unavailable() or ""),
]

# Small trainings: one thread each (two cores are shared by every process of the test).
SMALL = {"numBoostRound": 40}
ONE_THREAD = {"threads": 1}
# Long enough to be caught mid-fit (a few seconds on 3,000 rows) and never stopped early.
LONG = {"numBoostRound": 1000, "learningRate": 0.001, "earlyStoppingRounds": 0}
REAPER_WINDOW = 5  # tasks-heartbeat-timeout-seconds at its minimum
DASK_ROWS, DASK_FEATURES = 30_000, 20
DASK_PARAMS = {"numBoostRound": 60, "learningRate": 0.1, "numLeaves": 15, "earlyStoppingRounds": 0}
AUC_TOLERANCE = 0.005


def _wait_final(ids: list[int], timeout: float, cluster: Cluster, reap: bool = False) -> list[Task]:
    """Wait for every task to end (running the reaper as beat would, if asked); fail with logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reap:
            queue.tasks_reap()
        tasks = list(Task.objects.filter(pk__in=ids).order_by("pk"))
        if all(t.status in FINAL_STATUSES for t in tasks):
            return tasks
        time.sleep(0.5)
    rows = list(Task.objects.filter(pk__in=ids).values("pk", "status", "progress", "worker", "error"))
    pytest.fail(f"tasks not final after {timeout:.0f} s: {rows}\n{cluster.logs()}")


def _pool_pid(task_worker: str) -> int:
    return int(task_worker.rsplit(":", 1)[1])


def _frame(rows: int, features: int, seed: int = 7) -> pd.DataFrame:
    """Numbers with a learnable binary label ``y`` (a noisy logistic model of ten of them)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features)).round(4)
    weights = rng.uniform(-1.0, 1.0, min(features, 10))
    logit = x[:, : len(weights)] @ weights + 0.5 * x[:, 0] * x[:, 1]
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(features)])
    frame["y"] = (logit + rng.logistic(size=rows) > 0).astype(int)
    return frame


@pytest.fixture
def numbers_version(upload):
    from apps.datasets.models import DatasetVersion

    csv = _frame(DASK_ROWS, DASK_FEATURES).to_csv(index=False)
    response = upload(csv, "numbers.csv", name="numbers", kind="tabular", labelColumn="y")
    assert response.status_code == 201, response.content
    version = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    assert version.status == "validated", version.error_message
    return version


def _train(api, dataset_id: int, name: str, params: dict, **extra) -> int:
    body = {
        "name": name,
        "dataset": dataset_id,
        "label": "y",
        "params": params,
        "split": "random",
        "resourceConfig": ONE_THREAD,
        **extra,
    }
    response = api.post("/api/tasks/training", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]["id"]


# ----------------------------------------------------------------------------- (1) Celery hosts


def test_independent_trainings_spread_over_celery_workers_on_two_hosts(cluster, api, credit_version, figures):
    h1, h2 = cluster.hosts.host("h1"), cluster.hosts.host("h2")
    workers = cluster.start_celery([h1, h2])
    started = time.monotonic()
    ids = queue_trainings(
        api, credit_version.dataset_id, 6, prefix="spread", params=SMALL, resources=ONE_THREAD
    )

    tasks = _wait_final(ids, 180, cluster)
    seconds = time.monotonic() - started

    assert [t.status for t in tasks] == [TaskStatus.COMPLETED] * 6, [(t.pk, t.error) for t in tasks]
    assert ModelVersion.objects.filter(task__in=ids).count() == 6
    ran_on = Counter()
    for task in tasks:
        worker = cluster.worker_of(task.worker)
        assert worker is not None, task.worker
        ran_on[worker.host.name] += 1
        # The pool process that ran it lives in that host's network namespace, not this one.
        assert netns_inode_of(_pool_pid(task.worker)) == worker.host.netns_inode()
    figures("scale-out-spread", f"6 trainings in {seconds:.1f} s, ran on {dict(sorted(ran_on.items()))}")
    assert set(ran_on) == {"h1", "h2"}, ran_on
    assert workers[0].host.address != workers[1].host.address
    # Each host reached PostgreSQL and Redis from its own address, through the bridge.
    assert {h1.address, h2.address} <= set(cluster.hosts.peers()), cluster.hosts.peers()


# ----------------------------------------------------------------------------- (2) Dask hosts


def test_one_training_sharded_over_dask_workers_on_two_hosts_matches_local(
    cluster, api, numbers_version, figures
):
    h1, h2, h3 = (cluster.hosts.host(name) for name in ("h1", "h2", "h3"))
    dask_workers = cluster.start_dask([h2, h3])
    cluster.start_celery([h1])
    dask_id = _train(api, numbers_version.dataset_id, "sharded", DASK_PARAMS, engine="dask")
    local_id = _train(api, numbers_version.dataset_id, "single", DASK_PARAMS, engine="local")

    sharded, single = _wait_final([dask_id, local_id], 240, cluster)

    assert sharded.status == TaskStatus.COMPLETED, f"{sharded.error}\n{cluster.logs()}"
    assert single.status == TaskStatus.COMPLETED, single.error
    assert ModelVersion.objects.filter(task=sharded).count() == 1
    result = sharded.result
    assert result["engine"] == "dask", result
    held = result["daskWorkers"]  # {worker address: training rows it held}
    figures(
        "scale-out-dask",
        f"dask {result['seconds']:.1f} s AUC {result['metrics'].get('auc'):.4f} on {held}; "
        f"local {single.result['seconds']:.1f} s AUC {single.result['metrics'].get('auc'):.4f}",
    )
    assert set(held) == set(dask_workers), (held, dask_workers)
    hosts_of = {cluster.hosts.host_of(address.split("://")[-1].rsplit(":", 1)[0]) for address in held}
    assert hosts_of == {h2, h3}, held
    total = sum(held.values())
    assert total in (DASK_ROWS, result["rows"]["train"], result["rows"]["train"] + result["rows"]["valid"])
    for address, rows in held.items():
        assert total / 4 <= rows <= 3 * total / 4, (address, held)  # each a real share, about half
    assert (single.result.get("engine") or "local") == "local"
    assert abs(result["metrics"]["auc"] - single.result["metrics"]["auc"]) <= AUC_TOLERANCE, (
        result["metrics"],
        single.result["metrics"],
    )
    # The task log names each worker (its address) with the rows it held.
    logs = " ".join(TaskLog.objects.filter(task=sharded).values_list("message", flat=True))
    for address, rows in held.items():
        assert address in logs and f"{rows:,}" in logs, (address, rows, logs)


# ----------------------------------------------------------------------------- (3) killed hosts


def test_celery_host_killed_mid_training_hands_it_to_the_other_host(cluster, api, credit_version, figures):
    config_set("tasks-heartbeat-timeout-seconds", REAPER_WINDOW)
    cluster.start_celery([cluster.hosts.host("h1"), cluster.hosts.host("h2")])
    [task_id] = queue_trainings(
        api, credit_version.dataset_id, 1, prefix="killed", params=LONG, resources=ONE_THREAD
    )

    def mid_fit() -> Task | None:
        task = Task.objects.get(pk=task_id)
        assert task.status in (TaskStatus.QUEUED, TaskStatus.PENDING, TaskStatus.RUNNING), task.error
        return task if task.status == TaskStatus.RUNNING and task.progress > 5 else None

    running = _poll(mid_fit, 90, "the training past its first round", cluster)
    victim = cluster.worker_of(running.worker)
    kill_group(victim.proc)  # the host's whole worker: main and pool process at once
    killed_at = time.monotonic()
    [task] = _wait_final([task_id], 120, cluster, reap=True)
    figures(
        "scale-out-celery-host-killed",
        f"{task.status} on {task.worker.split('@')[0]} {time.monotonic() - killed_at:.1f} s after "
        f"{victim.host.name} was killed (reaper window {REAPER_WINDOW} s), attempts {task.attempts}",
    )

    assert task.status == TaskStatus.COMPLETED, f"{task.error}\n{cluster.logs()}"
    survivor = cluster.worker_of(task.worker)
    assert survivor is not None and survivor.host != victim.host, (task.worker, victim.hostname)
    assert task.attempts == 2
    messages = list(TaskLog.objects.filter(task=task).values_list("message", flat=True))
    assert any("stopped responding; queued again" in m and victim.hostname in m for m in messages), messages
    assert ModelVersion.objects.filter(task=task).count() == 1


# When the Dask worker dies: while LightGBM's workers connect to each other (before round 1), or
# once the rounds run. A LightGBM worker whose peer never connects gives up after its time-out
# (DASK_LIGHTGBM_TIMEOUT_MINUTES) by aborting its whole process.
KILL_MOMENTS = {
    "network-setup": lambda progress: progress <= 3,
    "mid-rounds": lambda progress: progress > 5,
}


@pytest.mark.parametrize("moment", KILL_MOMENTS)
def test_dask_host_killed_mid_training_ends_the_task_never_stuck(
    cluster, api, numbers_version, figures, moment
):
    config_set("tasks-heartbeat-timeout-seconds", REAPER_WINDOW)
    h1, h2, h3 = (cluster.hosts.host(name) for name in ("h1", "h2", "h3"))
    cluster.start_dask([h2, h3])
    cluster.start_celery([h1], DASK_LIGHTGBM_TIMEOUT_MINUTES="1")
    params = {"numBoostRound": 3000, "learningRate": 0.001, "numLeaves": 63, "earlyStoppingRounds": 0}
    task_id = _train(api, numbers_version.dataset_id, "dask-killed", params, engine="dask")

    def training_on_both() -> bool:
        task = Task.objects.get(pk=task_id)
        assert task.status not in FINAL_STATUSES, f"ended before the kill: {task.status} {task.error}"
        if not KILL_MOMENTS[moment](task.progress):  # rounds move the progress past 5 %
            return False
        busy = dask_processing(cluster.scheduler)
        return sum(any("train_part" in key for key in keys) for keys in busy.values()) == 2

    _poll(training_on_both, 120, f"LightGBM on both Dask workers ({moment})", cluster, interval=0.1)
    progress = Task.objects.values_list("progress", flat=True).get(pk=task_id)
    kill_group(cluster.dask["h3"])
    killed_at = time.monotonic()
    # Bounded: LightGBM's peer time-out is 1 minute here; a task still running after 3 fails.
    [task] = _wait_final([task_id], 180, cluster, reap=True)
    figures(
        f"scale-out-dask-host-killed-{moment}",
        f"killed h3's Dask worker at {progress:.0f} %; the task ended {task.status} "
        f"{time.monotonic() - killed_at:.1f} s later: {task.error[:300]!r}",
    )

    assert task.status in (TaskStatus.FAILED, TaskStatus.COMPLETED), task.status
    if task.status == TaskStatus.FAILED:
        # Failed with the cause (the Dask side), not by the reaper: the Celery worker lived on.
        assert "stopped responding" not in task.error, task.error
        assert any(word in task.error.lower() for word in ("dask", "worker", "lightgbm")), task.error
        assert not ModelVersion.objects.filter(task=task).exists()
    else:
        assert ModelVersion.objects.filter(task=task).count() == 1


def _poll(predicate, timeout: float, what: str, cluster: Cluster, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{cluster.logs()}")

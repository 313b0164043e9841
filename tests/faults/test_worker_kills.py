"""Workers killed with SIGKILL mid-training, again and again: no training is lost or stuck.

Trainings are queued through the API and run by a real Celery worker. Each time one is
past its first boosting round the test SIGKILLs its pool process (the worker lives on and
forks another); after POOL_KILLS_PER_WORKER of those it SIGKILLs the whole worker instead
(main process and pool at once, as the OOM killer would), with every run on it, and starts
a new worker. The reaper (``tasks_reap``, which beat runs each minute) is run here every
REAPER_PERIOD seconds with OMM's own window setting at its minimum, so each kill is handed
back in seconds.

Every task must end completed (one model version each) or failed with the reaper's reason
at the attempt cap; none may be left queued or running once the window has passed again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

import pytest

from apps.core.config import config_get
from apps.models.models import ModelVersion
from apps.tasks import services
from apps.tasks.models import Task, TaskStatus
from tests.faults.conftest import Worker, config_set, percentile, queue_trainings

pytestmark = [pytest.mark.fault, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# The issue asks for 20 kills. Sixteen trainings under the default cap of two attempts: the
# ones killed twice end failed at the cap, the others complete. About a minute on either
# database: most of it is Celery noticing a killed pool process (its ``worker_lost_wait``, 10 s,
# during which that process's slot takes nothing new) and new workers starting. On a fast
# machine many trainings end before one is caught mid-fit: while the kills are short, another
# wave of TOP_UP trainings is queued once every earlier one has ended, up to MAX_TASKS.
KILLS = 20
TASKS = 16
TOP_UP = 16
MAX_TASKS = 160
# Pool processes: while some slots wait out a killed process, the others run trainings.
CONCURRENCY = 4
# Each worker lifetime sees this many pool processes killed, then the whole worker is killed.
POOL_KILLS_PER_WORKER = 4
# The reaper's window (``tasks-heartbeat-timeout-seconds``, whose minimum is 5) and how often
# it runs here; production runs it each minute with a 60 s window.
REAPER_WINDOW = 5
REAPER_PERIOD = 0.5
# Under a second of boosting at this learning rate: still long enough to be caught mid-fit. One
# thread each: OpenMP fits spinning on two shared cores slow each other tenfold.
TRAINING = {"numBoostRound": 60, "learningRate": 0.001}
RESOURCES = {"threads": 1}
# Past the data load: progress moves above 5 % with the first boosting round.
MID_FIT_PROGRESS = 5
DEADLINE_SECONDS = 300

RUNNING = TaskStatus.RUNNING
COMPLETED = TaskStatus.COMPLETED
FINAL = {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED}


def _pool_pid(worker: str) -> int:
    return int(worker.rsplit(":", 1)[1])


class Killer:
    """Runs the reaper as beat would, kills runs as the module says and keeps the tally."""

    def __init__(self, worker: Worker, ids: list[int]) -> None:
        self.worker, self.ids = worker, ids
        self.killed: dict[int, tuple[float, int]] = {}  # task -> (when, attempt) until handed back
        self.kill_to_reaped: list[float] = []
        self.pool_kills = self.whole_worker_kills = self.whole_worker_runs = 0
        self.pool_kills_now = 0  # in this worker's lifetime
        self.requeued = self.reaper_failed = 0
        self.missed = 0  # kills that came as the run finished: it completed, nothing to hand back
        self.last_reap = 0.0

    @property
    def kills(self) -> int:
        return self.pool_kills + self.whole_worker_runs

    def reap(self) -> None:
        if time.monotonic() - self.last_reap >= REAPER_PERIOD:
            reaped = services.tasks_reap()
            self.requeued += reaped["requeued"]
            self.reaper_failed += reaped["failed"]
            self.last_reap = time.monotonic()

    def rows(self) -> list[dict]:
        rows = list(
            Task.objects.filter(pk__in=self.ids).values("pk", "status", "attempts", "progress", "worker")
        )
        now = time.monotonic()
        for row in rows:
            if row["pk"] in self.killed:
                when, attempt = self.killed[row["pk"]]
                if row["status"] == COMPLETED and row["attempts"] == attempt:
                    self.missed += 1  # it committed its result before the signal landed
                    del self.killed[row["pk"]]
                elif row["status"] != RUNNING or row["attempts"] > attempt:
                    self.kill_to_reaped.append(now - when)
                    del self.killed[row["pk"]]
        return rows

    def kill_something(self, rows: list[dict]) -> None:
        mine = [
            row
            for row in rows
            if row["status"] == RUNNING
            and row["pk"] not in self.killed
            and row["worker"].startswith(self.worker.hostname + ":")
        ]
        target = next((row for row in mine if row["progress"] > MID_FIT_PROGRESS), None)
        if self.kills >= KILLS or target is None:
            return
        now = time.monotonic()
        if self.pool_kills_now < POOL_KILLS_PER_WORKER:
            with contextlib.suppress(ProcessLookupError):  # it may have just finished
                os.kill(_pool_pid(target["worker"]), signal.SIGKILL)
                self.killed[target["pk"]] = (now, target["attempts"])
                self.pool_kills += 1
                self.pool_kills_now += 1
        elif len(mine) == CONCURRENCY:
            # Only while every pool process runs a claimed task: a message the worker has taken
            # but not yet claimed would go down with it, and the reaper only sees running tasks.
            self.worker.kill()
            for row in mine:
                self.killed[row["pk"]] = (now, row["attempts"])
            self.whole_worker_kills += 1
            self.whole_worker_runs += len(mine)
            self.pool_kills_now = 0
            self.worker.start(wait=False)


def test_trainings_killed_mid_fit_twenty_times_all_end_and_none_is_stuck(
    worker_factory, api, credit_version, figures
):
    config_set("tasks-heartbeat-timeout-seconds", REAPER_WINDOW)
    # Killed runs hold a training slot until they are reaped; slots are not under test here.
    config_set("tasks-max-concurrent-trainings", 100)
    max_attempts = int(config_get("tasks-max-attempts"))
    worker = worker_factory(concurrency=CONCURRENCY)
    worker.start()
    ids = queue_trainings(
        api, credit_version.dataset_id, TASKS, prefix="killed", params=TRAINING, resources=RESOURCES
    )

    started = time.monotonic()
    killer = Killer(worker, ids)
    while True:
        killer.reap()
        rows = killer.rows()
        all_final = all(row["status"] in FINAL for row in rows)
        if killer.kills >= KILLS and not killer.killed and all_final:
            break
        if all_final and not killer.killed and len(ids) < MAX_TASKS:
            wave = queue_trainings(
                api,
                credit_version.dataset_id,
                TOP_UP,
                prefix=f"killed-{len(ids)}",
                params=TRAINING,
                resources=RESOURCES,
            )
            ids += wave
            killer.ids = ids
        if time.monotonic() - started > DEADLINE_SECONDS:
            pytest.fail(f"not done after {DEADLINE_SECONDS} s: {rows}\n{worker.logs()}")
        killer.kill_something(rows)
        time.sleep(0.05)
    busy_seconds = time.monotonic() - started
    # One more window with the reaper running: nothing comes back to life or stays behind.
    settle = time.monotonic() + REAPER_WINDOW + 1
    while time.monotonic() < settle:
        killer.reap()
        time.sleep(REAPER_PERIOD)

    tasks = list(Task.objects.filter(pk__in=ids))
    stuck = [t.pk for t in tasks if t.status not in FINAL]
    succeeded = [t for t in tasks if t.status == TaskStatus.COMPLETED]
    failed = [t for t in tasks if t.status == TaskStatus.FAILED]
    delays = killer.kill_to_reaped
    figures(
        "worker-kills",
        f"kills {killer.kills} ({killer.pool_kills} pool processes, {killer.whole_worker_kills} whole "
        f"workers of {CONCURRENCY} processes with {killer.whole_worker_runs} runs; {worker.lifetimes} "
        f"worker lifetimes), trainings {len(ids)}, re-queued {killer.requeued}, succeeded {len(succeeded)}, "
        f"failed {len(failed)} (at the cap of {max_attempts} attempts), stuck {len(stuck)}, kills that "
        f"came after the run's commit {killer.missed}; kill to "
        f"re-queue p50 {percentile(delays, 0.5):.1f} s, max {percentile(delays, 1.0):.1f} s (window "
        f"{REAPER_WINDOW} s, reaper every {REAPER_PERIOD} s); all ended in {busy_seconds:.0f} s",
    )
    assert killer.kills >= KILLS
    assert stuck == [], [(t.pk, t.status) for t in tasks]
    assert len(succeeded) + len(failed) == len(ids)  # none cancelled or lost
    # Each kill was handed back by the reaper exactly once, and no live run was taken for dead.
    assert killer.missed <= 1, vars(killer)  # a race of one signal with one commit, not a habit
    assert killer.requeued + killer.reaper_failed == killer.kills - killer.missed, vars(killer)
    assert len(failed) == killer.reaper_failed
    for task in failed:
        assert task.attempts == max_attempts and "stopped responding" in task.error, (task.pk, task.error)
    for task in succeeded:
        assert ModelVersion.objects.filter(task=task).count() == 1, task.pk
    assert ModelVersion.objects.count() == len(succeeded)  # a killed run registered nothing

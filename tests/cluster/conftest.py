"""Hosts for the scale-out tests: network namespaces made once per module, and the Celery
and Dask workers each test starts on them (stopped at the test's end).

The workers reach the *test* database and Redis through the forwarders on the bridge
(``Hosts.url``); they read and write the same MEDIA_ROOT / OMM_DATA_DIR on disk.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from apps.core.models import WorkerHeartbeat
from tests.cluster.hosts import (
    Host,
    Hosts,
    celery_worker_argv,
    dask_scheduler_argv,
    dask_worker_argv,
    netns_unavailable,
    stop_groups,
    wait_for_dask_workers,
)
from tests.conftest import database_url_for_subprocess, purge_queues, subprocess_env
from tests.faults.conftest import figures  # noqa: F401 - the fault suite's figure lines, shared

# h1..h3 run Celery and Dask workers; h4 runs the Dask scheduler (in a namespace too, so a
# killed run's scheduler is found and stopped with the rest by ``clean_stale``).
HOSTS = 4
SCHEDULER_HOST = "h4"
DASK_PORT = 8786
WORKER_START_SECONDS = 90


def cluster_unavailable() -> str | None:
    """Why the scale-out tests cannot run here (None when they can)."""
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql") or not settings.REDIS_URL:
        return (
            "workers on other hosts need PostgreSQL and Redis (set DATABASE_URL and REDIS_URL); "
            "the embedded SQLite database and file broker are on this host's disk only"
        )
    return netns_unavailable()


@pytest.fixture(scope="module")
def hosts() -> Iterator[Hosts]:
    reason = cluster_unavailable()
    if reason:
        pytest.skip(reason)
    with Hosts.create(HOSTS) as made:
        yield made


@dataclass
class CeleryWorker:
    host: Host
    hostname: str
    proc: object
    log: Path

    def ran(self, worker: str) -> bool:
        """Whether a task's ``worker`` field (``hostname:pid``) names this worker."""
        return worker.rsplit(":", 1)[0] == self.hostname


@dataclass
class Cluster:
    """What one test starts on the hosts; ``stop`` ends all of it."""

    hosts: Hosts
    tmp: Path
    celery: list[CeleryWorker] = field(default_factory=list)
    dask: dict[str, object] = field(default_factory=dict)  # host name -> process
    scheduler: str = ""
    _started: list = field(default_factory=list)

    def celery_env(self, **extra: str) -> dict[str, str]:
        env = subprocess_env()
        env["DATABASE_URL"] = self.hosts.url(database_url_for_subprocess())
        env["REDIS_URL"] = self.hosts.url(settings.REDIS_URL)
        if self.scheduler:
            env["DASK_SCHEDULER_ADDRESS"] = self.scheduler
        return {**env, **extra}

    def start_celery(self, on: list[Host], **env: str) -> list[CeleryWorker]:
        """A one-process Celery worker on every queue on each host; waits for all to beat."""
        started = []
        for host in on:
            hostname = f"{host.name}-{os.getpid()}@{host.address}"
            log = self.tmp / f"celery-{host.name}.log"
            proc = self.hosts.spawn(
                host, celery_worker_argv(hostname, settings.QUEUES), env=self.celery_env(**env), log=log
            )
            self._started.append(proc)
            started.append(CeleryWorker(host, hostname, proc, log))
        deadline = time.monotonic() + WORKER_START_SECONDS
        for worker in started:
            while not WorkerHeartbeat.objects.filter(hostname=worker.hostname).exists():
                if worker.proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"celery worker on {worker.host.name} did not start:\n{tail(worker.log)}")
                time.sleep(0.2)
        self.celery.extend(started)
        return started

    def start_dask(self, on: list[Host]) -> dict[str, str]:
        """A scheduler on its own host and one Dask worker on each of ``on``; {address: name}."""
        scheduler_host = self.hosts.host(SCHEDULER_HOST)
        self.scheduler = f"tcp://{scheduler_host.address}:{DASK_PORT}"
        # No PYTHONPATH: a Dask worker runs the pinned libraries, not OMM's code (the training
        # functions reach it pickled by value), as on a host where OMM is not installed.
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "PYTHONUNBUFFERED": "1"}
        self._started.append(
            self.hosts.spawn(
                scheduler_host,
                dask_scheduler_argv(scheduler_host.address, DASK_PORT),
                env=env,
                log=self.tmp / "dask-scheduler.log",
            )
        )
        for host in on:
            space = self.tmp / f"dask-{host.name}"
            space.mkdir(exist_ok=True)
            proc = self.hosts.spawn(
                host,
                dask_worker_argv(self.scheduler, host, space),
                env=env,
                log=self.tmp / f"dask-{host.name}.log",
            )
            self._started.append(proc)
            self.dask[host.name] = proc
        try:
            return wait_for_dask_workers(self.scheduler, len(on), timeout=WORKER_START_SECONDS)
        except (OSError, TimeoutError) as exc:
            logs = "\n".join(tail(p) for p in sorted(self.tmp.glob("dask-*.log")))
            pytest.fail(f"the Dask cluster did not start ({exc}):\n{logs}")

    def worker_of(self, task_worker: str) -> CeleryWorker | None:
        return next((w for w in self.celery if w.ran(task_worker)), None)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{tail(p)}" for p in sorted(self.tmp.glob("*.log")))

    def stop(self) -> None:
        stop_groups(self._started, timeout=10)
        self._started = []


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


@pytest.fixture
def cluster(hosts, transactional_db, tmp_path) -> Iterator[Cluster]:
    purge_queues()
    made = Cluster(hosts, tmp_path)
    try:
        yield made
    finally:
        # Stopped before the test database is flushed: workers write their last rows at exit.
        made.stop()

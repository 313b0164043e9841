"""Scaling out on one machine: Celery and Dask workers on separate "hosts" (network namespaces).

    REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python -m benchmarks.bench_scale_out   # as root
    # quick: --trainings 6 --workers 1,2 --dask-rows 50000; throughput only: --no-dask

Needs root (``ip netns``), PostgreSQL and Redis. A throwaway database is created (and
dropped) on the server named by DATABASE_URL (default postgres://postgres@127.0.0.1:5432);
REDIS_URL must name a Redis database no other run uses (the Celery queues live there);
data and artifacts go to a temporary OMM_DATA_DIR that is removed at the end. The hosts
(tests/cluster/hosts.py) are a bridge with one namespace per host, each with its own
address; PostgreSQL and Redis stay on loopback and are reached through TCP forwarders on
the bridge; the files through the shared disk. Everything is removed at the end.

Measured:
1. throughput of ``--trainings`` independent LightGBM trainings (one thread each) queued at
   once through the API, with 1, 2 and 3 Celery worker hosts (one process each):
   trainings per minute from the first POST to the last ``completed_at``, the ratio to one
   host, and how many each host ran;
2. one training on the dask engine, its rows sharded over Dask workers on two hosts (the
   Celery worker on a third is only the cluster's client; the scheduler has a fourth),
   against the same training on the local engine of a Celery worker: seconds in the
   worker, AUC of both, the rows each Dask worker held.

The synthetic data is ``bench_training``'s (float32 f0..f{cols-1}, a learnable int8 label),
registered as a validated dataset version directly: ingestion is not what is measured.
The machine has 2 cores shared with whatever else runs: the load average and the cores
other processes used during each phase are printed with its figures; with more hosts than
free cores, throughput cannot rise further, so read the ratios with the cores at hand.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

from benchmarks.bench_training import _database, _machine_busy, _purge_queues, generate, register_dataset

ROOT = Path(__file__).resolve().parent.parent
LABEL = "y"
TRAINING_QUEUES = "training,default"


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--trainings", type=int, default=12, help="independent trainings per run (12)")
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the throughput data (20,000)")
    parser.add_argument("--cols", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=100, help="boosting rounds per training (100)")
    parser.add_argument("--workers", default="1,2,3", help="Celery worker hosts per run (1,2,3)")
    parser.add_argument("--dask-rows", type=int, default=200_000, help="rows of the dask training (200,000)")
    parser.add_argument("--dask-rounds", type=int, default=100)
    parser.add_argument("--no-dask", action="store_true", help="measure the throughput only")
    args = parser.parse_args()
    args.workers = sorted({int(n) for n in args.workers.split(",")})
    if args.trainings < 1 or args.rows < 1000 or not args.workers or min(args.workers) < 1:
        parser.error("need --trainings >= 1, --rows >= 1000 and worker counts >= 1")
    return args


def _training(dataset_id: int, name: str, rounds: int, **extra) -> dict:
    return {
        "name": name,
        "dataset": dataset_id,
        "label": LABEL,
        "algorithm": "lightgbm",
        "objective": "binary",
        "params": {"num_boost_round": rounds, "learning_rate": 0.1, "early_stopping_rounds": 0},
        "resourceConfig": {"threads": 1},
        "split": "random",
        **extra,
    }


def _wait_final(ids: list[int], timeout: float) -> list:
    from apps.tasks.models import FINAL_STATUSES, Task

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = list(Task.objects.filter(pk__in=ids).order_by("pk"))
        if all(t.status in FINAL_STATUSES for t in tasks):
            return tasks
        time.sleep(0.5)
    raise SystemExit(f"tasks {ids} not final after {timeout:.0f} s")


def _start_celery(hosts, on: list, tmp: Path, env: dict[str, str]) -> list[tuple[object, str]]:
    from apps.core.models import WorkerHeartbeat
    from tests.cluster.hosts import celery_worker_argv

    started = []
    for host in on:
        hostname = f"{host.name}-{os.getpid()}@{host.address}"
        argv = celery_worker_argv(hostname, TRAINING_QUEUES.split(","))
        started.append((hosts.spawn(host, argv, env=env, log=tmp / f"celery-{host.name}.log"), hostname))
    deadline = time.monotonic() + 120
    for proc, hostname in started:
        while not WorkerHeartbeat.objects.filter(hostname=hostname).exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"celery worker {hostname} did not start; see {tmp}")
            time.sleep(0.2)
    return started


def _cpu_seconds(procs: list) -> float:
    """CPU seconds used so far by these processes and their children (a worker's pool)."""
    import psutil

    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(proc.pid)
            for p in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = p.cpu_times()
                    total += times.user + times.system
    return total


def _stop(started: list) -> None:
    from tests.cluster.hosts import stop_groups

    stop_groups([proc for proc, *_ in started], timeout=20)


class Phase:
    """Wall time, load average and the cores used by processes outside this benchmark."""

    def __enter__(self) -> Phase:
        self.load = os.getloadavg()[0]
        self.busy = _machine_busy()
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.started
        self.cores = (_machine_busy() - self.busy) / self.seconds


def throughput(client, hosts, dataset_id: int, n_workers: int, args, tmp: Path, env: dict) -> dict:
    from django.db.models import Max

    from apps.tasks.models import Task

    _purge_queues()
    workers = _start_celery(hosts, hosts.hosts[:n_workers], tmp, env)
    procs = [proc for proc, _ in workers]
    try:
        cpu_before = _cpu_seconds(procs)
        with Phase() as phase:
            posted = time.time()
            ids = []
            for i in range(args.trainings):
                body = _training(dataset_id, f"tp-{n_workers}-{i}", args.rounds)
                response = client.post("/api/tasks/training", body, format="json")
                assert response.status_code == 201, response.content[:2000]
                ids.append(response.json()["data"]["id"])
            tasks = _wait_final(ids, 1800)
        worker_cores = (_cpu_seconds(procs) - cpu_before) / phase.seconds
    finally:
        _stop(workers)
    failed = [(t.pk, t.error) for t in tasks if t.status != "completed"]
    if failed:
        raise SystemExit(f"trainings failed with {n_workers} worker(s): {failed}")
    last = Task.objects.filter(pk__in=ids).aggregate(last=Max("completed_at"))["last"].timestamp()
    seconds = last - posted
    by_host = Counter(t.worker.split("-", 1)[0] for t in tasks)
    return {
        "workers": n_workers,
        "seconds": seconds,
        "per_minute": len(ids) / seconds * 60,
        "by_host": dict(sorted(by_host.items())),
        "load": phase.load,
        "cores": phase.cores,
        "worker_cores": worker_cores,
    }


def dask_vs_local(client, hosts, dataset_id: int, args, tmp: Path, env: dict) -> dict:
    from tests.cluster.hosts import dask_scheduler_argv, dask_worker_argv, wait_for_dask_workers

    _purge_queues()
    h1, h2, h3, sched = hosts.hosts[0], hosts.hosts[1], hosts.hosts[2], hosts.hosts[-1]
    port = 8786  # the scheduler has a host of its own (the last one)
    scheduler = f"tcp://{sched.address}:{port}"
    # No PYTHONPATH: OMM's code reaches the Dask workers pickled by value.
    dask_env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "PYTHONUNBUFFERED": "1"}
    started = [
        (hosts.spawn(sched, dask_scheduler_argv(sched.address, port), env=dask_env, log=tmp / "sch.log"),)
    ]
    for host in (h2, h3):
        space = tmp / f"dask-{host.name}"
        space.mkdir()
        argv = dask_worker_argv(scheduler, host, space)
        started.append((hosts.spawn(host, argv, env=dask_env, log=tmp / f"dask-{host.name}.log"),))
    try:
        wait_for_dask_workers(scheduler, 2, timeout=120)
        started += _start_celery(hosts, [h1], tmp, {**env, "DASK_SCHEDULER_ADDRESS": scheduler})
        out = {}
        for engine in ("local", "dask"):
            body = _training(dataset_id, f"dask-vs-local-{engine}", args.dask_rounds, engine=engine)
            with Phase() as phase:
                response = client.post("/api/tasks/training", body, format="json")
                if response.status_code != 201:
                    return {"error": f"{engine}: HTTP {response.status_code} {response.content[:500]!r}"}
                [task] = _wait_final([response.json()["data"]["id"]], 1800)
            if task.status != "completed":
                return {"error": f"{engine}: task {task.status}: {task.error}"}
            out[engine] = {
                "seconds": (task.completed_at - task.started_at).total_seconds(),
                "result_seconds": task.result.get("seconds"),
                "auc": task.result["metrics"].get("auc"),
                "dask_workers": task.result.get("daskWorkers"),
                "load": phase.load,
                "cores": phase.cores,
            }
        return out
    finally:
        _stop(started)


def report(args, runs: list[dict], dask: dict | None) -> None:
    print(
        f"\nThroughput: {args.trainings} LightGBM trainings ({args.rows:,} x {args.cols}, "
        f"{args.rounds} rounds, 1 thread each), Celery worker hosts of 1 process each, "
        f"{os.cpu_count()} cores on the machine"
    )
    print(
        f"{'hosts':>5} {'seconds':>8} {'per min':>8} {'ratio':>6}  {'ran (host: n)':<24} "
        "load  busy cores  workers' cores"
    )
    base = runs[0]["per_minute"] if runs and runs[0]["workers"] == 1 else None
    for r in runs:
        ratio = f"{r['per_minute'] / base:6.2f}" if base else "     -"
        ran = ", ".join(f"{h}: {n}" for h, n in r["by_host"].items())
        print(
            f"{r['workers']:5d} {r['seconds']:8.1f} {r['per_minute']:8.1f} {ratio}  {ran:<24}"
            f" {r['load']:4.1f}  {r['cores']:10.2f}  {r['worker_cores']:14.2f}"
        )
    print(
        "  load: the 1-minute load average at the start; busy cores: the whole machine's during the run;\n"
        "  workers' cores: the CPU the Celery workers (main and pool processes) got, on average"
    )
    if dask is None:
        return
    print(
        f"\nOne training, {args.dask_rows:,} x {args.cols}, {args.dask_rounds} rounds: "
        "dask engine on two hosts vs local"
    )
    if "error" in dask:
        print(f"  not measured: {dask['error']}")
        return
    for engine in ("local", "dask"):
        r = dask[engine]
        auc = "-" if r["auc"] is None else f"{r['auc']:.4f}"
        print(
            f"  {engine:5} {r['seconds']:7.1f} s in the worker (result {r['result_seconds']} s)  AUC {auc}"
            f"  load {r['load']:.1f}, busy cores {r['cores']:.2f}"
        )
    if dask["dask"]["dask_workers"]:
        held = ", ".join(f"{a}: {n:,}" for a, n in dask["dask"]["dask_workers"].items())
        print(f"  rows held by each Dask worker: {held}")
    if dask["local"]["auc"] is not None and dask["dask"]["auc"] is not None:
        print(f"  AUC dask - local {dask['dask']['auc'] - dask['local']['auc']:+.4f}")
        print(f"  seconds dask / local {dask['dask']['seconds'] / dask['local']['seconds']:.2f}x")


def main() -> None:
    args = _args()
    if os.geteuid() != 0:
        sys.exit("bench_scale_out needs root: it makes network namespaces (ip netns).")
    if not os.environ.get("REDIS_URL"):
        sys.exit("bench_scale_out needs REDIS_URL (a Redis database no other run uses).")
    server = urlparse(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres")
    if not server.scheme.startswith("postgres"):
        sys.exit(
            "bench_scale_out needs PostgreSQL: DATABASE_URL=postgres://... (any database on the server)."
        )
    database_url = server._replace(path=f"/omm_bench_scale_out_{os.getpid()}").geturl()
    data_dir = Path(tempfile.mkdtemp(prefix="omm-bench-scale-out-"))
    os.environ.update(
        DATABASE_URL=database_url,
        OMM_DATA_DIR=str(data_dir),
        CACHE_KEY_PREFIX=f"omm-bench-scale-out-{os.getpid()}",
        DJANGO_SETTINGS_MODULE="omm.settings",
    )
    os.environ.pop("MEDIA_ROOT", None)
    _database("create", database_url)
    runs: list[dict] = []
    dask = None
    hosts = None
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from rest_framework.test import APIClient

        from apps.users.models import Role
        from apps.users.services import user_create
        from tests.cluster.hosts import Hosts

        settings.ALLOWED_HOSTS = ["*"]
        call_command("migrate", verbosity=0)
        username = f"bench-{uuid.uuid4().hex[:8]}"
        user = user_create(
            username=username,
            email=f"{username}@bench.local",
            password=uuid.uuid4().hex + "Aa1!",
            role=Role.ADMIN,
        )
        client = APIClient()
        client.force_authenticate(user)
        (settings.MEDIA_ROOT / "datasets").mkdir(parents=True, exist_ok=True)
        small = settings.MEDIA_ROOT / "datasets" / f"scale-out-{args.rows}x{args.cols}.parquet"
        small_version = register_dataset(small, generate(small, args.rows, args.cols), args.rows, user)

        hosts = Hosts.create(max(3, *args.workers) + 1)  # the last one runs the Dask scheduler
        env = {
            **os.environ,
            "DATABASE_URL": hosts.url(database_url),
            "REDIS_URL": hosts.url(os.environ["REDIS_URL"]),
            "PYTHONUNBUFFERED": "1",
            "LANGUAGE_CODE": "en",
            "OMM_HEARTBEAT_SECONDS": "1",
        }
        for n in args.workers:
            tmp = data_dir / f"run-{n}"
            tmp.mkdir()
            runs.append(throughput(client, hosts, small_version.dataset_id, n, args, tmp, env))
            print(f"  {n} host(s): {runs[-1]['per_minute']:.1f} trainings/min", file=sys.stderr)
        if not args.no_dask:
            big = settings.MEDIA_ROOT / "datasets" / f"scale-out-{args.dask_rows}x{args.cols}.parquet"
            big_version = register_dataset(
                big, generate(big, args.dask_rows, args.cols), args.dask_rows, user
            )
            tmp = data_dir / "dask"
            tmp.mkdir()
            dask = dask_vs_local(client, hosts, big_version.dataset_id, args, tmp, env)
        print(f"  forwarded connections by host: {json.dumps(dict(hosts.peers()))}", file=sys.stderr)
    finally:
        if hosts is not None:
            hosts.close()
        with contextlib.suppress(Exception):
            _purge_queues()
        with contextlib.suppress(Exception):
            from django.core.cache import cache

            cache.clear()  # only keys under this run's CACHE_KEY_PREFIX
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        _database("drop", database_url)
        shutil.rmtree(data_dir, ignore_errors=True)
    report(args, runs, dask)


if __name__ == "__main__":
    main()

"""A Dask scheduler and workers as plain processes, for the tests of the dask engine.

The processes run without Django and without OMM's code on their path, as ``dask worker``
runs on another host: whatever the engine sends them must be pure and pickled by value.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

DASK = Path(sys.executable).with_name("dask")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def plain_dask_cluster(directory: Path, *, workers: int = 2) -> Iterator[str]:
    """A ``dask scheduler`` and ``workers`` single-threaded ``dask worker`` processes started
    in ``directory``; yields the scheduler's address and stops them on exit."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    scheduler_file = directory / "scheduler.json"
    started: list[subprocess.Popen] = []
    common = {"cwd": directory, "env": env, "start_new_session": True}
    try:
        started.append(
            subprocess.Popen(
                [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                 "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
                **common,
            )
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            if time.monotonic() > deadline or started[0].poll() is not None:
                raise RuntimeError("the dask scheduler did not start")
            time.sleep(0.2)
        time.sleep(0.2)  # the file is written in one go, but give it a moment
        address = json.loads(scheduler_file.read_text())["address"]
        started.append(
            subprocess.Popen(
                [DASK, "worker", address, "--nworkers", str(workers), "--nthreads", "1",
                 "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                 "--local-directory", str(directory / "workers")],
                **common,
            )
        )  # fmt: skip
        from distributed import Client

        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address
    finally:
        for proc in reversed(started):
            _stop(proc)


def workers_modules(address: str, module: str) -> list[tuple[bool, bool]]:
    """For each worker of the cluster at ``address``: whether ``module`` is imported, and
    whether it could be."""
    from distributed import Client

    def probe(name: str = module) -> tuple[bool, bool]:
        import importlib.util
        import sys

        return name in sys.modules, importlib.util.find_spec(name) is not None

    with Client(address, timeout=30, set_as_default=False) as client:
        return list(client.run(probe).values())

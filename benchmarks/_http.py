"""Shared by the benchmarks that drive OMM over HTTP: gunicorn as ``./ommctl up`` runs it,
and load generators (open loop at a fixed rate, closed loop, sequential) with percentiles.

The port is ``BENCH_PORT`` (default 8765); a benchmark may set ``_http.PORT`` before
starting its server, so two benchmarks can run side by side.
"""

from __future__ import annotations

import http.client
import math
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8765"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _post(path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def open_loop(path: str, bodies: list[bytes], headers: dict, rate: float, seconds: float) -> dict:
    """Send at a fixed rate; latency from the scheduled time of each request."""
    jobs: queue.Queue = queue.Queue()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker() -> None:
        while True:
            item = jobs.get()
            if item is None:
                return
            due, body = item
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                status, _ = _post(path, body, headers)
                ok = status == 200
            except OSError:
                ok = False
            done = time.perf_counter()
            with lock:
                latencies.append((done - due) * 1000)
                if not ok:
                    errors[0] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(24)]
    for t in threads:
        t.start()
    start = time.perf_counter() + 0.2
    total = int(rate * seconds)
    for i in range(total):
        jobs.put((start + i / rate, bodies[i % len(bodies)]))
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    return {
        "sent": total,
        "errors": errors[0],
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
    }


def closed_loop(path: str, bodies: list[bytes], headers: dict, clients: int, seconds: float) -> float:
    """Requests/s completed by ``clients`` back-to-back senders."""
    stop = time.perf_counter() + seconds
    counts = [0] * clients
    failures = [0] * clients

    def worker(k: int) -> None:
        rng = random.Random(k)
        while time.perf_counter() < stop:
            status, _ = _post(path, bodies[rng.randrange(len(bodies))], headers)
            if status == 200:
                counts[k] += 1
            else:
                failures[k] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if sum(failures):
        print(f"  ({sum(failures)} failed requests on {path})")
    return sum(counts) / (time.perf_counter() - started)


def sequential(path: str, bodies: list[bytes], headers: dict) -> dict:
    latencies = []
    for body in bodies:
        started = time.perf_counter()
        status, content = _post(path, body, headers)
        latencies.append((time.perf_counter() - started) * 1000)
        assert status == 200, content[:300]
    return {"p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99)}


def start_server(
    settings_module: str = "omm.settings", env: dict[str, str] | None = None, extra: Sequence[str] = ()
) -> subprocess.Popen:
    """gunicorn serving OMM with 2 sync workers on ``PORT``, once it answers /health."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "PYTHONPATH": str(ROOT), **(env or {})}
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "omm.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "2",
            "--log-level",
            "warning",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            conn.request("GET", "/health")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("gunicorn did not start")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)

"""The fault suite's shared pieces: figures printed even under ``-q``, gunicorn serving the test
database as ``./ommctl up`` runs it, Celery workers that may be killed, HTTP load from threads,
and a promoted credit model to score with.

Every scenario drives real processes (gunicorn, celery, redis-server, PostgreSQL backends);
nothing is mocked.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from apps.core.config import config_invalidate
from apps.core.models import SystemConfig, WorkerHeartbeat
from tests.conftest import ROOT, purge_queues, subprocess_env

FIGURES = pytest.StashKey[list[str]]()


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def on_redis() -> bool:
    return bool(settings.REDIS_URL)


# ----------------------------------------------------------------------------- figures


@pytest.fixture
def figures(request) -> Callable[[str, str], None]:
    """``figures(name, text)`` writes ``FAULT name: text`` to the terminal at once (captured
    output or not) and again in the run's summary, so CI logs show every scenario's numbers."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    lines = request.config.stash.setdefault(FIGURES, [])

    def write(name: str, text: str) -> None:
        line = f"FAULT {name}: {text}"
        lines.append(line)
        if reporter is None:
            sys.stdout.write(line + "\n")
            return
        # As capsys.disabled(): straight to the terminal, even while the test's output is captured.
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write("\n")  # the progress line (dots or the test's name) is mid-way
            reporter.write_line(line)

    return write


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("OMM fault figures")
        for line in lines:
            terminalreporter.write_line(line)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def wait_for(predicate: Callable[[], object], timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    detail = log.read_text()[-4000:] if log is not None and log.exists() else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{detail}")


def queue_trainings(api, dataset_id: int, n: int, *, prefix: str, params: dict, resources: dict) -> list[int]:
    """Queue ``n`` trainings through the API as an analyst would; their task ids."""
    ids = []
    for i in range(n):
        body = {"name": f"{prefix}-{i}", "dataset": dataset_id, "params": params, "resourceConfig": resources}
        response = api.post("/api/tasks/training", body, format="json")
        assert response.status_code == 201, response.content
        ids.append(response.json()["data"]["id"])
    return ids


def config_set(key: str, value: float) -> None:
    """Change a setting as an admin does; every process reads it through the shared cache."""
    SystemConfig.objects.update_or_create(key=key, defaults={"value": value, "value_type": "number"})
    config_invalidate(key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop_group(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to the main process (it stops its children itself), then SIGKILL to any left."""
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


# ----------------------------------------------------------------------------- processes


class Worker:
    """A ``celery worker`` on every queue against the test database, started and killed at will."""

    def __init__(self, tmp: Path, *, concurrency: int = 1, env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.concurrency = concurrency
        self.env = {**subprocess_env(), **(env or {})}
        self.lifetimes = 0
        self.proc: subprocess.Popen | None = None
        self.hostname = ""
        self.log = tmp / "worker-0.log"

    def start(self, *, wait: bool = True, timeout: float = 60) -> None:
        """Start a new worker (a new hostname each time); ``wait`` for its first liveness row."""
        self.lifetimes += 1
        self.hostname = f"fault-{os.getpid()}-{self.lifetimes}@localhost"
        self.log = self.tmp / f"worker-{self.lifetimes}.log"
        command = [
            sys.executable,
            *("-m", "celery", "-A", "omm", "worker", "-Q", ",".join(settings.QUEUES)),
            *("--hostname", self.hostname, "--concurrency", str(self.concurrency), "--pool", "prefork"),
            *("--loglevel", "INFO", "--without-gossip", "--without-mingle"),
        ]
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while wait and not WorkerHeartbeat.objects.filter(hostname=self.hostname).exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"celery worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole worker: its main process and every pool process at once."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc)

    def logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.tmp.glob("worker-*.log")))


@pytest.fixture
def worker_factory(transactional_db, tmp_path) -> Iterator[Callable[..., Worker]]:
    """Make (not start) workers; every one still running is stopped at the end."""
    purge_queues()
    made: list[Worker] = []

    def make(**kwargs) -> Worker:
        path = tmp_path / f"w{len(made)}"
        path.mkdir()
        made.append(Worker(path, **kwargs))
        return made[-1]

    yield make
    for worker in made:
        worker.stop()


@dataclass
class Server:
    """gunicorn serving OMM on ``port``."""

    port: int
    proc: subprocess.Popen
    log: Path

    def call(self, method: str, path: str, body: object = None, token: str = "", timeout: float = 30):
        return http_call(self.port, method, path, body=body, token=token, timeout=timeout)


@pytest.fixture
def omm_server(transactional_db, tmp_path) -> Iterator[Server]:
    """gunicorn with 2 sync workers on the test database, as ``./ommctl up`` starts it."""
    port = free_port()
    metrics = tmp_path / "prometheus"
    metrics.mkdir()
    log = tmp_path / "gunicorn.log"
    env = {**subprocess_env(), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    command = [str(Path(sys.executable).parent / "gunicorn"), "omm.wsgi", "--bind", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        [*command, "--workers", "2", "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(OSError):
            if http_call(port, "GET", "/health", timeout=2)[0]:
                break
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop_group(proc)
            pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    server = Server(port, proc, log)
    yield server
    # Stopped before the database is flushed: each worker writes its waiting audit rows at exit.
    _stop_group(proc)


# ----------------------------------------------------------------------------- HTTP


def http_call(
    port: int, method: str, path: str, *, body: object = None, token: str = "", timeout: float = 30
) -> tuple[int, bytes]:
    """One request on a new connection (gunicorn's sync workers close each one anyway)."""
    headers = {"Accept-Language": "en"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass(frozen=True)
class Request:
    kind: str
    method: str
    path: str
    body: object = None


@dataclass(frozen=True)
class Reply:
    kind: str
    status: int  # 0: no answer (refused, reset, timed out)
    started: float  # seconds since the load began
    seconds: float
    detail: str = ""  # the start of a failed answer


@dataclass
class LoadResult:
    replies: list[Reply] = field(default_factory=list)
    seconds: float = 0.0

    def statuses(self) -> Counter:
        return Counter(r.status for r in self.replies)

    def server_errors(self, since: float = -1.0, until: float = math.inf) -> list[Reply]:
        return [r for r in self.replies if (r.status >= 500 or r.status == 0) and since <= r.started < until]

    def failed(self) -> list[Reply]:
        return [r for r in self.replies if not 200 <= r.status < 300]

    def latencies_ms(self) -> list[float]:
        return [r.seconds * 1000 for r in self.replies]

    def summary(self) -> str:
        lat = self.latencies_ms()
        statuses = " ".join(f"{code}x{n}" for code, n in sorted(self.statuses().items()))
        rate = len(self.replies) / self.seconds
        return (
            f"{len(self.replies)} requests in {self.seconds:.1f} s = {rate:.1f}/s, "
            f"p50 {percentile(lat, 0.5):.0f} ms, p99 {percentile(lat, 0.99):.0f} ms, statuses {statuses}"
        )


def run_load(
    server: Server,
    *,
    users: int,
    seconds: float,
    pick: Callable[[random.Random], Request],
    tokens: list[str],
    during: Callable[[float], None] | None = None,
) -> LoadResult:
    """``users`` threads send back-to-back requests chosen by ``pick`` for ``seconds``.

    ``during(started)`` runs in the calling thread meanwhile (the fault to inject)."""
    result = LoadResult()
    lock = threading.Lock()
    started = time.perf_counter()
    stop = started + seconds

    def user(k: int) -> None:
        rng = random.Random(k)
        token = tokens[k % len(tokens)]
        while (now := time.perf_counter()) < stop:
            request = pick(rng)
            try:
                status, body = http_call(
                    server.port, request.method, request.path, body=request.body, token=token
                )
            except OSError as exc:
                status, body = 0, repr(exc).encode()
            done = time.perf_counter()
            detail = "" if 200 <= status < 300 else f"{request.method} {request.path}: {body[:300]!r}"
            with lock:
                result.replies.append(Reply(request.kind, status, now - started, done - now, detail))

    threads = [threading.Thread(target=user, args=(k,), daemon=True) for k in range(users)]
    for t in threads:
        t.start()
    if during is not None:
        during(started)
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - started
    return result


def token_for(user) -> str:
    from apps.users.authentication import RoleTokenObtainPairSerializer

    return str(RoleTokenObtainPairSerializer.get_token(user).access_token)


# ----------------------------------------------------------------------------- data


@dataclass
class Scoring:
    """A promoted credit model and records to score with."""

    model_id: int
    version_id: int
    records: list[dict]

    def predict(self, rng: random.Random) -> Request:
        record = self.records[rng.randrange(len(self.records))]
        return Request("predict", "POST", f"/api/models/{self.model_id}/predict", {"record": record})


@pytest.fixture
def scoring(admin_user, credit_version) -> Scoring:
    from apps.datasets.demo_data import credit_frame
    from apps.models import services
    from tests.models.test_serving import _record, _train

    version = _train(admin_user, credit_version.dataset_id, seed=1, rounds=20)
    services.version_activate(version=version, user=admin_user, reason="fault suite")
    frame = credit_frame(3000, seed=11)
    # Distinct records, so the response cache rarely answers for the model.
    records = [_record(version, frame, i) for i in range(1000)]
    return Scoring(version.model_id, version.pk, records)

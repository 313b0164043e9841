"""Serving with Redis up, then killed: prediction latency and the answer to queued work.

    .venv/bin/python -m benchmarks.bench_degraded [--requests 200]

A throwaway ``redis-server`` (cache and Celery broker) is started on a free port; OMM runs
in this process on SQLite (or on DATABASE_URL when set) through Django's test client. A
small LightGBM model of the demo credit data is trained and promoted. Measured:

1. single-record ``POST /api/models/{id}/predict``, N sequential requests of distinct
   records (the response cache cannot answer them), p50/p99, with Redis up and with
   Redis killed (the cache breaker skips Redis after the first failure);
2. ``POST /api/tasks/training`` with the broker killed: the status (503
   queue_unavailable) and the time it took.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import tempfile
import time

from benchmarks._http import percentile


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.02)
    proc.kill()
    raise SystemExit(f"redis-server did not start on port {port}")


def _setup() -> tuple[object, int, int, list[bytes]]:
    """Migrate, upload and validate the credit data, train and promote; return
    (client, model id, dataset id, request bodies)."""
    import django

    django.setup()
    import numpy as np
    import pandas as pd
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client

    from apps.datasets import services as datasets
    from apps.datasets.demo_data import credit_frame
    from apps.models import services, training
    from apps.users.authentication import RoleTokenObtainPairSerializer
    from apps.users.models import Role, User

    call_command("migrate", verbosity=0)
    user, _ = User.objects.get_or_create(
        username="bench-degraded", defaults={"email": "bench-degraded@bench.local", "role": Role.ADMIN}
    )
    token = RoleTokenObtainPairSerializer.get_token(user).access_token
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")

    frame = credit_frame(5000, seed=5)
    upload = SimpleUploadedFile("credit.csv", frame.to_csv(index=False).encode())
    fields = {
        "name": "bench-credit",
        "kind": "tabular",
        "labelColumn": "is_bad",
        "timeColumn": "application_date",
    }
    response = client.post("/api/datasets", {"file": upload, **fields})
    assert response.status_code == 201, response.content[:300]
    created = response.json()["data"]
    datasets.dataset_version_validate(version_id=created["id"])

    features = [c for c in frame.columns if c not in ("application_id", "application_date", "is_bad")]
    spec = training.TrainingSpec(
        algorithm="lightgbm",
        objective="binary",
        label="is_bad",
        features=features,
        params={"num_boost_round": 50, "learning_rate": 0.1, "num_leaves": 31},
        split="random",
        validation_share=0.2,
        seed=1,
        num_threads=2,
    )
    result = training.train(spec, frame)
    stored = services.artifact_store(result=result)
    version, _ = services.version_register_trained(
        model_name=f"bench-degraded-{int(time.time())}", result=result, stored=stored, user=user
    )
    services.version_activate(version=version, user=user, reason="benchmark")
    bodies = [
        json.dumps(
            {
                "record": {
                    k: (None if pd.isna(v) else (v.item() if isinstance(v, np.generic) else v))
                    for k, v in r.items()
                }
            }
        ).encode()
        for r in frame[features].to_dict(orient="records")
    ]
    return client, version.model_id, created["dataset"], bodies


def _predict(client, path: str, bodies: list[bytes]) -> dict:
    latencies = []
    for body in bodies:
        started = time.perf_counter()
        response = client.post(path, body, content_type="application/json")
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    return {"p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    port = _free_port()
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    os.environ.setdefault("OMM_DATA_DIR", tempfile.mkdtemp(prefix="omm-bench-degraded-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omm.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    redis = _start_redis(port)
    try:
        client, model_id, dataset_id, bodies = _setup()
        path = f"/api/models/{model_id}/predict"
        n = args.requests
        _predict(client, path, bodies[-50:])  # load the model, warm the connections
        up = _predict(client, path, bodies[:n])
        redis.kill()
        redis.wait()
        down = _predict(client, path, bodies[n : 2 * n])
        print(f"single-record predict, {n} sequential requests (in-process client, distinct records):")
        print(f"  Redis up      p50 {up['p50']:6.2f} ms  p99 {up['p99']:6.2f} ms")
        print(f"  Redis killed  p50 {down['p50']:6.2f} ms  p99 {down['p99']:6.2f} ms")

        body = json.dumps({"name": "bench", "dataset": dataset_id}).encode()
        started = time.perf_counter()
        response = client.post("/api/tasks/training", body, content_type="application/json")
        took = time.perf_counter() - started
        code = response.json().get("code", "")
        print(f"training POST with the broker killed: {response.status_code} {code} in {took * 1000:.0f} ms")
    finally:
        if redis.poll() is None:
            redis.kill()


if __name__ == "__main__":
    main()

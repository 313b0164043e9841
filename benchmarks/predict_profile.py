"""Where one single-record prediction request spends its time, in process, through the WSGI stack.

    DATABASE_URL=postgres://... REDIS_URL=redis://... \\
    .venv/bin/python -m benchmarks.predict_profile [--requests 2000] [--top 40] [--bare] [--own] [--cpu]

Registers and promotes the prediction benchmark's model (``bench_predict.setup``), then
sends requests through Django's WSGI handler (all middleware, no sockets) and prints the
mean cost per request and the cProfile functions with the most cumulative time. ``--bare``
profiles the bare peer view instead, for comparison.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--bare", action="store_true", help="profile the bare JsonResponse peer")
    parser.add_argument("--own", action="store_true", help="sort by time spent in each function itself")
    parser.add_argument("--cpu", action="store_true", help="count this thread's CPU time, not waits")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("predict_profile needs DATABASE_URL (PostgreSQL) and REDIS_URL, as production runs.")
    os.environ.setdefault("OMM_DATA_DIR", tempfile.mkdtemp(prefix="omm-predict-profile-"))
    from benchmarks.bench_predict import setup

    model_id, token, artifact, records = setup(Path(os.environ["OMM_DATA_DIR"]))
    os.environ["BENCH_ARTIFACT"] = str(artifact)
    from django.conf import settings
    from django.test import Client

    settings.ROOT_URLCONF = "benchmarks.predict_bare"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    path = "/bare/predict" if args.bare else f"/api/models/{model_id}/predict"
    bodies = [json.dumps({"record": r}) for r in records]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def send(i: int) -> None:
        r = client.generic("POST", path, bodies[i % len(bodies)], content_type="application/json")
        assert r.status_code == 200, r.content[:300]

    for i in range(200):  # warm: model load, config reads, connections
        send(i)
    started, cpu = time.perf_counter(), time.thread_time()
    for i in range(args.requests):
        send(i)
    per_request = (time.perf_counter() - started) / args.requests * 1000
    cpu_per_request = (time.thread_time() - cpu) / args.requests * 1000
    profiler = cProfile.Profile(time.thread_time) if args.cpu else cProfile.Profile()
    profiler.enable()
    for i in range(args.requests):
        send(i)
    profiler.disable()
    out = io.StringIO()
    order = "tottime" if args.own else "cumulative"
    pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
    print(out.getvalue())
    print(
        f"{path}: {per_request:.3f} ms per request, {cpu_per_request:.3f} ms of CPU "
        f"({args.requests} requests, no profiler)"
    )


if __name__ == "__main__":
    main()

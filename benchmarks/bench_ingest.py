"""Ingest 150,000 bank records: upload -> validated -> every DatasetRecord stored.

Needs PostgreSQL and Redis (the production shape), e.g.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/omm_bench \\
    REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python -m benchmarks.bench_ingest

OMM is timed end to end through the HTTP API (gunicorn + a Celery worker, polling the
version until it is validated). Side by side on the same file:
  - peer:  pandas.read_csv + Django bulk_create(batch_size=2000) of the same rows;
  - floor: pandas.read_csv + one COPY of the rows (no validation at all).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from benchmarks._child import celery_worker_command

ROOT = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("BENCH_ROWS", "150000"))
PORT = int(os.environ.get("BENCH_PORT", "8765"))


def _require_services() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("bench_ingest needs DATABASE_URL (PostgreSQL) and REDIS_URL set.")


def _create_database() -> None:
    from urllib.parse import urlparse

    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [url.path[1:]]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{url.path[1:]}"')


def _multipart(fields: dict[str, str], file_field: str, path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{path.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
    )
    parts.append(path.read_bytes())
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _http(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def _wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback only
            return
        except urllib.error.HTTPError:
            return  # it answers (503 until a worker reports: fine)
        except OSError:
            time.sleep(0.2)
    sys.exit(f"server at {url} did not start")


def omm_through_api(files: dict[str, Path], token: str) -> dict[str, float]:
    from apps.datasets.models import DatasetVersion

    base = f"http://127.0.0.1:{PORT}"
    timings = {}
    for label, path in files.items():
        body, content_type = _multipart(
            {"name": f"bench-{label}-{uuid.uuid4().hex[:6]}", "kind": "bank_records"}, "file", path
        )
        started = time.perf_counter()
        created = _http(
            "POST",
            f"{base}/api/datasets",
            body,
            # English answers: the check below reads the message.
            {"Content-Type": content_type, "Authorization": f"Bearer {token}", "Accept-Language": "en"},
        )
        assert created["message"].startswith("Uploaded"), created["message"]  # not a dedupe answer
        version_id = created["data"]["id"]
        while True:
            status = DatasetVersion.objects.filter(pk=version_id).values_list("status", flat=True).get()
            if status in ("validated", "error"):
                break
            time.sleep(0.01)
        timings[label] = time.perf_counter() - started
        version = DatasetVersion.objects.get(pk=version_id)
        assert version.status == "validated", version.error_message
        assert version.records.count() == version.row_count == ROWS, (
            version.records.count(),
            version.row_count,
        )
    return timings


def peer_bulk_create(path: Path, version_id: int) -> float:
    import pandas as pd

    from apps.datasets.models import DatasetRecord

    started = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    names, codes, clearing = (frame[c].tolist() for c in frame.columns[:3])
    DatasetRecord.objects.bulk_create(
        (
            DatasetRecord(
                version_id=version_id,
                line_number=i + 2,
                bank_name=names[i],
                bank_code=codes[i],
                clearing_code=clearing[i],
                is_valid=True,
                error_message="",
            )
            for i in range(len(frame))
        ),
        batch_size=2000,
    )
    return time.perf_counter() - started


def floor_copy(path: Path, version_id: int) -> float:
    """The fastest honest baseline: parse, then one COPY of a CSV buffer (no validation)."""
    import io

    import pandas as pd
    from django.db import connection

    started = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).iloc[:, :3]
    frame.insert(0, "line_number", range(2, len(frame) + 2))
    frame.insert(0, "version_id", version_id)
    frame["is_valid"] = True
    frame["error_message"] = ""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY datasets_datasetrecord (version_id, line_number, bank_name, bank_code, clearing_code, "
            "is_valid, error_message) FROM STDIN "
            "WITH (FORMAT csv, FORCE_NOT_NULL (bank_name, bank_code, clearing_code, error_message))"
        ) as copy,
    ):
        copy.write(buffer.getvalue())
    return time.perf_counter() - started


def _scratch_version():
    from apps.datasets.models import Dataset, DatasetVersion

    dataset = Dataset.objects.create(name=f"bench-scratch-{uuid.uuid4().hex[:6]}", kind="bank_records")
    return DatasetVersion.objects.create(
        dataset=dataset,
        version=1,
        format="csv",
        original_filename="scratch.csv",
        file="none",
        file_size=0,
        sha256=uuid.uuid4().hex + uuid.uuid4().hex,
    )


def main() -> None:
    _require_services()
    _create_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omm.settings")
    os.environ.setdefault("OMM_DATA_DIR", str(ROOT / "var" / "bench"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from apps.datasets import demo_data
    from apps.datasets.models import Dataset
    from apps.users.models import Role
    from apps.users.services import user_create

    tmp = Path(tempfile.mkdtemp(prefix="omm-bench-"))
    # One file per run and encoding: the same bytes twice would be answered by the dedupe.
    runs_files = [
        {
            "utf-8": demo_data.write_bank_records_csv(tmp / f"banks-utf8-{run}.csv", rows=ROWS, seed=run),
            "gbk": demo_data.write_bank_records_csv(
                tmp / f"banks-gbk-{run}.csv", rows=ROWS, seed=run, encoding="gbk"
            ),
        }
        for run in range(3)
    ]
    files = runs_files[0]
    password = uuid.uuid4().hex + "Aa1!"
    username = f"bench-{uuid.uuid4().hex[:8]}"
    user_create(username=username, email=f"{username}@bench.local", password=password, role=Role.ANALYST)

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (tmp / "services.log").open("w")
    procs = [
        subprocess.Popen(
            celery_worker_command("ingestion"),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "omm.wsgi",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                "1",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
    ]
    try:
        _wait_http(f"http://127.0.0.1:{PORT}/health")
        time.sleep(3)  # let the worker connect
        token = _http(
            "POST",
            f"http://127.0.0.1:{PORT}/api/auth/token",
            json.dumps({"username": username, "password": password}).encode(),
            {"Content-Type": "application/json"},
        )["data"]["access"]
        runs = [omm_through_api(run_files, token) for run_files in runs_files]
        omm = {label: min(run[label] for run in runs) for label in files}
        # Peer and floor each write into an empty scratch version of their own.
        peer = {"utf-8": peer_bulk_create(files["utf-8"], _scratch_version().pk)}
        floor = {"utf-8": floor_copy(files["utf-8"], _scratch_version().pk)}
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
        Dataset.objects.filter(name__startswith="bench-").delete()

    print(f"\nIngest {ROWS:,} bank records (PostgreSQL + Redis, 2 cores)")
    print(f"{'':34} {'seconds':>8}")
    for label, seconds in omm.items():
        print(f"OMM via HTTP API, {label:<16} {seconds:8.3f}   target <= 2.0 s")
    speedup = peer["utf-8"] / omm["utf-8"]
    print(f"peer read_csv + bulk_create {peer['utf-8']:8.3f}   OMM is {speedup:.1f}x faster (target >= 3x)")
    over_floor = omm["utf-8"] / floor["utf-8"]
    print(f"floor read_csv + one COPY {floor['utf-8']:8.3f}   OMM / floor = {over_floor:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()

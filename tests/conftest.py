"""Shared fixtures: users per role, API clients, and a real Celery worker process."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.users.models import Role
from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_unless_asked(settings):
    # OMM defaults to zh-hans (tests/core/test_i18n.py checks it); most tests read English
    # messages, and the tests of the Chinese screens ask for zh-hans themselves.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _audit_written_in_the_request(settings):
    # A live-server test's audit rows, written a second later by the buffer's thread, would
    # land in the next test's database; tests of the buffer turn it back on.
    settings.OMM_AUDIT_BUFFER_SECONDS = 0


@pytest.fixture(autouse=True)
def _clean_cache():
    """Each test starts with an empty cache (throttles, lockouts, cached settings)."""
    from django.core.cache import cache

    from apps.core.config import config_local_clear

    cache.clear()
    config_local_clear()
    yield


# What a process keeps in memory between requests, keyed on row ids: loaded models, the
# loaded QA index, version labels, and cache writes waiting for the next Redis round trip.
# PostgreSQL never hands an id out twice, but SQLite does once a test's transaction is
# rolled back, so without this a test would be served what an earlier test loaded under the
# same id. A cache that moves must move here too: a missing name fails every test, loudly.
PROCESS_CACHES = (
    ("apps.models.serving", "_loaded"),
    ("apps.models.reason_texts", "_cache"),
    ("apps.qa.services.asking", "_indexes"),
    ("apps.qa.selectors", "_labels"),
    ("apps.core.hotpath", "_pending_puts"),
)


def _clear_process_caches() -> None:
    for module, name in PROCESS_CACHES:
        getattr(importlib.import_module(module), name).clear()


@pytest.fixture(autouse=True)
def _clean_process_caches():
    """Each test starts with this process's per-process caches empty (and frees them after)."""
    _clear_process_caches()
    yield
    _clear_process_caches()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def make_user(db):
    def make(role: str = Role.VIEWER, **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMIN, username="boss")


@pytest.fixture
def client_for():
    """An API client authenticated as the given user (session-less, as a token would)."""

    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def api(client_for, admin_user) -> APIClient:
    return client_for(admin_user)


@pytest.fixture
def upload(api, django_capture_on_commit_callbacks):
    """POST a file to /api/datasets; validation is run here, in-process, when asked."""

    def post(content, filename: str, *, validate: bool = True, client=None, **fields):
        data = content.encode("utf-8") if isinstance(content, str) else content
        payload = {"file": SimpleUploadedFile(filename, data), **fields}
        with django_capture_on_commit_callbacks(execute=False):
            response = (client or api).post("/api/datasets", payload, format="multipart")
        if validate and response.status_code == 201:
            from apps.datasets import services

            version_id = response.json()["data"]["id"]
            if services.dataset_version_validate(version_id=version_id) is None:
                # Under a live worker (transactional tests run on_commit at once) the
                # worker may have claimed the validation first: wait for it to finish.
                _wait_validated(version_id)
        return response

    return post


def _wait_validated(version_id: int, timeout: float = 60.0) -> None:
    from apps.datasets.models import DatasetVersion

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = DatasetVersion.objects.values_list("status", flat=True).get(pk=version_id)
        if status not in ("uploaded", "validating"):
            return
        time.sleep(0.1)


def database_url_for_subprocess() -> str:
    """The URL of the *test* database, for processes started by a test."""
    from django.db import connection

    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{conf['NAME']}"
    auth = quote(conf["USER"] or "")
    if conf.get("PASSWORD"):
        auth += ":" + quote(conf["PASSWORD"])
    host = conf.get("HOST") or "127.0.0.1"
    port = conf.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{conf['NAME']}"


def subprocess_env() -> dict:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url_for_subprocess()
    env["OMM_DATA_DIR"] = str(settings.DATA_DIR)
    env["OMM_HEARTBEAT_SECONDS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("LANGUAGE_CODE", "en")  # as _english_unless_asked, for workers and beat
    return env


def purge_queues() -> None:
    from omm.celery import app

    with app.connection_for_write() as conn:
        for queue in settings.QUEUES:
            # A queue never declared has nothing to purge.
            with contextlib.suppress(Exception):
                conn.default_channel.queue_purge(queue)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Test runs with different data directories get different PostgreSQL test databases,
    so two runs against one server do not drop each other's database."""
    from pytest_django.fixtures import _set_suffix_to_test_databases

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        digest = hashlib.sha1(str(settings.DATA_DIR).encode(), usedforsecurity=False).hexdigest()
        _set_suffix_to_test_databases(digest[:8])


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """Start a real `celery worker` on every queue against the test database and broker."""
    from apps.core.models import WorkerHeartbeat

    purge_queues()
    log = tmp_path / "worker.log"
    hostname = f"test-worker-{os.getpid()}@localhost"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "omm",
            "worker",
            "-Q",
            ",".join(settings.QUEUES),
            "--hostname",
            hostname,
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not WorkerHeartbeat.objects.filter(hostname=hostname).exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"celery worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    yield {"hostname": hostname, "process": proc, "log": log}
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def celery_beat(transactional_db, tmp_path):
    """Start a real `celery beat` with the database scheduler against the test database."""
    log = tmp_path / "beat.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "omm",
            "beat",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--max-interval",
            "1",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield {"process": proc, "log": log}
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def credit_csv() -> str:
    from apps.datasets.demo_data import credit_frame

    return credit_frame(3000, seed=11).to_csv(index=False)


@pytest.fixture
def credit_version(upload, credit_csv):
    """A validated tabular dataset version (label is_bad, time application_date)."""
    from apps.datasets.models import DatasetVersion

    response = upload(
        credit_csv,
        "credit.csv",
        name="credit",
        kind="tabular",
        labelColumn="is_bad",
        timeColumn="application_date",
        keyColumns=["application_id"],
    )
    assert response.status_code == 201, response.content
    version = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    assert version.status == "validated", version.error_message
    return version


@pytest.fixture
def demo(db, settings, tmp_path):
    """The demo, with small generated files so the test stays quick."""
    from django.core.management import call_command

    from apps.datasets import demo_data

    settings.DATA_DIR = tmp_path
    (tmp_path / "demo").mkdir()
    demo_data.write_credit_csv(tmp_path / "demo" / "credit_applications.csv", rows=3000)
    demo_data.write_bank_records_csv(tmp_path / "demo" / "bank_records.csv", rows=2000)
    call_command("demo")


@pytest.fixture
def bank_frame():
    """3,000 generated bank records (a few lines broken on purpose)."""
    from apps.datasets.demo_data import bank_records_frame

    return bank_records_frame(3000, seed=3, bad_share=0.002)


@pytest.fixture
def bank_version(upload, bank_frame):
    """A validated bank-records dataset version of ``bank_frame``."""
    from apps.datasets.models import DatasetVersion

    csv = bank_frame.to_csv(index=False, header=["银行名称", "联行号", "清算行行号"])
    response = upload(csv, "banks.csv", name="banks", kind="bank_records")
    assert response.status_code == 201, response.content
    version = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    assert version.status == "validated", version.error_message
    return version

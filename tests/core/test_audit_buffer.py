"""The buffered audit path, as production runs it: requests outside a transaction, rows
written by the background writer (or at flush / exit), nothing lost, errors survived."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from apps.core import audit
from apps.core.models import ApiAuditLog
from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)

# How long a test waits for the writer thread; a bound on waiting, not a timing target.
WAIT_SECONDS = 30


@pytest.fixture
def buffered(settings):
    """Buffered writes with a long tick: the writer wakes early only at FLUSH_ROWS rows."""
    settings.OMM_AUDIT_BUFFER_SECONDS = 60
    audit.audit_shutdown()
    before = audit.audit_stats()
    yield before
    audit.audit_shutdown()  # written and stopped before the database is emptied


def _wait_for_rows(n: int, **filters) -> int:
    deadline = time.monotonic() + WAIT_SECONDS
    while (count := ApiAuditLog.objects.filter(**filters).count()) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


def _row(path: str, **extra) -> dict:
    return {"method": "GET", "path": path, "status_code": 200, "duration_ms": 1.0, **extra}


def test_a_request_is_buffered_then_written_at_flush_with_its_own_time(client, buffered):
    client.get("/api/system/config?x=1", HTTP_USER_AGENT="buffer-test/1.0", REMOTE_ADDR="10.9.8.7")
    assert not ApiAuditLog.objects.exists()  # not written in the request
    assert audit.audit_stats()["buffered"] == 1 and audit.audit_stats()["writer_alive"]

    before_flush = timezone.now()
    assert audit.audit_flush() == 1
    entry = ApiAuditLog.objects.get()
    assert entry.path == "/api/system/config" and entry.query == "x=1" and entry.status_code == 401
    assert entry.ip_address == "10.9.8.7" and entry.user_agent == "buffer-test/1.0"
    assert entry.created_at < before_flush  # the request's time, not the write's
    assert audit.audit_flush() == 0


def test_token_user_is_recorded_through_the_buffer(client, admin_user, password, buffered):
    token = client.post("/api/auth/token", {"username": admin_user.username, "password": password}).json()[
        "data"
    ]["access"]
    client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    audit.audit_flush()
    entry = ApiAuditLog.objects.get(path="/api/auth/me")
    assert entry.user == admin_user and entry.username == admin_user.username and entry.status_code == 200


def test_the_writer_thread_writes_once_enough_rows_wait(buffered):
    for i in range(audit.FLUSH_ROWS):
        audit.audit_record(**_row(f"/api/threshold/{i}"))
    # No flush called and the tick is a minute away: only the threshold wakes the writer.
    assert _wait_for_rows(audit.FLUSH_ROWS, path__startswith="/api/threshold/") == audit.FLUSH_ROWS
    stats = audit.audit_stats()
    assert stats["written"] - buffered["written"] == audit.FLUSH_ROWS and stats["buffered"] == 0


def test_the_writer_thread_writes_on_its_tick(settings, buffered):
    settings.OMM_AUDIT_BUFFER_SECONDS = 1
    audit.audit_record(**_row("/api/tick"))
    assert _wait_for_rows(1, path="/api/tick") == 1


def test_nothing_is_lost_across_many_requests_and_threads(client, settings, buffered):
    settings.OMM_AUDIT_BUFFER_SECONDS = 1  # ticks and thresholds both fire during the run
    for i in range(30):
        client.get(f"/api/system/config?n={i}")
    threads_, per_thread = 4, 700

    def send(k: int) -> None:
        for i in range(per_thread):
            audit.audit_record(**_row(f"/api/many/{k}/{i}"))

    workers = [threading.Thread(target=send, args=(k,)) for k in range(threads_)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    audit.audit_shutdown()  # what is left is written at stop, as at process exit
    assert ApiAuditLog.objects.filter(path="/api/system/config").count() == 30
    paths = set(ApiAuditLog.objects.filter(path__startswith="/api/many/").values_list("path", flat=True))
    assert len(paths) == threads_ * per_thread  # each row once: none lost, none twice
    assert ApiAuditLog.objects.filter(path__startswith="/api/many/").count() == threads_ * per_thread


def _refused_status() -> int:
    """A status code the database refuses: PostgreSQL's smallint stops at 32,767; SQLite
    stores any integer, so there it takes a negative code, which the column's check refuses."""
    return 70_000 if connection.vendor == "postgresql" else -1


def test_rows_the_database_refuses_are_dropped_alone_and_the_writer_lives_on(buffered):
    bad = _refused_status()
    audit.audit_record(**_row("/api/good/1"))
    audit.audit_record(**{**_row("/api/bad"), "status_code": bad})  # refused by the column
    audit.audit_record(**_row("/api/good/2"))
    assert audit.audit_flush() == 2
    assert set(ApiAuditLog.objects.values_list("path", flat=True)) == {"/api/good/1", "/api/good/2"}
    assert audit.audit_stats()["dropped"] - buffered["dropped"] == 1

    for i in range(audit.FLUSH_ROWS):  # the writer thread meets a bad row too, and goes on
        audit.audit_record(**_row(f"/api/after/{i}", status_code=bad if i == 7 else 200))
    assert _wait_for_rows(audit.FLUSH_ROWS - 1, path__startswith="/api/after/") == audit.FLUSH_ROWS - 1
    audit.audit_record(**_row("/api/later"))
    assert audit.audit_stats()["writer_alive"]
    assert audit.audit_flush() == 1


def test_a_malformed_forwarded_address_keeps_the_row_without_it(buffered):
    audit.audit_record(**_row("/api/odd-ip"), ip_address="not-an-address, 10.0.0.1")
    audit.audit_record(**_row("/api/v6"), ip_address="::1")
    assert audit.audit_flush() == 2
    ips = dict(ApiAuditLog.objects.values_list("path", "ip_address"))
    assert ips == {"/api/odd-ip": None, "/api/v6": "::1"}


def test_a_row_whose_user_is_gone_keeps_its_username(make_user, buffered):
    user = make_user(username="leaver")
    user_id = user.pk
    audit.audit_record(**_row("/api/gone"), user_id=user_id, username="leaver")
    user.delete()
    assert audit.audit_flush() == 1
    entry = ApiAuditLog.objects.get(path="/api/gone")
    assert entry.user_id is None and entry.username == "leaver"


def test_the_writer_survives_a_lost_database_connection(settings, buffered):
    settings.OMM_AUDIT_BUFFER_SECONDS = 1  # a failed write is retried on the next tick
    for i in range(audit.FLUSH_ROWS):
        audit.audit_record(**_row(f"/api/first/{i}"))
    assert _wait_for_rows(audit.FLUSH_ROWS, path__startswith="/api/first/") == audit.FLUSH_ROWS
    # The writer's connection is now open: end every other session of the test database.
    # PostgreSQL only: SQLite is a file opened in this process, with no server session to end,
    # so there the writer is checked to go on writing after its first batch.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchone()[0] >= 1
    for i in range(audit.FLUSH_ROWS):
        audit.audit_record(**_row(f"/api/second/{i}"))
    # The writer finds its connection dead and opens another (or retries on the next tick).
    assert _wait_for_rows(audit.FLUSH_ROWS, path__startswith="/api/second/") == audit.FLUSH_ROWS
    stats = audit.audit_stats()
    assert stats["writer_alive"] and stats["dropped"] == buffered["dropped"]


def test_a_failed_write_keeps_the_rows_and_a_later_tick_writes_them(settings, buffered):
    settings.OMM_AUDIT_BUFFER_SECONDS = 1
    table = connection.ops.quote_name(ApiAuditLog._meta.db_table)
    away = connection.ops.quote_name(ApiAuditLog._meta.db_table + "_away")
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {away}")
    try:
        for i in range(audit.FLUSH_ROWS):
            audit.audit_record(**_row(f"/api/retry/{i}"))
        deadline = time.monotonic() + WAIT_SECONDS
        while audit.audit_stats()["failed_writes"] == buffered["failed_writes"]:
            assert time.monotonic() < deadline, "the writer never tried"
            time.sleep(0.05)
        stats = audit.audit_stats()
        assert stats["buffered"] == audit.FLUSH_ROWS and stats["writer_alive"]  # kept, not lost
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {away} RENAME TO {table}")
    assert _wait_for_rows(audit.FLUSH_ROWS, path__startswith="/api/retry/") == audit.FLUSH_ROWS
    assert audit.audit_stats()["dropped"] == buffered["dropped"]


def test_a_forked_child_starts_empty_and_leaves_the_parents_rows_to_the_parent(buffered):
    audit.audit_record(**_row("/api/parent"))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its state, touch nothing, leave at once
        try:
            stats = audit.audit_stats()
            os.write(write, f"{stats['buffered']},{int(stats['writer_alive'])}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        child = fh.read()
    os.waitpid(pid, 0)
    assert child == "0,0"
    assert audit.audit_stats()["buffered"] == 1
    assert audit.audit_flush() == 1
    assert ApiAuditLog.objects.filter(path="/api/parent").count() == 1


def test_rows_still_waiting_are_written_when_the_process_exits():
    code = (
        "import django; django.setup()\n"
        "from apps.core.audit import audit_record, audit_stats\n"
        "for i in range(3):\n"
        "    audit_record(method='GET', path=f'/api/at-exit/{i}', status_code=200, duration_ms=1.0)\n"
        "assert audit_stats()['buffered'] == 3\n"
    )
    env = {**subprocess_env(), "DJANGO_SETTINGS_MODULE": "omm.settings", "OMM_AUDIT_BUFFER_SECONDS": "60"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert ApiAuditLog.objects.filter(path__startswith="/api/at-exit/").count() == 3

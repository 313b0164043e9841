"""The API audit trail, written off the request path.

``audit_record`` puts one row in this process's buffer (a few microseconds); a daemon thread
writes the buffer (COPY on PostgreSQL, a multi-row INSERT elsewhere) every
``OMM_AUDIT_BUFFER_SECONDS`` seconds, sooner once ``FLUSH_ROWS`` rows wait, and once more
when the process exits. Writing one row per request synchronously cost each API call a
database round trip and commit (~1-2 ms, most of a prediction's budget).

- Each row keeps the time of its request (``created_at`` is set here, not at insert).
- Fork-safe: a forked child (a gunicorn worker) starts with an empty buffer and no thread
  (the parent's rows are the parent's to write) and starts its own thread on first use.
- Bounded: at most ``MAX_ROWS`` rows wait. The buffer only fills when the database has
  refused writes for a long while; then the oldest rows are dropped, counted and logged
  rather than writing from the request thread, which would meet the same failing database
  on every call and stall the API without saving a row.
- A failed write is retried on the next tick; a row the database rejects on its own (say
  its user was deleted meanwhile) is written without the user link, as the foreign key's
  SET_NULL would have left it, and is dropped only if it still fails.
- ``OMM_AUDIT_BUFFER_SECONDS = 0`` writes each row synchronously, and so does a request
  that runs inside a transaction (tests): another connection could not see the rows that
  transaction has not committed (the user row), and would commit outside it.
"""

from __future__ import annotations

import atexit
import ipaddress
import logging
import os
import threading
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    close_old_connections,
    connection,
    connections,
    transaction,
)
from django.utils import timezone

from .models import ApiAuditLog

logger = logging.getLogger(__name__)

# Wake the writer early once this many rows wait (a burst is written in one statement).
FLUSH_ROWS = 200
# The most rows one process keeps waiting; past this the oldest are dropped (see above).
MAX_ROWS = 10_000
# Rows per INSERT statement where COPY is not available (10 parameters a row).
INSERT_ROWS = 500
_FIELDS = (
    "created_at",
    "user",
    "username",
    "method",
    "path",
    "query",
    "status_code",
    "duration_ms",
    "ip_address",
    "user_agent",
)
_USER = _FIELDS.index("user")


class _Buffer:
    """One process's waiting rows, its writer thread and its counters."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.rows: list[tuple] = []
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.written = 0
        self.dropped = 0
        self.failed_writes = 0


_buffer = _Buffer()


def _reset_in_child() -> None:
    # Runs in a forked child before anything else: the locks may have been held by a
    # thread that does not exist here, and the parent writes its own rows.
    global _buffer
    _buffer = _Buffer()


os.register_at_fork(after_in_child=_reset_in_child)


def _current() -> _Buffer:
    if _buffer.pid != os.getpid():  # forked without the hook (it runs for os.fork only)
        _reset_in_child()
    return _buffer


def buffer_seconds() -> int:
    return int(getattr(settings, "OMM_AUDIT_BUFFER_SECONDS", 1))


def audit_record(
    *,
    method: str,
    path: str,
    status_code: int,
    duration_ms: float,
    user_id: int | None = None,
    username: str = "",
    query: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
    created_at: datetime | None = None,
) -> None:
    """Record one API call (values already cut to the column sizes)."""
    if ip_address is not None:
        try:  # a malformed forwarded address would make the database refuse the row
            ip_address = str(ipaddress.ip_address(ip_address))
        except ValueError:
            ip_address = None
    row = (
        created_at or timezone.now(),
        user_id,
        username,
        method,
        path,
        query,
        status_code,
        duration_ms,
        ip_address,
        user_agent,
    )
    if buffer_seconds() <= 0 or connection.in_atomic_block:
        _write([row])
        return
    buf = _current()
    with buf.lock:
        buf.rows.append(row)
        waiting = len(buf.rows)
        overflow = waiting - MAX_ROWS
        if overflow > 0:
            del buf.rows[:overflow]
            buf.dropped += overflow
        if buf.thread is None:
            _start_writer(buf)
    if overflow > 0:
        logger.error("API audit buffer full (%d rows): dropped the oldest, %d so far", MAX_ROWS, buf.dropped)
    elif waiting >= FLUSH_ROWS:
        buf.wake.set()


def audit_flush() -> int:
    """Write every row waiting in this process now, on the caller's connection.

    Returns the rows written; rows that could not be written stay buffered for the
    writer thread's next attempt.
    """
    return _flush(_current())


def audit_shutdown(timeout: float = 5.0) -> int:
    """Stop this process's writer thread and write what is left (at exit; in tests)."""
    buf = _current()
    with buf.lock:
        thread, stop = buf.thread, buf.stop
        buf.thread, buf.stop = None, threading.Event()
    if thread is not None:
        stop.set()
        buf.wake.set()
        thread.join(timeout)
    return _flush(buf)


def audit_stats() -> dict[str, Any]:
    """This process's counters: rows written by the buffer, dropped, failed writes, waiting."""
    buf = _current()
    with buf.lock:
        return {
            "buffered": len(buf.rows),
            "written": buf.written,
            "dropped": buf.dropped,
            "failed_writes": buf.failed_writes,
            "writer_alive": bool(buf.thread and buf.thread.is_alive()),
        }


def _start_writer(buf: _Buffer) -> None:
    # Called with buf.lock held, so one thread per process. A wake-up left by a stopped
    # writer is not this one's.
    buf.wake.clear()
    thread = threading.Thread(target=_writer, args=(buf, buf.stop), name="omm-audit-writer", daemon=True)
    buf.thread = thread
    thread.start()


def _writer(buf: _Buffer, stop: threading.Event) -> None:
    while not stop.is_set():
        buf.wake.wait(max(buffer_seconds(), 1))
        buf.wake.clear()
        try:
            close_old_connections()  # drops a connection broken by the last failure
            _flush(buf)
        except Exception:  # the writer must outlive anything a write can raise
            logger.exception("API audit writer: unexpected error")
    connections.close_all()  # this thread's connection: nothing else would close it


def _flush(buf: _Buffer) -> int:
    with buf.lock:
        batch, buf.rows = buf.rows, []
    if not batch:
        return 0
    try:
        _write(batch)
        written = len(batch)
    except (IntegrityError, DataError):
        written = _write_one_by_one(buf, batch)
    except DatabaseError:
        logger.warning("API audit: could not write %d rows; retrying", len(batch), exc_info=True)
        _requeue(buf, batch)
        return 0
    with buf.lock:
        buf.written += written
    return written


def _requeue(buf: _Buffer, batch: list[tuple]) -> None:
    with buf.lock:
        buf.failed_writes += 1
        buf.rows[:0] = batch
        overflow = len(buf.rows) - MAX_ROWS
        if overflow > 0:
            del buf.rows[:overflow]
            buf.dropped += overflow
    if overflow > 0:
        logger.error("API audit buffer full (%d rows): dropped the oldest, %d so far", MAX_ROWS, buf.dropped)


def _write_one_by_one(buf: _Buffer, batch: list[tuple]) -> int:
    """Salvage a batch the database refused: write each row alone, dropping only bad ones."""
    written = 0
    for row in batch:
        try:
            _write([row])
        except (IntegrityError, DataError):
            if row[_USER] is None:
                continue
            try:  # the user is gone: keep the row (and its username) without the link
                _write([(*row[:_USER], None, *row[_USER + 1 :])])
            except (IntegrityError, DataError):
                continue
        written += 1
    dropped = len(batch) - written
    if dropped:
        with buf.lock:
            buf.dropped += dropped
        logger.error("API audit: dropped %d rows the database refused", dropped)
    return written


def _write(rows: list[tuple]) -> None:
    """Write the rows on this thread's connection, all or none."""
    meta = ApiAuditLog._meta
    fields = [meta.get_field(name) for name in _FIELDS]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(meta.db_table)
    if connection.vendor == "postgresql":
        # COPY takes a fifth of the CPU of a multi-row INSERT, here and in the server;
        # psycopg adapts the values (one statement: all rows or none).
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    several = len(rows) > INSERT_ROWS or connection.in_atomic_block
    with transaction.atomic() if several else nullcontext(), connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_ROWS):
            chunk = rows[start : start + INSERT_ROWS]
            params = [
                f.get_db_prep_save(v, connection) for row in chunk for f, v in zip(fields, row, strict=True)
            ]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(chunk))}",  # noqa: S608 - names from model meta
                params,
            )


atexit.register(audit_shutdown)

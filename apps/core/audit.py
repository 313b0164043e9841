"""Rows written off the request path, in bulk: the API audit trail and any other log.

``RowBuffer`` keeps one kind of row per process; ``add`` puts rows in the buffer (a few
microseconds); a daemon thread writes the buffer (through the buffer's ``write``: COPY on
PostgreSQL, a multi-row INSERT elsewhere) every ``OMM_AUDIT_BUFFER_SECONDS`` seconds, sooner
once ``flush_rows`` rows wait, and once more when the process exits. Writing one row per
request synchronously cost each API call a database round trip and commit (~1-2 ms, most
of a prediction's budget). The API audit trail (``audit_record``) and the decision log
(``apps.models.decisions``) are the two buffers.

- Each row keeps the time of its request (``created_at`` is set by the caller, not at insert).
- Fork-safe: a forked child (a gunicorn worker) starts with empty buffers and no threads
  (the parent's rows are the parent's to write) and starts its own thread on first use.
- Bounded: at most ``max_rows`` rows wait. A buffer only fills when the database has
  refused writes for a long while; then the oldest rows are dropped, counted and logged
  rather than writing from the request thread, which would meet the same failing database
  on every call and stall the API without saving a row.
- A failed write is retried on the next tick; a row the database rejects on its own (say
  its user was deleted meanwhile) is written as the buffer's ``fallback`` makes it (the
  audit trail: without the user link, as the foreign key's SET_NULL would have left it),
  and is dropped only if it still fails.
- ``OMM_AUDIT_BUFFER_SECONDS = 0`` writes rows synchronously, and so does a request that
  runs inside a transaction (tests): another connection could not see the rows that
  transaction has not committed (the user row), and would commit outside it.
"""

from __future__ import annotations

import atexit
import ipaddress
import logging
import os
import threading
import weakref
from collections.abc import Callable, Sequence
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
from django.db import models as db_models
from django.utils import timezone

from .models import ApiAuditLog

logger = logging.getLogger(__name__)

# Wake the audit writer early once this many rows wait (a burst is written in one statement).
FLUSH_ROWS = 200
# The most audit rows one process keeps waiting; past this the oldest are dropped (see above).
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


def buffer_seconds() -> int:
    return int(getattr(settings, "OMM_AUDIT_BUFFER_SECONDS", 1))


class _State:
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


_buffers: weakref.WeakSet[RowBuffer] = weakref.WeakSet()


class RowBuffer:
    """Rows of one kind waiting in this process for a background thread to write them.

    ``write(rows)`` writes a list of rows on the calling thread's connection, all or none;
    ``fallback(row)`` returns a row to try instead of one the database refused (or None).
    """

    def __init__(
        self,
        name: str,
        write: Callable[[list[tuple]], None],
        *,
        fallback: Callable[[tuple], tuple | None] | None = None,
        flush_rows: int = FLUSH_ROWS,
        max_rows: int = MAX_ROWS,
    ) -> None:
        self.name = name
        self.write = write
        self.fallback = fallback
        self.flush_rows = flush_rows
        self.max_rows = max_rows
        self._state = _State()
        _buffers.add(self)

    def reset_in_child(self) -> None:
        self._state = _State()

    def _current(self) -> _State:
        if self._state.pid != os.getpid():  # forked without the hook (it runs for os.fork only)
            self.reset_in_child()
        return self._state

    def add(self, rows: Sequence[tuple]) -> None:
        """Queue rows for the writer (or write them now: unbuffered, or inside a transaction)."""
        if not rows:
            return
        if buffer_seconds() <= 0 or connection.in_atomic_block:
            self.write(list(rows))
            return
        buf = self._current()
        with buf.lock:
            buf.rows.extend(rows)
            waiting = len(buf.rows)
            overflow = waiting - self.max_rows
            if overflow > 0:
                del buf.rows[:overflow]
                buf.dropped += overflow
            if buf.thread is None:
                self._start_writer(buf)
        if overflow > 0:
            logger.error(
                "%s buffer full (%d rows): dropped the oldest, %d so far",
                self.name,
                self.max_rows,
                buf.dropped,
            )
        elif waiting >= self.flush_rows:
            buf.wake.set()

    def flush(self) -> int:
        """Write every row waiting in this process now, on the caller's connection.

        Returns the rows written; rows that could not be written stay buffered for the
        writer thread's next attempt.
        """
        return self._flush(self._current())

    def shutdown(self, timeout: float = 5.0) -> int:
        """Stop this process's writer thread and write what is left (at exit; in tests)."""
        buf = self._current()
        with buf.lock:
            thread, stop = buf.thread, buf.stop
            buf.thread, buf.stop = None, threading.Event()
        if thread is not None:
            stop.set()
            buf.wake.set()
            thread.join(timeout)
        return self._flush(buf)

    def stats(self) -> dict[str, Any]:
        """This process's counters: rows written by the buffer, dropped, failed writes, waiting."""
        buf = self._current()
        with buf.lock:
            return {
                "buffered": len(buf.rows),
                "written": buf.written,
                "dropped": buf.dropped,
                "failed_writes": buf.failed_writes,
                "writer_alive": bool(buf.thread and buf.thread.is_alive()),
            }

    def _start_writer(self, buf: _State) -> None:
        # Called with buf.lock held, so one thread per process. A wake-up left by a stopped
        # writer is not this one's.
        buf.wake.clear()
        thread = threading.Thread(
            target=self._writer, args=(buf, buf.stop), name=f"omm-{self.name}-writer", daemon=True
        )
        buf.thread = thread
        thread.start()

    def _writer(self, buf: _State, stop: threading.Event) -> None:
        while not stop.is_set():
            buf.wake.wait(max(buffer_seconds(), 1))
            buf.wake.clear()
            try:
                close_old_connections()  # drops a connection broken by the last failure
                self._flush(buf)
            except Exception:  # the writer must outlive anything a write can raise
                logger.exception("%s writer: unexpected error", self.name)
        connections.close_all()  # this thread's connection: nothing else would close it

    def _flush(self, buf: _State) -> int:
        with buf.lock:
            batch, buf.rows = buf.rows, []
        if not batch:
            return 0
        try:
            self.write(batch)
            written = len(batch)
        except (IntegrityError, DataError):
            written = self._write_one_by_one(buf, batch)
        except DatabaseError:
            logger.warning("%s: could not write %d rows; retrying", self.name, len(batch), exc_info=True)
            self._requeue(buf, batch)
            return 0
        with buf.lock:
            buf.written += written
        return written

    def _requeue(self, buf: _State, batch: list[tuple]) -> None:
        with buf.lock:
            buf.failed_writes += 1
            buf.rows[:0] = batch
            overflow = len(buf.rows) - self.max_rows
            if overflow > 0:
                del buf.rows[:overflow]
                buf.dropped += overflow
        if overflow > 0:
            logger.error(
                "%s buffer full (%d rows): dropped the oldest, %d so far",
                self.name,
                self.max_rows,
                buf.dropped,
            )

    def _write_one_by_one(self, buf: _State, batch: list[tuple]) -> int:
        """Salvage a batch the database refused: write each row alone, dropping only bad ones."""
        written = 0
        for row in batch:
            try:
                self.write([row])
            except (IntegrityError, DataError):
                other = self.fallback(row) if self.fallback else None
                if other is None:
                    continue
                try:
                    self.write([other])
                except (IntegrityError, DataError):
                    continue
            written += 1
        dropped = len(batch) - written
        if dropped:
            with buf.lock:
                buf.dropped += dropped
            logger.error("%s: dropped %d rows the database refused", self.name, dropped)
        return written


def _reset_in_child() -> None:
    # Runs in a forked child before anything else: the locks may have been held by a
    # thread that does not exist here, and the parent writes its own rows.
    for buffer in list(_buffers):
        buffer.reset_in_child()


os.register_at_fork(after_in_child=_reset_in_child)


def copy_rows(model: type[db_models.Model], field_names: Sequence[str], rows: Sequence[Sequence]) -> None:
    """COPY rows into ``model``'s table on this thread's PostgreSQL connection (one
    statement: all rows or none). Values must be what psycopg adapts (JSON as text).

    COPY takes a fifth of the CPU of a multi-row INSERT, here and in the server.
    """
    meta = model._meta
    columns = ", ".join(connection.ops.quote_name(meta.get_field(name).column) for name in field_names)
    table = connection.ops.quote_name(meta.db_table)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _write_audit(rows: list[tuple]) -> None:
    """Write audit rows on this thread's connection, all or none."""
    if connection.vendor == "postgresql":
        copy_rows(ApiAuditLog, _FIELDS, rows)
        return
    meta = ApiAuditLog._meta
    fields = [meta.get_field(name) for name in _FIELDS]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(meta.db_table)
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


def _without_user(row: tuple) -> tuple | None:
    # The user is gone: keep the row (and its username) without the link.
    if row[_USER] is None:
        return None
    return (*row[:_USER], None, *row[_USER + 1 :])


_audit = RowBuffer("API audit", _write_audit, fallback=_without_user)


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
    _audit.add((row,))


def audit_flush() -> int:
    """Write every audit row waiting in this process now (see ``RowBuffer.flush``)."""
    return _audit.flush()


def audit_shutdown(timeout: float = 5.0) -> int:
    """Stop this process's audit writer and write what is left (at exit; in tests)."""
    return _audit.shutdown(timeout)


def audit_stats() -> dict[str, Any]:
    """This process's audit counters: written by the buffer, dropped, failed writes, waiting."""
    return _audit.stats()


@atexit.register
def _shutdown_all() -> None:
    for buffer in list(_buffers):
        buffer.shutdown()

"""What the per-request hot paths (prediction, question answering) share: one Redis client
reused per process, cache writes that ride on the next round trip, and a routing query
prepared once per database connection.

Each saves work a request would otherwise repeat, never correctness: without Redis the
cache calls fall back to Django's cache, while Redis is unreachable they miss (behind the
process's breaker, ``apps.core.breaker``), and without a direct PostgreSQL connection the
query runs through Django's cursor.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from django.core.cache import cache
from django.db import connection, models
from psycopg import pq

from .breaker import CACHE_ERRORS, cache_breaker

# Cache writes waiting to ride on this process's next Redis round trip; past this many the
# oldest are forgotten (a cache write is an optimisation, never owed).
PENDING_PUTS = 64
_pending_puts: deque[tuple[str, bytes, int]] = deque(maxlen=PENDING_PUTS)


def redis_client() -> Any:
    """The cache's Redis client, or None when the cache is not Redis.

    Kept on the cache backend (so a settings change brings a new one): Django's cache
    builds a new client object on every call, and building one costs more than the round
    trip it makes. The client's connection pool is fork-safe (it reconnects in a child).
    """
    backend = getattr(cache, "_cache", None)
    get_client = getattr(backend, "get_client", None)
    if get_client is None:
        return None
    client = backend.__dict__.get("omm_client")
    if client is None:
        client = backend.omm_client = get_client(write=True)
    return client


def cache_set_later(key: str, value: Any, ttl: int) -> None:
    """Cache ``value``: with Redis, sent with this process's next round trip (none now)."""
    if redis_client() is None:
        cache.set(key, value, ttl)
    else:
        _pending_puts.append((cache.make_and_validate_key(key), cache._cache._serializer.dumps(value), ttl))


def cache_incr(key: str, n: int = 1) -> None:
    """Add ``n`` to the counter ``key`` (created at 0, never expiring)."""
    client = redis_client()
    if client is not None:
        if cache_breaker.allow():
            try:
                client.incrby(cache.make_and_validate_key(key), n)
            except CACHE_ERRORS as exc:
                cache_breaker.failed(exc)  # a count missed, never the request's error
            else:
                cache_breaker.succeeded()
        return
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key, n)
    except ValueError:  # evicted between add and incr
        cache.set(key, n, timeout=None)


def cache_round_trip(key: str | None, *, incr: str | None = None) -> Any:
    """The cached value under ``key`` (None when missing or no key), counting ``incr`` +1.

    With Redis this is one round trip: a pipeline of the writes left by earlier requests of
    this process (first, so a repeat of the last request finds its answer), GET and INCRBY.
    No error is this request's: an unreachable Redis (or one the breaker skips) is a miss,
    its count and the pending writes are lost.
    """
    client = redis_client()
    if client is None:
        if incr is not None:
            cache_incr(incr)
        return cache.get(key) if key else None
    if not cache_breaker.allow():
        return None
    try:
        found = _round_trip(client, key, incr)
    except CACHE_ERRORS as exc:
        cache_breaker.failed(exc)
        return None
    cache_breaker.succeeded()
    return found


def _round_trip(client: Any, key: str | None, incr: str | None) -> Any:
    pipe = client.pipeline(transaction=False)
    puts = 0
    while True:
        try:
            put_key, value, ttl = _pending_puts.popleft()
        except IndexError:
            break
        pipe.set(put_key, value, ex=ttl)
        puts += 1
    if key:
        pipe.get(cache.make_and_validate_key(key))
    if incr is not None:
        pipe.incrby(cache.make_and_validate_key(incr), 1)
    if not key and incr is None and not puts:
        return None
    replies = pipe.execute(raise_on_error=False)[puts:]
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply  # a refused GET or INCRBY (out of memory): handled as an outage
    if not key or replies[0] is None:
        return None
    return cache._cache._serializer.loads(replies[0])


# --------------------------------------------------------------------------- prepared queries

_NOT_FAST = object()


def _fetch_prepared(pgconn: Any, name: bytes, sql: str, params: Sequence[Any], width: int) -> Any:
    """The first row (raw bytes per column) of a statement prepared on this connection,
    None when there is none; ``_NOT_FAST`` when the prepared path did not work."""
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return _NOT_FAST
    args = [None if p is None else str(p).encode() for p in params]
    res = pgconn.exec_prepared(name, args)
    if res.status == pq.ExecStatus.FATAL_ERROR:
        # Not prepared on this connection yet (a new one, DISCARD ALL), or prepared with a
        # plan that went stale (a migration): prepare it (again).
        if res.error_field(pq.DiagnosticField.SQLSTATE) != b"26000":  # 26000: no such statement
            pgconn.exec_(b"DEALLOCATE " + name)
        numbered = sql
        for i in range(1, len(params) + 1):
            numbered = numbered.replace("%s", f"${i}", 1)
        if pgconn.prepare(name, numbered.encode()).status != pq.ExecStatus.COMMAND_OK:
            return _NOT_FAST
        res = pgconn.exec_prepared(name, args)
    if res.status != pq.ExecStatus.TUPLES_OK or res.nfields != width:
        return _NOT_FAST
    if not res.ntuples:
        return None
    return tuple(res.get_value(0, i) for i in range(width))


def fetchone_prepared(
    name: str, sql: str, params: Sequence[Any], convert: Sequence[Callable[[bytes], Any]]
) -> tuple | None:
    """The first row of ``sql`` (``%s`` placeholders) for ``params``, or None.

    The statement is prepared once per database connection as ``name`` and read through
    libpq directly: under half the CPU of an ordinary query, here and in PostgreSQL (which
    shares the web server's cores). ``convert`` turns each raw text column (never NULL
    here: NULL stays None) into its Python value; Django's cursor already returns those.
    It needs a direct connection, or a pooler that keeps prepared statements (pgbouncer
    >= 1.21); on any failure Django's cursor answers.

    Django checks a reused connection with a "SELECT 1" round trip before the first query
    of each request (CONN_HEALTH_CHECKS). Here the query is its own check: it runs on the
    open connection as it is, counts as the request's check when it succeeds, and if that
    connection has died it is closed and the query runs again through Django, which
    reconnects. (Not listed in connection.queries; inside a transaction, as in tests,
    Django's path is taken.)
    """
    raw = connection.connection
    if raw is not None and connection.vendor == "postgresql" and not connection.in_atomic_block:
        try:
            row = _fetch_prepared(raw.pgconn, name.encode(), sql, params, len(convert))
        except psycopg.Error:
            row = _NOT_FAST
        if row is not _NOT_FAST:
            connection.health_check_done = True  # the query just proved the connection alive
            if row is None:
                return None
            return tuple(None if v is None else f(v) for f, v in zip(convert, row, strict=True))
        if raw.pgconn.status != pq.ConnStatus.OK:
            connection.close()
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchone()


def _param(field: models.Field, value: Any) -> str | None:
    """A model field's value as PostgreSQL reads it in text form (None is NULL)."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value, cls=field.encoder)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


_INSERTS: dict[type[models.Model], tuple[str, list[models.Field]]] = {}


def _insert_sql(model: type[models.Model]) -> tuple[str, list[models.Field]]:
    found = _INSERTS.get(model)
    if found is None:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        casts = []
        for f in fields:
            # Text, not varchar(n): an explicit cast would cut a long value, assignment refuses it.
            text = f.get_internal_type() in ("CharField", "TextField")
            casts.append(f"%s::{'text' if text else f.db_type(connection)}")
        columns = ", ".join(f'"{f.column}"' for f in fields)
        table, pk = model._meta.db_table, model._meta.pk.column
        # Table and column names come from the model's meta; values are parameters.
        sql = (
            "WITH c AS (SELECT set_config('synchronous_commit', 'off', true)) "  # noqa: S608
            f'INSERT INTO "{table}" ({columns}) SELECT {", ".join(casts)} FROM c RETURNING "{pk}"'
        )
        found = _INSERTS[model] = (sql, fields)
    return found


def insert_unflushed(instance: models.Model, *, name: str) -> None:
    """Save a new ``instance`` (a log of something already done: an answer given) in one
    round trip, committed without waiting for PostgreSQL to flush its WAL to disk.

    Losing the last fraction of a second of such rows in a database crash costs little,
    while a commit waiting on the disk (a checkpoint writing) stalls the request, and
    BEGIN, SET LOCAL, INSERT and COMMIT would be four round trips. The setting is made
    inside the statement (``set_config(..., true)`` in a CTE) and ends with its implicit
    transaction. Inside a caller's transaction, or without a direct PostgreSQL connection,
    it is an ordinary ``save()`` (the caller's commit waits as it always does).
    """
    model = type(instance)
    sql, fields = _insert_sql(model)
    raw = connection.connection
    if raw is not None and connection.vendor == "postgresql" and not connection.in_atomic_block:
        params = [_param(f, f.pre_save(instance, add=True)) for f in fields]
        try:
            row = _fetch_prepared(raw.pgconn, name.encode(), sql, params, 1)
        except psycopg.Error:
            row = _NOT_FAST
        if row is not _NOT_FAST and row is not None:
            connection.health_check_done = True
            instance.pk = int(row[0])
            instance._state.adding = False
            instance._state.db = "default"
            return
        if raw.pgconn.status != pq.ConnStatus.OK:
            connection.close()
    instance.save(force_insert=True)


def as_int(raw: bytes) -> int:
    return int(raw)


def as_text(raw: bytes) -> str:
    return raw.decode()

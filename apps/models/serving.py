"""Online scoring: route a request to a version, check it, score it, cache and sample it.

Each web process keeps the models it has loaded (verified once, at load) keyed by version
id. Every request reads the model's routing row (status, active version, A/B split) in
one query, so a promotion, rollback or split change applies to the very next request in
every process, and a version no longer served is dropped from memory.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from psycopg import pq

from apps.core.config import config_get_local

from . import artifacts, services, training
from .models import Model, ModelStatus, ModelType, ModelVersion, PredictionLog, VersionStatus

# Loaded models kept per process; more than a handful of live versions per process is rare.
CACHE_VERSIONS = 8
# Up to this many problems are reported for one request (a bad batch could list thousands).
MAX_PROBLEMS = 20
# A/B buckets: 10,000 per model, so a split is exact to 0.01 %.
BUCKETS = 10_000
# Requests with at most this many rows are scored on one thread.
SINGLE_THREAD_ROWS = 2_000
LOG_SAMPLE_RECORDS = 5
CACHE_PREFIX = "omm:predict:"
COUNT_PREFIX = "omm:predict-count:"


class PredictionRefused(Exception):
    """The request cannot be scored; ``status`` is the HTTP answer, ``errors`` per field."""

    def __init__(self, message: str, *, status: int = 400, code: str = "invalid", errors: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.errors = status, code, errors or {}


@dataclass
class Loaded:
    """A version ready to score: the verified model and what its inputs must look like."""

    version_id: int
    model_id: int
    version: int
    checksum: str
    objective: str
    model_format: str
    model: Any
    features: list[str]
    categorical: frozenset[str]
    level_codes: dict[str, dict[str, int]]
    dtype: Any
    label_classes: list[Any]


_loaded: OrderedDict[int, Loaded] = OrderedDict()
_lock = threading.Lock()


def _load(version: ModelVersion) -> Loaded:
    artifact, model = services.version_load(version)  # checksum and signature checked here
    meta = artifact.meta
    levels = meta.get("categorical_levels") or {}
    return Loaded(
        version_id=version.pk,
        model_id=version.model_id,
        version=version.version,
        checksum=version.checksum,
        objective=meta.get("objective", version.objective),
        model_format=artifact.format,
        model=model,
        features=list(meta["features"]),
        categorical=frozenset(levels),
        level_codes={name: {v: i for i, v in enumerate(values)} for name, values in levels.items()},
        dtype=np.dtype(meta.get("dtype", "float64")),
        label_classes=list(meta.get("label_classes") or []),
    )


def loaded_version(version_id: int) -> Loaded:
    """The verified, loaded model of a version, from this process's cache when it is there."""
    with _lock:
        hit = _loaded.get(version_id)
        if hit is not None:
            _loaded.move_to_end(version_id)
            return hit
    version = ModelVersion.objects.get(pk=version_id)
    try:
        item = _load(version)
    except (artifacts.ArtifactError, OSError) as exc:  # an artifact failing verification is never served
        raise PredictionRefused(
            f"{version} cannot be loaded: {exc}", status=409, code="artifact_invalid"
        ) from None
    with _lock:
        _loaded[version_id] = item
        while len(_loaded) > CACHE_VERSIONS:
            _loaded.popitem(last=False)
    return item


def _forget_unrouted(route: Route) -> None:
    """Drop this model's loaded versions it no longer routes to (after a promotion or rollback)."""
    live = (route.active_id, route.ab_id)
    with _lock:
        for vid in [v for v, item in _loaded.items() if item.model_id == route.model_id and v not in live]:
            del _loaded[vid]


@dataclass(frozen=True)
class Route:
    model_id: int
    name: str
    type: str
    status: str
    active_id: int | None
    ab_id: int | None
    ab_percent: int


_ROUTE_SQL: str | None = None


def _route_sql() -> str:
    # Hand-written once: the ORM spends longer compiling this query than the database
    # spends answering it, and it runs on every prediction.
    global _ROUTE_SQL
    if _ROUTE_SQL is None:
        m, v = Model._meta.db_table, ModelVersion._meta.db_table
        _ROUTE_SQL = (
            f"SELECT m.id, m.name, m.type, m.status, "  # noqa: S608 - table names from model meta
            f'(SELECT v.id FROM "{v}" v WHERE v.model_id = m.id AND v.status = %s LIMIT 1), '
            f'm.ab_version_id, m.ab_percent FROM "{m}" m WHERE m.id = %s'
        )
    return _ROUTE_SQL


# The routing query as a statement prepared once per database connection and read through
# libpq directly: under half the CPU of an ordinary query, here and in PostgreSQL (which
# shares the web server's cores). It needs a direct connection, or a pooler that keeps
# prepared statements (pgbouncer >= 1.21); on any failure Django's cursor answers.
_ROUTE_STATEMENT = b"omm_route"
_NOT_FAST = object()


def _route_row_prepared(pgconn: Any, params: list) -> Any:
    """The routing row through the prepared statement; ``_NOT_FAST`` if that did not work."""
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return _NOT_FAST
    args = [str(p).encode() for p in params]
    res = pgconn.exec_prepared(_ROUTE_STATEMENT, args)
    if res.status == pq.ExecStatus.FATAL_ERROR:
        # Not prepared on this connection yet (a new one, DISCARD ALL), or prepared with a
        # plan that went stale (a migration): prepare it (again).
        if res.error_field(pq.DiagnosticField.SQLSTATE) != b"26000":  # 26000: no such statement
            pgconn.exec_(b"DEALLOCATE " + _ROUTE_STATEMENT)
        sql = _route_sql().replace("%s", "$1", 1).replace("%s", "$2", 1)
        if pgconn.prepare(_ROUTE_STATEMENT, sql.encode()).status != pq.ExecStatus.COMMAND_OK:
            return _NOT_FAST
        res = pgconn.exec_prepared(_ROUTE_STATEMENT, args)
    if res.status != pq.ExecStatus.TUPLES_OK or res.nfields != 7:
        return _NOT_FAST
    if not res.ntuples:
        return None
    v = [res.get_value(0, i) for i in range(7)]
    return (
        int(v[0]),
        v[1].decode(),
        v[2].decode(),
        v[3].decode(),
        None if v[4] is None else int(v[4]),
        None if v[5] is None else int(v[5]),
        int(v[6]),
    )


def _route_row(params: list) -> tuple | None:
    # Django checks a reused connection with a "SELECT 1" round trip before the first query
    # of each request (CONN_HEALTH_CHECKS). Here the routing query is its own check: it
    # runs on the open connection as it is, and if that connection has died it is closed
    # and the query runs again through Django, which reconnects. (Not listed in
    # connection.queries; inside a transaction, as in tests, Django's path is taken.)
    raw = connection.connection
    if raw is not None and connection.vendor == "postgresql" and not connection.in_atomic_block:
        try:
            row = _route_row_prepared(raw.pgconn, params)
        except psycopg.Error:
            row = _NOT_FAST
        if row is not _NOT_FAST:
            return row
        if raw.pgconn.status != pq.ConnStatus.OK:
            connection.close()
    with connection.cursor() as cursor:
        cursor.execute(_route_sql(), params)
        return cursor.fetchone()


def route_of(model_id: int) -> Route:
    """The model's serving state in one query: status, active version, A/B split."""
    row = _route_row([VersionStatus.ACTIVE.value, model_id])
    if row is None:
        raise PredictionRefused(f"No model with id {model_id}.", status=404, code="not_found")
    return Route(*row)


def bucket(model_id: int, entity_key: str) -> int:
    """The entity's A/B bucket in [0, BUCKETS): the same key always lands in the same one."""
    digest = hashlib.blake2b(f"{model_id}:{entity_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def arm_for(route: Route, entity_key: str | None) -> tuple[str, int]:
    """("active" | "b", version id) serving this entity. Without a key the split is random."""
    if route.ab_id and route.ab_percent:
        b = bucket(route.model_id, entity_key) if entity_key is not None else random.randrange(BUCKETS)  # noqa: S311 - traffic split, not a secret
        if b < route.ab_percent * BUCKETS // 100:
            return "b", route.ab_id
    return "active", route.active_id  # type: ignore[return-value]


def _check_records(records: Any, item: Loaded, limit: int) -> list[dict]:
    if not isinstance(records, list) or not records:
        raise PredictionRefused(
            "Give one record or a non-empty list of records.", errors={"records": ["Required."]}
        )
    if len(records) > limit:
        raise PredictionRefused(
            f"{len(records):,} records is over the limit of {limit:,} per request; "
            "batch-score a dataset as a task instead.",
            errors={"records": [f"At most {limit:,} records per request."]},
        )
    wanted = set(item.features)
    categorical = item.categorical
    isfinite = math.isfinite
    problems: list[str] = []
    for i, record in enumerate(records):
        if len(problems) >= MAX_PROBLEMS:
            break
        if not isinstance(record, dict):
            problems.append(f"record {i}: must be an object of feature values.")
            continue
        if record.keys() != wanted:
            keys = set(record)
            missing, extra = sorted(wanted - keys), sorted(keys - wanted)
            if missing:
                problems.append(f"record {i}: missing {', '.join(missing[:10])}.")
            if extra:
                problems.append(f"record {i}: unknown field(s) {', '.join(extra[:10])}.")
            continue
        for name in item.features:
            value = record[name]
            if value is None:
                continue
            kind = type(value)  # exact types first: parsed JSON has no others (a batch is 10^4 values)
            if name in categorical:
                if kind is not str and not isinstance(value, str):
                    problems.append(f"record {i}: {name} must be a string (a category) or null.")
            elif kind is float:
                if not isfinite(value):
                    problems.append(f"record {i}: {name} must be a finite number or null.")
            elif kind is not int and (
                isinstance(value, bool) or not isinstance(value, int | float) or not isfinite(value)
            ):
                problems.append(f"record {i}: {name} must be a finite number or null.")
    if problems:
        raise PredictionRefused(
            "Some records do not match the version's feature schema.", errors={"records": problems}
        )
    return records


def _matrix(item: Loaded, records: list[dict]) -> np.ndarray:
    """The model's input for checked records, encoded as in training."""
    return training.records_matrix(records, item.features, item.level_codes, item.dtype)


def _score(item: Loaded, X: np.ndarray) -> list:
    threads = 1 if len(X) <= SINGLE_THREAD_ROWS else 0
    scores = training.score_matrix(item.model_format, item.model, X, item.objective, num_threads=threads)
    return scores.tolist()


def _cache_key(version_id: int, X: np.ndarray) -> str:
    """The answer's cache key: the version and the exact matrix the model would score.

    Hashing the matrix (built anyway to score a miss) costs a tenth of serialising the
    records with sorted keys, and inputs the model cannot tell apart share their answer.
    """
    digest = hashlib.blake2b(f"{X.dtype.str}{X.shape}".encode(), digest_size=16)
    digest.update(np.ascontiguousarray(X).data)
    return f"{CACHE_PREFIX}{version_id}:{digest.hexdigest()}"


def _redis() -> Any:
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


def _count(model_id: int, version_id: int, n: int = 1) -> None:
    """Per-version request counter (Redis INCRBY when Redis is the cache)."""
    key = f"{COUNT_PREFIX}{model_id}:{version_id}"
    client = _redis()
    if client is not None:
        client.incrby(cache.make_and_validate_key(key), n)
        return
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key, n)
    except ValueError:  # evicted between add and incr
        cache.set(key, n, timeout=None)


# Response-cache writes waiting to ride on this process's next Redis round trip; past
# this many the oldest are forgotten (a cache write is an optimisation, never owed).
PENDING_PUTS = 64
_pending_puts: deque[tuple[str, bytes, int]] = deque(maxlen=PENDING_PUTS)


def _cached_and_counted(model_id: int, version_id: int, key: str | None) -> Any:
    """Count the request for its version and return the cached scores under ``key`` (or None).

    With Redis this is the request's one round trip: a pipeline of the cache writes left
    by earlier requests of this process (first, so a repeat of the last request finds its
    answer), GET and INCRBY. The request is counted once it is routed and its records pass
    the checks, before scoring.
    """
    client = _redis()
    if client is None:
        _count(model_id, version_id)
        return cache.get(key) if key else None
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
    pipe.incrby(cache.make_and_validate_key(f"{COUNT_PREFIX}{model_id}:{version_id}"), 1)
    replies = pipe.execute(raise_on_error=False)[puts:]  # a failed cache write is not this request's
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    if not key or replies[0] is None:
        return None
    return cache._cache._serializer.loads(replies[0])


def _cache_put(key: str, scores: list, ttl: int) -> None:
    """Cache an answer: with Redis, sent with this process's next request (no round trip now)."""
    if _redis() is None:
        cache.set(key, scores, ttl)
    else:
        _pending_puts.append((cache.make_and_validate_key(key), cache._cache._serializer.dumps(scores), ttl))


def counts(model_id: int, version_ids: list[int]) -> dict[int, int]:
    """Requests answered by each version since the counters started."""
    keys = {f"{COUNT_PREFIX}{model_id}:{vid}": vid for vid in version_ids}
    found = cache.get_many(list(keys))
    return {vid: int(found.get(key) or 0) for key, vid in keys.items()}


def predict(
    *,
    model_id: int,
    records: Any,
    entity_key: str | None = None,
    user=None,
    use_cache: bool = True,
) -> dict[str, Any]:
    """Score ``records`` with the version the model routes this entity to.

    Returns ``requestId``, ``modelId``, ``model``, ``version``, ``versionId``, ``arm``,
    ``scores`` (binary: probability of the positive class; multiclass: one list of class
    probabilities per record, with ``labels``; regression: the value), ``cached`` and
    ``latencyMs``. Raises PredictionRefused (4xx) for anything it will not score.
    """
    started = time.perf_counter()
    route = route_of(model_id)
    if route.status == ModelStatus.ARCHIVED:
        raise PredictionRefused(f"{route.name} is archived.", status=409, code="archived")
    if route.type == ModelType.RETRIEVAL:
        raise PredictionRefused(
            f"{route.name} is a retrieval model; ask it at /api/qa/ask.", code="wrong_type"
        )
    if route.active_id is None:
        raise PredictionRefused(
            f"{route.name} has no active version; promote one first.", status=409, code="no_active_version"
        )
    arm, version_id = arm_for(route, entity_key)
    _forget_unrouted(route)
    item = loaded_version(version_id)
    records = _check_records(records, item, int(config_get_local("models-predict-max-records")))
    ttl = int(config_get_local("models-predict-cache-seconds"))
    X = _matrix(item, records)
    key = _cache_key(version_id, X) if use_cache and ttl > 0 else None
    scores = _cached_and_counted(route.model_id, version_id, key)
    cached = scores is not None
    if scores is None:
        scores = _score(item, X)
        if key:
            _cache_put(key, scores, ttl)
    request_id = uuid.uuid4().hex
    latency_ms = (time.perf_counter() - started) * 1000
    answer: dict[str, Any] = {
        "requestId": request_id,
        "modelId": route.model_id,
        "model": route.name,
        "version": item.version,
        "versionId": version_id,
        "arm": arm,
        "scores": scores,
        "cached": cached,
        "latencyMs": round(latency_ms, 3),
    }
    if item.objective == "multiclass":
        answer["labels"] = item.label_classes
    if random.random() < float(config_get_local("models-predict-log-sample-rate")):  # noqa: S311 - sampling
        PredictionLog.objects.create(
            model_id=route.model_id,
            version_id=version_id,
            request_id=request_id,
            records=len(records),
            arm=arm,
            entity_key=(entity_key or "")[:200],
            inputs=records[:LOG_SAMPLE_RECORDS],
            scores=scores[:LOG_SAMPLE_RECORDS],
            latency_ms=latency_ms,
            user_id=user.pk if getattr(user, "is_authenticated", False) else None,
            created_at=timezone.now(),
        )
    return answer

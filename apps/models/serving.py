"""Online scoring: route a request to a version, check it, score it, cache it and log its decisions.

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
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.config import config_get_local
from apps.core.hotpath import (
    as_int,
    as_text,
    cache_incr,
    cache_round_trip,
    cache_set_later,
    fetchone_prepared,
)

from . import decisions, training
from .errors import (
    ArtifactError,
    ModelArchived,
    ModelNotFound,
    NoActiveVersion,
    PredictionRefused,  # noqa: F401 - what callers of predict() catch
    RecordsInvalid,
    VersionUnloadable,
    WrongModelType,
)
from .models import Model, ModelStatus, ModelType, ModelVersion, VersionStatus
from .reason_texts import worded
from .services import version_load

# Loaded models kept per process; more than a handful of live versions per process is rare.
CACHE_VERSIONS = 8
# Up to this many problems are reported for one request (a bad batch could list thousands).
MAX_PROBLEMS = 20
# A/B buckets: 10,000 per model, so a split is exact to 0.01 %.
BUCKETS = 10_000
# Requests with at most this many rows are scored on one thread.
SINGLE_THREAD_ROWS = 2_000
CACHE_PREFIX = "omm:predict:"
COUNT_PREFIX = "omm:predict-count:"


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
    # Reasons, prepared once per loaded version (None: the model gives none).
    explainer: training.explain.Explainer | None = None


_loaded: OrderedDict[int, Loaded] = OrderedDict()
_lock = threading.Lock()


def _load(version: ModelVersion) -> Loaded:
    artifact, model = version_load(version=version)  # checksum and signature checked here
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
        explainer=training.explain.explainer_for(artifact.format, model, meta),
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
    except (ArtifactError, OSError) as exc:  # an artifact failing verification is never served
        raise VersionUnloadable(
            gettext("%(version)s cannot be loaded: %(error)s") % {"version": version, "error": exc}
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
_ROUTE_COLUMNS = (as_int, as_text, as_text, as_text, as_int, as_int, as_int)


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


def route_of(model_id: int) -> Route:
    """The model's serving state in one query: status, active version, A/B split."""
    row = fetchone_prepared("omm_route", _route_sql(), [VersionStatus.ACTIVE.value, model_id], _ROUTE_COLUMNS)
    if row is None:
        raise ModelNotFound(gettext("No model with id %(id)s.") % {"id": model_id})
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
        raise RecordsInvalid(
            gettext("Give one record or a non-empty list of records."), problems=[gettext("Required.")]
        )
    if len(records) > limit:
        raise RecordsInvalid(
            gettext(
                "%(count)s records is over the limit of %(limit)s per request; "
                "batch-score a dataset as a task instead."
            )
            % {"count": f"{len(records):,}", "limit": f"{limit:,}"},
            problems=[gettext("At most %(limit)s records per request.") % {"limit": f"{limit:,}"}],
        )
    wanted = set(item.features)
    categorical = item.categorical
    isfinite = math.isfinite
    problems: list[str] = []
    for i, record in enumerate(records):
        if len(problems) >= MAX_PROBLEMS:
            break
        if not isinstance(record, dict):
            problems.append(gettext("record %(index)s: must be an object of feature values.") % {"index": i})
            continue
        if record.keys() != wanted:
            keys = set(record)
            missing, extra = sorted(wanted - keys), sorted(keys - wanted)
            if missing:
                problems.append(
                    gettext("record %(index)s: missing %(names)s.")
                    % {"index": i, "names": ", ".join(missing[:10])}
                )
            if extra:
                problems.append(
                    gettext("record %(index)s: unknown field(s) %(names)s.")
                    % {"index": i, "names": ", ".join(extra[:10])}
                )
            continue
        for name in item.features:
            value = record[name]
            if value is None:
                continue
            kind = type(value)  # exact types first: parsed JSON has no others (a batch is 10^4 values)
            if name in categorical:
                if kind is not str and not isinstance(value, str):
                    problems.append(
                        gettext("record %(index)s: %(name)s must be a string (a category) or null.")
                        % {"index": i, "name": name}
                    )
            elif kind is float:
                if not isfinite(value):
                    problems.append(_not_a_number(i, name))
            elif kind is not int and (
                isinstance(value, bool) or not isinstance(value, int | float) or not isfinite(value)
            ):
                problems.append(_not_a_number(i, name))
    if problems:
        raise RecordsInvalid(
            gettext("Some records do not match the version's feature schema."), problems=problems
        )
    return records


def _not_a_number(index: int, name: str) -> str:
    return gettext("record %(index)s: %(name)s must be a finite number or null.") % {
        "index": index,
        "name": name,
    }


def _matrix(item: Loaded, records: list[dict]) -> np.ndarray:
    """The model's input for checked records, encoded as in training."""
    return training.records_matrix(records, item.features, item.level_codes, item.dtype)


def _score(item: Loaded, X: np.ndarray) -> list:
    threads = 1 if len(X) <= SINGLE_THREAD_ROWS else 0
    scores = training.score_matrix(item.model_format, item.model, X, item.objective, num_threads=threads)
    return scores.tolist()


def _scored(item: Loaded, X: np.ndarray, k: int) -> dict[str, Any]:
    """The answer's figures, as cached: scores (``s``), a scorecard's points (``p``) and the
    reasons (``r``, before their dictionary words, which an admin may change at any time)."""
    out: dict[str, Any] = {"s": _score(item, X)}
    points = training.explain.points(item.model_format, item.model, X)
    if points is not None:
        out["p"] = points.tolist()
    if k and item.explainer is not None:
        out["r"] = training.explain.explain(item.explainer, X, k=k)
    return out


def _cache_key(version_id: int, X: np.ndarray, k: int = 0) -> str:
    """The answer's cache key: the version and the exact matrix the model would score.

    Hashing the matrix (built anyway to score a miss) costs a tenth of serialising the
    records with sorted keys, and inputs the model cannot tell apart share their answer.
    """
    digest = hashlib.blake2b(f"{X.dtype.str}{X.shape}".encode(), digest_size=16)
    digest.update(np.ascontiguousarray(X).data)
    return f"{CACHE_PREFIX}{version_id}:{k}:{digest.hexdigest()}"


def _count(model_id: int, version_id: int, n: int = 1) -> None:
    """Per-version request counter (Redis INCRBY when Redis is the cache)."""
    cache_incr(f"{COUNT_PREFIX}{model_id}:{version_id}", n)


def counts(model_id: int, version_ids: list[int]) -> dict[int, int]:
    """Requests answered by each version since the counters started."""
    keys = {f"{COUNT_PREFIX}{model_id}:{vid}": vid for vid in version_ids}
    found = cache.get_many(list(keys))
    return {vid: int(found.get(key) or 0) for key, vid in keys.items()}


def _caller(user) -> str:
    """The account name a decision is recorded under (a token user carries it in its claims)."""
    if not getattr(user, "is_authenticated", False):
        return ""
    return (getattr(user, "username", "") or "")[:150]


def predict(
    *,
    model_id: int,
    records: Any,
    entity_key: str | None = None,
    user=None,
    use_cache: bool = True,
    top_reasons: int = training.explain.DEFAULT_TOP_REASONS,
    entity_keys: list[str] | None = None,
) -> dict[str, Any]:
    """Score ``records`` with the version the model routes this entity to.

    ``entity_key`` routes the request (A/B) and names its records in the decision log;
    ``entity_keys`` (one per record) names each record there instead.

    Returns ``requestId``, ``modelId``, ``model``, ``version``, ``versionId``, ``arm``,
    ``scores`` (binary: probability of the event class; multiclass: one list of class
    probabilities per record, with ``labels``; regression: the value), for a scorecard
    ``points``, for models that explain themselves ``reasons`` (the ``top_reasons`` features
    that pushed each record towards the event, with their reason code and text),
    ``cached`` and ``latencyMs``. Raises a PredictionRefused (its class says 400, 404 or
    409) for anything it will not score.
    """
    started = time.perf_counter()
    route = route_of(model_id)
    if route.status == ModelStatus.ARCHIVED:
        raise ModelArchived(gettext("%(model)s is archived.") % {"model": route.name})
    if route.type == ModelType.RETRIEVAL:
        raise WrongModelType(
            gettext("%(model)s is a retrieval model; ask it at /api/qa/ask.") % {"model": route.name}
        )
    if route.active_id is None:
        raise NoActiveVersion(
            gettext("%(model)s has no active version; promote one first.") % {"model": route.name}
        )
    arm, version_id = arm_for(route, entity_key)
    _forget_unrouted(route)
    item = loaded_version(version_id)
    records = _check_records(records, item, int(config_get_local("models-predict-max-records")))
    ttl = int(config_get_local("models-predict-cache-seconds"))
    X = _matrix(item, records)
    k = top_reasons if item.explainer is not None else 0
    key = _cache_key(version_id, X, k) if use_cache and ttl > 0 else None
    # One Redis round trip: earlier cache writes, this answer's GET and the version's count
    # (the request is counted once it is routed and its records pass the checks).
    found = cache_round_trip(key, incr=f"{COUNT_PREFIX}{route.model_id}:{version_id}")
    cached = found is not None
    if found is None:
        found = _scored(item, X, k)
        if key:
            cache_set_later(key, found, ttl)
    scores = found["s"]
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
    if "p" in found:
        answer["points"] = found["p"]
    reasons = None
    if "r" in found:
        reasons = answer["reasons"] = worded(route.model_id, found["r"])
    if decisions.sampled():
        # Every record, queued for the background writer (a few microseconds a record).
        decisions.decisions_record(
            decisions.decision_rows(
                created_at=timezone.now(),
                model_id=route.model_id,
                version_id=version_id,
                request_id=request_id,
                arm=arm,
                entity_key=entity_keys if entity_keys is not None else (entity_key or "")[:200],
                caller=_caller(user),
                records=records,
                scores=scores,
                points=found.get("p"),
                reasons=reasons,
            )
        )
    return answer


def score_as_served(*, version: ModelVersion, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Score ``records`` with ``version`` exactly as a prediction would (checks, encoding,
    scores, points, worded reasons), not routed, cached, counted or logged: for replaying
    decisions (the monitoring demo's history). One dict per record: ``score`` (None for
    multiclass), ``output`` (class probabilities or points, or None) and ``reasons``."""
    item = loaded_version(version.pk)
    checked = _check_records(records, item, len(records))
    found = _scored(item, _matrix(item, checked), training.explain.DEFAULT_TOP_REASONS)
    reasons = worded(version.model_id, found["r"]) if "r" in found else [None] * len(checked)
    out = []
    for i, value in enumerate(found["s"]):
        score, output = decisions.decision_output(value, found["p"][i] if "p" in found else None)
        out.append({"score": score, "output": output, "reasons": reasons[i]})
    return out


# A trial shows this many of the largest feature contributions.
TRIAL_CONTRIBUTIONS = 10


def try_version(*, version: ModelVersion, record: dict[str, Any]) -> dict[str, Any]:
    """Score one record with ``version`` whatever its status (a person trying it out):
    checked against its schema like any request, but not routed, cached, counted or logged.

    Returns ``objective``, ``score`` (binary: probability of the event class; multiclass:
    a list of class probabilities with ``labels``; regression: the value), and for models
    that explain themselves ``contributions`` (feature, value, contribution; largest first)
    and ``expected`` (the raw score of an average record). Raises a PredictionRefused.
    """
    if version.model.type == ModelType.RETRIEVAL:
        raise WrongModelType(f"{version.model.name} is a retrieval model; ask it at /api/qa/ask.")
    started = time.perf_counter()
    item = loaded_version(version.pk)
    records = _check_records([record], item, 1)
    X = _matrix(item, records)
    scores = _score(item, X)
    answer: dict[str, Any] = {
        "objective": item.objective,
        "score": scores[0],
        "contributions": None,
        "points": None,
        "reasons": None,
    }
    if item.objective == "multiclass":
        answer["labels"] = item.label_classes
    contrib = training.contributions(item.model_format, item.model, X, item.objective)
    if contrib is not None:
        row = contrib[0]
        ranked = sorted(range(len(item.features)), key=lambda j: -abs(row[j]))[:TRIAL_CONTRIBUTIONS]
        answer["contributions"] = [
            {"feature": item.features[j], "value": record[item.features[j]], "contribution": float(row[j])}
            for j in ranked
        ]
        answer["expected"] = float(row[-1])
    found = _scored(item, X, training.explain.DEFAULT_TOP_REASONS)
    if "p" in found:
        answer["points"] = found["p"][0]
    if "r" in found:
        answer["reasons"] = worded(version.model_id, found["r"])[0]
    answer["latencyMs"] = round((time.perf_counter() - started) * 1000, 3)
    return answer

"""The work queue's rules: one state machine, training requests, runs, cancel, reaper, schedules.

Every status change goes through ``transition``: a single conditional UPDATE that only
matches rows in a status the target may be reached from, so two workers, a cancel racing
a completion, or the reaper racing a late heartbeat cannot produce an illegal change.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pyarrow.parquet as pq
from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.core.config import config_get
from apps.datasets.models import Dataset, DatasetKind, DatasetStatus, DatasetVersion
from apps.datasets.selectors import columns_of
from apps.datasets.selectors import dataset_version as dataset_version_of
from apps.datasets.services import stored_file_path
from apps.features.models import FeatureSet
from apps.models import services as registry
from apps.models import training
from apps.models.models import ModelVersion

from .models import (
    BROKER_PRIORITY,
    FINAL_STATUSES,
    LogLevel,
    Priority,
    Task,
    TaskLog,
    TaskSchedule,
    TaskStatus,
    TaskType,
)

logger = logging.getLogger(__name__)

S = TaskStatus
# Which statuses each status may move to. Completed and cancelled are final; a failed
# task is re-run as a new task, never revived.
TRANSITIONS: dict[str, set[str]] = {
    S.PENDING: {S.QUEUED, S.RUNNING, S.CANCELLED, S.FAILED},
    S.QUEUED: {S.RUNNING, S.CANCELLED, S.FAILED},
    # running -> queued is the reaper handing a lost run back to the queue.
    S.RUNNING: {S.COMPLETED, S.FAILED, S.CANCELLED, S.QUEUED},
    S.COMPLETED: set(),
    S.FAILED: set(),
    S.CANCELLED: set(),
}

# A running task's worker refreshes ``heartbeat_at`` this often; the reaper calls a run
# lost when it is older than the ``tasks-heartbeat-timeout-seconds`` setting.
HEARTBEAT_SECONDS = 2.0
# Round logs and progress are written at most this often (and on the first and last round).
FLUSH_SECONDS = 0.5
# A running task asked to cancel that has not stopped cooperatively after this long has
# its worker process revoked.
CANCEL_GRACE_SECONDS = 30
# When every training slot is taken, a claimed-too-early task is re-sent this much later.
SLOT_WAIT_SECONDS = 3

MAX_RESOURCE_THREADS = 64
MAX_RESOURCE_MEMORY_MB = 256 * 1024
MAX_RESOURCE_TIMEOUT_SECONDS = 7 * 24 * 3600


class RequestInvalid(Exception):
    """A request that cannot become a task; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class IllegalTransition(Exception):
    """The task is not in a status that allows the requested change."""


class QueueUnavailable(Exception):
    """The broker refused the message; the task was marked failed."""


def allowed_from(target: str) -> list[str]:
    return [source for source, targets in TRANSITIONS.items() if target in targets]


def transition(task_id: int, target: str, *, where: Q | None = None, **fields: Any) -> bool:
    """Move a task to ``target`` if its current status allows it (and ``where`` holds).

    One conditional UPDATE: returns False, changing nothing, when another actor got there
    first. Final statuses stamp ``completed_at``.
    """
    if target not in TRANSITIONS:
        raise ValueError(f"unknown status {target!r}")
    if target in FINAL_STATUSES:
        fields.setdefault("completed_at", timezone.now())
    condition = Q(pk=task_id, status__in=allowed_from(target))
    if where is not None:
        condition &= where
    return Task.objects.filter(condition).update(status=target, **fields) == 1


def log(task_id: int, message: str, level: str = LogLevel.INFO, **fields: Any) -> None:
    TaskLog.objects.create(task_id=task_id, created_at=timezone.now(), level=level, message=message, **fields)


# --------------------------------------------------------------------------- kinds


@dataclass(frozen=True)
class TaskKind:
    """How one kind of task is checked, created, run and re-run.

    Trainings are registered here; evaluations, batch predictions and retrieval builds
    register theirs from their app's ``ready()``. ``key`` is the task type, or
    ``type:kind`` when the parameters carry a ``kind`` (a retrieval build is a training).
    ``work(run)`` does the slow part and returns a ``commit`` callable that stores the
    outcome; it runs in the same transaction that marks the task completed.
    """

    key: str
    type: str
    job: str  # the Celery task's name; its module's route picks the queue
    work: Callable[[Run], Callable[[], dict]]
    check: Callable[[dict, dict], Any]  # (request, resource config) -> plan; raises RequestInvalid
    create: Callable[..., Task]
    request_of: Callable[[Task], dict]
    uses_training_slot: bool = False


_KINDS: dict[str, TaskKind] = {}


def register_kind(kind: TaskKind) -> None:
    _KINDS[kind.key] = kind


def kind_key(task_type: str, parameters: dict | None) -> str:
    sub = (parameters or {}).get("kind")
    return f"{task_type}:{sub}" if sub else task_type


def kind_of(task: Task) -> TaskKind:
    key = kind_key(task.type, task.parameters)
    if key not in _KINDS:
        raise IllegalTransition(f"No runner is registered for {key!r} tasks.")
    return _KINDS[key]


# --------------------------------------------------------------------------- requests


@dataclass
class TrainingPlan:
    """A validated training request: what the worker will train, on what."""

    model_name: str
    dataset_version: DatasetVersion
    feature_set: FeatureSet | None
    spec: training.TrainingSpec
    parameters: dict[str, Any] = field(default_factory=dict)


def _distinct(version: DatasetVersion, column: str) -> int | None:
    for col in (version.quality or {}).get("columns", []):
        if col.get("name") == column:
            return col.get("distinct")
    return None


def _infer_objective(distinct: int | None, dtype: str) -> str:
    if distinct == 2 or distinct is None:
        return "binary"
    if training._dtype_kind(dtype) == "numeric" and distinct > 20:
        return "regression"
    return "multiclass"


def _resolve_dataset(request: dict, errors: dict, feature_set: FeatureSet | None) -> DatasetVersion | None:
    dataset_id = request.get("dataset")
    number = request.get("dataset_version")
    if dataset_id is None:
        if feature_set is None:
            errors["dataset"] = ["A dataset (or a feature set) is required."]
            return None
        version = feature_set.dataset_version
    else:
        dataset = Dataset.objects.filter(pk=dataset_id).first()
        if dataset is None:
            errors["dataset"] = [f"No dataset with id {dataset_id}."]
            return None
        version = dataset_version_of(dataset, number)
        if version is None:
            errors["dataset_version"] = [f"Dataset {dataset.name} has no version {number}."]
            return None
    if version.dataset.kind != DatasetKind.TABULAR:
        errors["dataset"] = [f"{version.dataset.name} holds bank records; models train on tabular datasets."]
        return None
    if version.status != DatasetStatus.VALIDATED or not version.parquet:
        errors["dataset"] = [
            f"{version.dataset.name} v{version.version} is {version.status}; "
            "only a validated version can be trained on."
        ]
        return None
    return version


def estimated_memory_mb(rows: int, features: int) -> int:
    """Rough peak memory of a training: the Arrow columns plus one float64 matrix, and
    LightGBM's binned copy (about a quarter of the matrix)."""
    return int(rows * features * 8 * 2.25 / 2**20) + 1


def resource_config_clean(config: Any) -> dict[str, int]:
    """Validated resource config: ``threads``, ``memoryMb``, ``timeoutSeconds`` (all optional)."""
    if config in (None, ""):
        return {}
    if not isinstance(config, dict):
        raise RequestInvalid({"resource_config": ["Must be an object."]})
    limits = {
        "threads": MAX_RESOURCE_THREADS,
        "memoryMb": MAX_RESOURCE_MEMORY_MB,
        "timeoutSeconds": MAX_RESOURCE_TIMEOUT_SECONDS,
    }
    problems, clean = [], {}
    for key, value in config.items():
        if key not in limits:
            problems.append(f"Unknown key {key!r}; known: {', '.join(limits)}.")
        elif isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{key} must be an integer.")
        elif not 1 <= value <= limits[key]:
            problems.append(f"{key} must be between 1 and {limits[key]}; got {value}.")
        else:
            clean[key] = value
    if problems:
        raise RequestInvalid({"resource_config": problems})
    return clean


def training_plan(request: dict, *, resource_config: dict | None = None) -> TrainingPlan:
    """Check a training request against the data it names; raise RequestInvalid listing every problem.

    ``request`` keys: name, dataset, dataset_version, feature_set, features, label,
    algorithm, objective, params, split, time_column, validation_share, seed.
    """
    errors: dict[str, list[str]] = {}
    name = (request.get("name") or "").strip()
    if not name:
        errors["name"] = ["A model name is required."]
    feature_set = None
    skipped: list[str] = []
    if request.get("feature_set") is not None:
        feature_set = (
            FeatureSet.objects.select_related("dataset_version__dataset")
            .filter(pk=request["feature_set"])
            .first()
        )
        if feature_set is None:
            errors["feature_set"] = [f"No feature set with id {request['feature_set']}."]
    version = _resolve_dataset(request, errors, feature_set)
    if (
        version is not None
        and feature_set is not None
        and version.dataset_id != feature_set.dataset_version.dataset_id
    ):
        errors["feature_set"] = [
            f"{feature_set} is drawn from {feature_set.dataset_version.dataset.name}; "
            f"train it on a version of that dataset, not {version.dataset.name}."
        ]
    if version is None or errors.get("feature_set"):
        raise RequestInvalid(errors)

    columns = columns_of(version)
    features = list(request.get("features") or [])
    if feature_set is not None:
        set_columns = [
            item.feature_version.source_column or item.feature_version.feature.name
            for item in feature_set.items.select_related("feature_version__feature").order_by("position")
        ]
        if features and features != set_columns:
            errors["features"] = ["Give either a feature set or a column list, not both."]
        # A set may hold columns the engine cannot use as inputs (dates, the split's time
        # column); they are left out and named in the task's parameters.
        time_column = request.get("time_column") or version.time_column
        skipped = [
            c
            for c in set_columns
            if c == time_column
            or (c in columns and training._dtype_kind(columns[c]) in ("temporal", "other"))
        ]
        features = [c for c in set_columns if c not in skipped]
    label = request.get("label") or (feature_set.label_column if feature_set else "") or version.label_column
    if not label:
        errors["label"] = ["A label column is required (the dataset version declares none)."]
    if not features and label:
        time_column = request.get("time_column") or version.time_column
        features = [
            c
            for c, dtype in columns.items()
            if c not in (label, time_column, *version.key_columns)
            and training._dtype_kind(dtype) in ("numeric", "categorical")
        ]
    objective = request.get("objective") or _infer_objective(
        _distinct(version, label), columns.get(label, "")
    )
    threads = (resource_config or {}).get("threads") or min(os.cpu_count() or 1, 2)
    split = request.get("split") or ("time" if request.get("time_column") else "random")
    spec = training.TrainingSpec(
        algorithm=request.get("algorithm") or "lightgbm",
        objective=objective,
        label=label,
        features=features,
        params=request.get("params") or {},
        split=split,
        time_column=request.get("time_column") or (version.time_column if split == "time" else None),
        validation_share=request.get("validation_share", 0.2),
        seed=request.get("seed", 42),
        num_threads=min(threads, MAX_RESOURCE_THREADS),
    )
    problems = training.validate_spec(spec, columns, label_classes=_distinct(version, label))
    if problems:
        errors.setdefault("non_field_errors", []).extend(problems)
    needed = estimated_memory_mb(version.row_count or 0, len(features))
    allowed = (resource_config or {}).get("memoryMb")
    if allowed and needed > allowed:
        errors.setdefault("resource_config", []).append(
            f"This training needs about {needed} MB ({version.row_count:,} rows x {len(features)} "
            f"features); memoryMb allows {allowed}."
        )
    if errors:
        raise RequestInvalid(errors)
    parameters = {
        "model_name": name,
        "dataset": version.dataset_id,
        "dataset_version": version.version,
        "dataset_version_id": version.pk,
        "feature_set": feature_set.pk if feature_set else None,
        "algorithm": spec.algorithm,
        "objective": spec.objective,
        "label": spec.label,
        "features": spec.features,
        "params": training.resolved_params(spec),
        "split": spec.split,
        "time_column": spec.time_column,
        "validation_share": spec.validation_share,
        "seed": spec.seed,
        "skipped_features": skipped,
    }
    if request.get("reproduce_of"):
        parameters["reproduce_of"] = request["reproduce_of"]
    return TrainingPlan(name, version, feature_set, spec, parameters)


# --------------------------------------------------------------------------- creating and queueing


def _send_options(task: Task) -> dict[str, Any]:
    """Broker priority, and the task's own time limit when its resource config sets one
    (never above the platform's limits, which stay below the broker's visibility timeout)."""
    from django.conf import settings

    options: dict[str, Any] = {"priority": BROKER_PRIORITY[Priority(task.priority)]}
    timeout = (task.resource_config or {}).get("timeoutSeconds")
    if timeout:
        grace = settings.CELERY_TASK_TIME_LIMIT - settings.CELERY_TASK_SOFT_TIME_LIMIT
        options["soft_time_limit"] = min(timeout, settings.CELERY_TASK_SOFT_TIME_LIMIT)
        options["time_limit"] = min(timeout + grace, settings.CELERY_TASK_TIME_LIMIT)
    return options


def _send(task: Task) -> None:
    from omm.celery import app

    try:
        app.send_task(kind_of(task).job, (task.pk,), task_id=task.celery_task_id, **_send_options(task))
    except Exception as exc:
        transition(task.pk, S.FAILED, error=f"Could not queue the task: {type(exc).__name__}: {exc}")
        raise QueueUnavailable(str(exc)) from exc
    transition(task.pk, S.QUEUED, queued_at=timezone.now())


def _new_celery_id() -> str:
    return str(uuid.uuid4())


def task_create(
    *,
    type: str,
    name: str,
    parameters: dict,
    user,
    priority: str = Priority.MEDIUM,
    resource_config: dict | None = None,
    schedule: TaskSchedule | None = None,
    trigger_key: str | None = None,
    rerun_of: Task | None = None,
    enqueue: bool = True,
) -> Task:
    """Store a checked request as a task and queue it once the transaction commits.

    ``enqueue=False`` leaves it pending for the caller to run in-process (the demo does).
    """
    task = Task.objects.create(
        name=name[:200],
        type=type,
        priority=priority,
        parameters=parameters,
        resource_config=resource_config or {},
        celery_task_id=_new_celery_id(),
        schedule=schedule,
        trigger_key=trigger_key,
        rerun_of=rerun_of,
        created_by=user,
    )
    kind_of(task)  # an unknown kind is a programming error: fail before anything is sent
    if enqueue:
        transaction.on_commit(lambda: _send(task))
    return task


def priority_clean(priority: str) -> str:
    if priority not in Priority.values:
        raise RequestInvalid(
            {"priority": [f"Unknown priority {priority!r}; one of {', '.join(Priority.values)}."]}
        )
    return priority


def checked_task_create(
    *,
    type: str,
    check: Callable[[dict, dict], dict],
    name: Callable[[dict], str],
    user,
    request: dict,
    priority: str = Priority.MEDIUM,
    resource_config: dict | None = None,
    schedule: TaskSchedule | None = None,
    trigger_key: str | None = None,
    rerun_of: Task | None = None,
    enqueue: bool = True,
) -> tuple[Task, dict]:
    """The one way a kind's ``create`` queues a request: priority and resources cleaned,
    ``check(request, resources)`` giving the parameters (RequestInvalid stores nothing),
    then the task, named by ``request["task_name"]`` or ``name(parameters)``."""
    priority_clean(priority)
    resources = resource_config_clean(resource_config)
    parameters = check(request, resources)
    task = task_create(
        type=type,
        name=request.get("task_name") or name(parameters),
        parameters=parameters,
        user=user,
        priority=priority,
        resource_config=resources,
        schedule=schedule,
        trigger_key=trigger_key,
        rerun_of=rerun_of,
        enqueue=enqueue,
    )
    return task, parameters


def training_create(*, user, request: dict, **options: Any) -> Task:
    """Validate a training request and queue it. Nothing is stored when it is invalid.

    ``options``: priority, resource_config, schedule, trigger_key, rerun_of, enqueue.
    """
    task, _ = checked_task_create(
        type=TaskType.TRAINING,
        check=lambda r, resources: training_plan(r, resource_config=resources).parameters,
        name=lambda p: f"Train {p['model_name']}",
        user=user,
        request=request,
        **options,
    )
    return task


def task_cancel(*, task: Task) -> Task:
    """Cancel a task: at once when it has not started, at its next round when it runs.

    A running task that has not stopped after CANCEL_GRACE_SECONDS has its worker
    process revoked. Cancelling a finished task raises IllegalTransition.
    """
    if transition(task.pk, S.CANCELLED, where=Q(status__in=[S.PENDING, S.QUEUED]), cancel_requested=True):
        _revoke(task.celery_task_id, terminate=False)
        log(task.pk, "Cancelled before it started.")
    elif Task.objects.filter(pk=task.pk, status=S.RUNNING).update(cancel_requested=True):
        log(task.pk, "Cancel requested; stopping at the next round.")
        from .tasks import enforce_cancel

        transaction.on_commit(lambda: _send_quietly(enforce_cancel, task.pk, countdown=CANCEL_GRACE_SECONDS))
    else:
        task.refresh_from_db()
        raise IllegalTransition(
            f"Task #{task.pk} is {task.status}; only an unfinished task can be cancelled."
        )
    task.refresh_from_db()
    return task


def _send_quietly(job, *args: Any, **options: Any) -> None:
    # A follow-up message (cancel enforcement, a retry for a slot) that cannot be sent is
    # logged: the request itself was already recorded and the reaper still covers the task.
    try:
        job.apply_async(args, **options)
    except Exception:
        logger.warning("could not send %s%s", job.name, args, exc_info=True)


def _revoke(celery_task_id: str, *, terminate: bool) -> None:
    from omm.celery import app

    if celery_task_id:
        try:
            app.control.revoke(celery_task_id, terminate=terminate, signal="SIGKILL")
        except Exception:  # the DB status is what counts; a lost broadcast is logged only
            logger.warning("revoke of %s could not be broadcast", celery_task_id, exc_info=True)


def cancel_enforce(task_id: int) -> bool:
    """Revoke a running task's worker process if it ignored a cancel; True when it did."""
    task = Task.objects.filter(pk=task_id, status=S.RUNNING, cancel_requested=True).first()
    if task is None:
        return False
    _revoke(task.celery_task_id, terminate=True)
    if transition(task_id, S.CANCELLED, where=Q(cancel_requested=True), error="Cancelled (worker revoked)."):
        log(task_id, "Did not stop within the grace period; worker process revoked.", LogLevel.WARNING)
        return True
    return False


def task_rerun(*, task: Task, user) -> Task:
    """Queue a new task with the same request (the dataset version it used, not the newest)."""
    if task.status not in FINAL_STATUSES:
        raise IllegalTransition(f"Task #{task.pk} is {task.status}; re-run it once it has finished.")
    kind = kind_of(task)
    return kind.create(
        user=user,
        request={**kind.request_of(task), "task_name": task.name},
        priority=task.priority,
        resource_config=task.resource_config,
        rerun_of=task,
    )


def version_reproduce(*, version: ModelVersion, user) -> Task:
    """Re-run the training that made ``version`` on the same data, features, parameters and
    seed; the task's result says whether the metrics (and the artifact bytes) match."""
    if version.task is None:
        raise IllegalTransition(f"{version} was uploaded; there is no training to re-run.")
    request = {
        **training_request_of(version.task),
        "reproduce_of": version.pk,
        "task_name": f"Reproduce {version}",
    }
    return training_create(user=user, request=request, priority=Priority.HIGH)


def training_request_of(task: Task) -> dict:
    """The training request that re-creates ``task`` (its dataset version, not the newest)."""
    p = task.parameters
    if "model_name" not in p:  # a scheduled run that could not start keeps the raw request
        return dict(p)
    return {
        "name": p.get("model_name"),
        "dataset": p.get("dataset"),
        "dataset_version": p.get("dataset_version"),
        "feature_set": p.get("feature_set"),
        "features": None if p.get("feature_set") else p.get("features"),
        "label": p.get("label"),
        "algorithm": p.get("algorithm"),
        "objective": p.get("objective"),
        "params": p.get("params"),
        "split": p.get("split"),
        "time_column": p.get("time_column"),
        "validation_share": p.get("validation_share", 0.2),
        "seed": p.get("seed", 42),
        **({"reproduce_of": p["reproduce_of"]} if p.get("reproduce_of") else {}),
    }


# --------------------------------------------------------------------------- running


def _heartbeat_timeout() -> timedelta:
    return timedelta(seconds=float(config_get("tasks-heartbeat-timeout-seconds")))


def _lock_training_slots() -> None:
    # Serialises slot counting on PostgreSQL; SQLite already runs one writer at a time.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x0A11_7A5C])


class _Wait(Exception):
    """Every training slot is taken: try again later."""


def _claim(task_id: int, worker: str) -> Task | None:
    """Take a queued task for this worker (running, attempt + 1); None when not ours to run.

    Trainings also need a free slot (``tasks-max-concurrent-trainings``); without one
    this raises _Wait and the task stays queued.
    """
    max_attempts = int(config_get("tasks-max-attempts"))
    now = timezone.now()
    with transaction.atomic():
        task = Task.objects.filter(
            pk=task_id, status__in=[S.PENDING, S.QUEUED], attempts__lt=max_attempts
        ).first()
        if task is None:
            return None
        if kind_of(task).uses_training_slot:
            _lock_training_slots()
            limit = int(config_get("tasks-max-concurrent-trainings"))
            busy = Task.objects.filter(
                type=TaskType.TRAINING, status=S.RUNNING, heartbeat_at__gte=now - _heartbeat_timeout()
            ).count()
            if busy >= limit:
                raise _Wait()
        claimed = transition(
            task_id,
            S.RUNNING,
            where=Q(attempts__lt=max_attempts, cancel_requested=False),
            attempts=F("attempts") + 1,
            started_at=now,
            heartbeat_at=now,
            worker=worker,
            progress=1,
            error="",
        )
    if not claimed:
        return None
    task = Task.objects.get(pk=task_id)
    log(task_id, f"Started on {worker} (attempt {task.attempts} of {max_attempts}).")
    return task


class _Heartbeat:
    """Refreshes ``heartbeat_at`` from a thread while data loads or a long fit runs."""

    def __init__(self, task_id: int):
        self.task_id = task_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"task-{task_id}-heartbeat", daemon=True)

    def _run(self) -> None:
        try:
            if connection.vendor == "postgresql":
                # Never queue behind the run's own transaction (registration holds the row).
                with connection.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '1s'")
            while not self.stop.wait(HEARTBEAT_SECONDS):
                try:
                    Task.objects.filter(pk=self.task_id, status=S.RUNNING).update(heartbeat_at=timezone.now())
                except OperationalError:  # lock timeout: the main thread is writing the row anyway
                    continue
        finally:
            connection.close()

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


class _RoundWriter:
    """Turns training rounds into TaskLog rows and progress, and answers whether to go on.

    Rounds are buffered and written at most every FLUSH_SECONDS (and on the first and
    last round), together with the progress and a check of the cancel flag.
    """

    def __init__(self, task_id: int, lo: float = 5.0, hi: float = 90.0):
        self.task_id, self.lo, self.hi = task_id, lo, hi
        self.buffer: list[TaskLog] = []
        self.last_flush = 0.0
        self.cancelled = False

    def __call__(self, info: training.RoundInfo) -> bool:
        self.buffer.append(
            TaskLog(
                task_id=self.task_id,
                created_at=timezone.now(),
                level=LogLevel.INFO,
                message=f"round {info.round}/{info.total_rounds}",
                step=info.round,
                loss=_finite(info.train_loss),
                valid_loss=_finite(info.valid_loss),
                metrics={k: v for k, v in info.metrics.items() if _finite(v) is not None} or None,
            )
        )
        now = time.monotonic()
        if (len(self.buffer) == 1 and self.last_flush == 0.0) or now - self.last_flush >= FLUSH_SECONDS:
            return self.flush(info)
        if info.round >= info.total_rounds:
            return self.flush(info)
        return True

    def flush(self, info: training.RoundInfo | None = None) -> bool:
        if self.buffer:
            TaskLog.objects.bulk_create(self.buffer)
            self.buffer = []
        self.last_flush = time.monotonic()
        fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if info is not None:
            fields["progress"] = round(
                self.lo + (self.hi - self.lo) * info.round / max(info.total_rounds, 1), 1
            )
        Task.objects.filter(pk=self.task_id, status=S.RUNNING).update(**fields)
        self.cancelled = Task.objects.filter(pk=self.task_id, cancel_requested=True).exists()
        return not self.cancelled


def _finite(value: float | None) -> float | None:
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return None
    return float(value)


def _set_progress(task_id: int, percent: float) -> None:
    Task.objects.filter(pk=task_id, status=S.RUNNING).update(progress=percent, heartbeat_at=timezone.now())


class RunFailed(Exception):
    """The work cannot be done as requested; the message is shown on the failed task."""


class Run:
    """What a kind's ``work`` gets: its task, progress, logs, the cancel flag, clean-ups."""

    def __init__(self, task: Task):
        self.task = task
        self.task_id = task.pk
        self._cleanups: list[Callable[[], None]] = []

    def progress(self, percent: float) -> None:
        _set_progress(self.task_id, round(percent, 1))

    def log(self, message: str, level: str = LogLevel.INFO) -> None:
        log(self.task_id, message, level)

    def check_cancel(self) -> None:
        """Raise ``training.Cancelled`` when a cancel was requested (call between chunks)."""
        if Task.objects.filter(pk=self.task_id, cancel_requested=True).exists():
            raise training.Cancelled()

    def on_discard(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` (say, delete a file written for the outcome) if the run does not complete."""
        self._cleanups.append(cleanup)

    def discard(self) -> None:
        for cleanup in reversed(self._cleanups):
            try:
                cleanup()
            except Exception:
                logger.warning("clean-up after task %s failed", self.task_id, exc_info=True)


def task_execute(task_id: int, *, worker: str) -> str:
    """Run one task end to end with its kind's ``work``. Safe to call more than once.

    Returns what happened: ``not-claimed``, ``wait``, ``completed``, ``cancelled`` or ``failed``.
    """
    try:
        task = _claim(task_id, worker)
    except _Wait:
        return "wait"
    if task is None:
        return "not-claimed"
    run = Run(task)
    try:
        with _Heartbeat(task_id):
            commit = kind_of(task).work(run)
            with transaction.atomic():
                result = commit()
                if not transition(
                    task_id, S.COMPLETED, where=Q(status=S.RUNNING), progress=100, result=result
                ):
                    raise _Lost()
            return "completed"
    except training.Cancelled:
        run.discard()
        if transition(task_id, S.CANCELLED, where=Q(status=S.RUNNING), error="Cancelled by request."):
            log(task_id, "Cancelled, as requested.")
        return "cancelled"
    except _Lost:
        run.discard()
        return "cancelled"
    except SoftTimeLimitExceeded:
        return _fail(run, "Stopped: the task reached its time limit.")
    except RunFailed as exc:
        return _fail(run, str(exc))
    except Exception as exc:
        logger.exception("task %s failed", task_id)
        return _fail(run, f"{type(exc).__name__}: {exc}")


# The name the tests, the demo and older callers use for a training run.
training_execute = task_execute


class _Lost(Exception):
    """The task left ``running`` (cancelled or reaped) while this worker finished it."""


def _fail(run: Run, message: str) -> str:
    run.discard()
    if transition(run.task_id, S.FAILED, where=Q(status=S.RUNNING), error=message[:5000]):
        log(run.task_id, message, LogLevel.ERROR)
    return "failed"


def _read_table(version: DatasetVersion, spec: training.TrainingSpec, extra: list[str] | None = None):
    wanted = [*spec.features, spec.label, *([spec.time_column] if spec.time_column else []), *(extra or [])]
    with stored_file_path(version.parquet) as path:
        available = set(pq.read_schema(path).names)
        return pq.read_table(path, columns=[c for c in dict.fromkeys(wanted) if c in available])


def _champion(task: Task) -> ModelVersion | None:
    """The active version a scheduled retraining must beat (the champion/challenger gate)."""
    p = task.parameters
    if not task.schedule_id or p.get("reproduce_of"):
        return None
    return (
        ModelVersion.objects.filter(model__name=p["model_name"], status="active")
        .select_related("model")
        .first()
    )


def _gate(run: Run, spec, table, champion: ModelVersion, result) -> dict:
    """Score the champion on the challenger's holdout and compare (before the table is freed)."""
    try:
        artifact, model = registry.version_load(champion)
        champion_metrics = training.holdout_metrics(spec, table, artifact.format, model, artifact.meta)
    except (training.SpecError, registry.artifacts.ArtifactError) as exc:
        why = "; ".join(exc.problems) if isinstance(exc, training.SpecError) else str(exc)
        run.log(f"Champion v{champion.version} cannot be scored on this holdout: {why}", LogLevel.WARNING)
        return {"promote": False, "why": why, "metric": registry.gate_metric(spec.objective)}
    decision = registry.gate_compare(spec.objective, result.metrics, champion_metrics)
    decision["championMetrics"] = champion_metrics
    return decision


def _reproduction(original: ModelVersion, result, stored) -> dict:
    """How a re-run of a version's training compares with it: same metrics, same bytes?"""
    keys = sorted(set(original.metrics) | set(result.metrics))
    differences = {
        k: {"original": original.metrics.get(k), "reproduced": result.metrics.get(k)}
        for k in keys
        if original.metrics.get(k) is None
        or result.metrics.get(k) is None
        or abs(original.metrics[k] - result.metrics[k]) > 1e-9
    }
    return {
        "ofVersionId": original.pk,
        "ofVersion": original.version,
        "model": original.model.name,
        "metricsMatch": not differences,
        "checksumMatch": stored.checksum == original.checksum,
        "original": original.metrics,
        "reproduced": result.metrics,
        "differences": differences,
    }


def _discard_unless_registered(stored: registry.StoredArtifact) -> None:
    if not ModelVersion.objects.filter(artifact=stored.name).exists():
        registry.artifact_discard(stored)


def training_work(run: Run) -> Callable[[], dict]:
    """Train the model a training task asks for; the commit registers its version."""
    task, task_id = run.task, run.task_id
    p = task.parameters
    writer = _RoundWriter(task_id)
    version = DatasetVersion.objects.select_related("dataset").get(pk=p["dataset_version_id"])
    feature_set = FeatureSet.objects.filter(pk=p["feature_set"]).first() if p.get("feature_set") else None
    spec = training.TrainingSpec(
        algorithm=p["algorithm"],
        objective=p["objective"],
        label=p["label"],
        features=p["features"],
        params=p["params"],
        split=p["split"],
        time_column=p.get("time_column"),
        validation_share=p["validation_share"],
        seed=p["seed"],
        num_threads=(task.resource_config or {}).get("threads") or min(os.cpu_count() or 1, 2),
    )
    started = time.monotonic()
    champion = _champion(task)
    table = _read_table(version, spec, champion.feature_schema.get("features") if champion else None)
    run.progress(3)
    run.log(
        f"Loaded {table.num_rows:,} rows x {len(spec.features)} features "
        f"from {version.dataset.name} v{version.version}."
    )
    try:
        result = training.train(spec, table, on_round=writer)
    except training.SpecError as exc:
        raise RunFailed("The data cannot be trained as requested: " + "; ".join(exc.problems)) from None
    gate = _gate(run, spec, table, champion, result) if champion is not None else None
    del table
    writer.flush()
    if result.fallback:
        run.log(
            f"LightGBM failed ({result.fallback['reason']}); trained {result.fallback['to']} instead.",
            LogLevel.WARNING,
        )
    run.progress(92)
    stored = registry.artifact_store(result)
    run.on_discard(lambda: _discard_unless_registered(stored))
    info = {
        "split": spec.split,
        "validationShare": spec.validation_share,
        "rows": result.rows,
        "bestIteration": result.best_iteration,
        "fallback": result.fallback,
        "objective": spec.objective,
        "seconds": round(time.monotonic() - started, 3),
    }

    def commit() -> dict:
        if p.get("reproduce_of"):  # a reproduction compares; it registers nothing
            original = ModelVersion.objects.select_related("model").get(pk=p["reproduce_of"])
            transaction.on_commit(lambda: registry.artifact_discard(stored))
            report = _reproduction(original, result, stored)
            log(
                task_id,
                f"Reproduced {original}: metrics {'match' if report['metricsMatch'] else 'differ'}, "
                f"artifact {'identical' if report['checksumMatch'] else 'differs'}.",
            )
            return {"reproduction": report, "metrics": result.metrics, "seconds": info["seconds"]}
        mv, created = registry.version_register_trained(
            model_name=p["model_name"],
            result=result,
            stored=stored,
            user=task.created_by,
            task=task,
            dataset_version=version,
            feature_set=feature_set,
            training_info=info,
            changelog=f"Trained by task #{task_id}.",
        )
        if not created:  # a second delivery: the first one's artifact stays, this copy goes
            registry.artifact_discard(stored)
        log(task_id, f"Registered {mv.model.name} v{mv.version}.")
        decision = None
        if gate is not None and created:
            decision = registry.gate_decide(version=mv, champion=champion, details=gate, user=task.created_by)
            log(task_id, f"Champion/challenger: {decision} ({gate.get('metric')}).")
        return {
            "gate": {**gate, "decision": decision} if gate is not None else None,
            "modelId": mv.model_id,
            "modelName": mv.model.name,
            "modelVersionId": mv.pk,
            "version": mv.version,
            "algorithm": result.algorithm,
            "metrics": result.metrics,
            "bestIteration": result.best_iteration,
            "rows": result.rows,
            "fallback": result.fallback,
            "seconds": info["seconds"],
        }

    return commit


# --------------------------------------------------------------------------- reaper and purge


def tasks_reap() -> dict[str, int]:
    """Hand back or fail running tasks whose worker stopped beating (killed, lost, OOM).

    Below the attempt cap the task is queued again; at the cap it ends failed.
    """
    cutoff = timezone.now() - _heartbeat_timeout()
    max_attempts = int(config_get("tasks-max-attempts"))
    requeued = failed = 0
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    for task in Task.objects.filter(stale, status=S.RUNNING):
        if task.cancel_requested:
            if transition(task.pk, S.CANCELLED, where=stale, error="Cancelled (worker lost)."):
                log(task.pk, "Worker lost while cancelling; marked cancelled.", LogLevel.WARNING)
            continue
        if task.attempts < max_attempts and transition(
            task.pk,
            S.QUEUED,
            where=stale,
            celery_task_id=_new_celery_id(),
            queued_at=timezone.now(),
            worker="",
        ):
            log(task.pk, f"Worker {task.worker} stopped responding; queued again.", LogLevel.WARNING)
            task.refresh_from_db()
            with contextlib.suppress(QueueUnavailable):  # _send has marked it failed
                _send(task)
            requeued += 1
        elif transition(
            task.pk,
            S.FAILED,
            where=stale,
            error=f"Worker {task.worker} stopped responding; gave up after {task.attempts} attempt(s).",
        ):
            log(task.pk, "Worker lost at the attempt cap; marked failed.", LogLevel.ERROR)
            failed += 1
    return {"requeued": requeued, "failed": failed}


def resend_later(task_id: int) -> None:
    """Send a queued task's message again after SLOT_WAIT_SECONDS (all slots were busy)."""
    from omm.celery import app

    task = Task.objects.filter(pk=task_id, status__in=[S.PENDING, S.QUEUED]).first()
    if task is None:
        return
    try:
        app.send_task(kind_of(task).job, (task.pk,), countdown=SLOT_WAIT_SECONDS, **_send_options(task))
    except Exception:  # the reaper still covers a task whose retry could not be sent
        logger.warning("could not re-send task %s", task_id, exc_info=True)


def logs_purge() -> int:
    """Delete task logs older than the ``tasks-log-retention-days`` setting."""
    days = int(config_get("tasks-log-retention-days"))
    deleted, _ = TaskLog.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()
    return deleted


# --------------------------------------------------------------------------- schedules


SCHEDULE_TASK = "tasks.run_schedule"


def _beat_schedule(every_minutes: int | None, cron: str | None) -> dict[str, Any]:
    from django.conf import settings

    if bool(every_minutes) == bool(cron):
        raise RequestInvalid({"schedule": ["Give either everyMinutes or cron, not both."]})
    if every_minutes:
        if (
            isinstance(every_minutes, bool)
            or not isinstance(every_minutes, int)
            or not 1 <= every_minutes <= 525_600
        ):
            raise RequestInvalid({"every_minutes": ["Must be an integer between 1 and 525600."]})
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=every_minutes, period=IntervalSchedule.MINUTES
        )
        return {"interval": interval, "crontab": None}
    parts = str(cron).split()
    if len(parts) != 5:
        raise RequestInvalid(
            {"cron": ["A cron has five fields: minute hour day-of-month month day-of-week."]}
        )
    minute, hour, dom, month, dow = parts
    try:
        from celery.schedules import crontab

        crontab(minute=minute, hour=hour, day_of_month=dom, month_of_year=month, day_of_week=dow)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise RequestInvalid({"cron": [f"Not a valid cron: {exc}"]}) from None
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=dom,
        month_of_year=month,
        day_of_week=dow,
        timezone=settings.TIME_ZONE,
    )
    return {"interval": None, "crontab": schedule}


def schedule_create(
    *,
    user,
    name: str,
    request: dict,
    every_minutes: int | None = None,
    cron: str | None = None,
    priority: str = Priority.MEDIUM,
    resource_config: dict | None = None,
    enabled: bool = True,
    type: str = TaskType.TRAINING,
) -> TaskSchedule:
    """Put a training (or another schedulable kind) on a schedule. The request is checked
    now and again at every run (a run without a dataset version uses the newest validated one)."""
    kind = _KINDS.get(kind_key(type, request))
    if kind is None:
        raise RequestInvalid({"type": [f"{type!r} tasks cannot be scheduled."]})
    name = (name or "").strip()
    if not name:
        raise RequestInvalid({"name": ["A schedule name is required."]})
    if (
        TaskSchedule.objects.filter(name=name).exists()
        or PeriodicTask.objects.filter(name=f"omm {type}: {name}").exists()
    ):
        raise RequestInvalid({"name": [f"A schedule named {name!r} exists."]})
    if priority not in Priority.values:
        raise RequestInvalid({"priority": [f"Unknown priority {priority!r}."]})
    resources = resource_config_clean(resource_config)
    kind.check(request, resources)
    stored_request = {k: v for k, v in request.items() if v is not None}
    with transaction.atomic():
        timing = _beat_schedule(every_minutes, cron)
        periodic = PeriodicTask.objects.create(
            name=f"omm {type}: {name}",
            task=SCHEDULE_TASK,
            queue="default",
            enabled=enabled,
            description=f"Runs a {type} task ({request.get('name') or name}); an OMM schedule.",
            **timing,
        )
        schedule = TaskSchedule.objects.create(
            name=name,
            type=type,
            parameters=stored_request,
            priority=priority,
            resource_config=resources,
            periodic_task=periodic,
            created_by=user,
        )
        periodic.kwargs = json.dumps({"schedule_id": schedule.pk})
        periodic.save(update_fields=["kwargs"])
    return schedule


def schedule_set_enabled(*, schedule: TaskSchedule, enabled: bool) -> TaskSchedule:
    periodic = schedule.periodic_task
    periodic.enabled = enabled
    periodic.save()  # django-celery-beat also resets last_run_at when disabling
    return schedule


def schedule_delete(*, schedule: TaskSchedule) -> None:
    # Deleting the PeriodicTask cascades to the schedule; past runs keep their rows.
    schedule.periodic_task.delete()


def schedule_run(schedule_id: int, *, trigger_key: str) -> Task | None:
    """One scheduled run: a normal task. A run delivered twice (same key) creates one task."""
    schedule = TaskSchedule.objects.select_related("created_by").filter(pk=schedule_id).first()
    if schedule is None:
        return None
    existing = Task.objects.filter(trigger_key=trigger_key).first()
    if existing is not None:
        return existing
    try:
        kind = _KINDS.get(kind_key(schedule.type, schedule.parameters))
        if kind is None:
            raise RequestInvalid({"type": [f"{schedule.type!r} tasks cannot be scheduled."]})
        with transaction.atomic():
            return kind.create(
                user=schedule.created_by,
                request={**schedule.parameters, "task_name": f"{schedule.name} (scheduled)"},
                priority=schedule.priority,
                resource_config=schedule.resource_config,
                schedule=schedule,
                trigger_key=trigger_key,
            )
    except IntegrityError:
        return Task.objects.filter(trigger_key=trigger_key).first()
    except RequestInvalid as exc:
        # Keep a visible record: the run was due and could not start.
        return Task.objects.create(
            name=f"{schedule.name} (scheduled)",
            type=schedule.type,
            status=S.FAILED,
            priority=schedule.priority,
            parameters=schedule.parameters,
            schedule=schedule,
            trigger_key=trigger_key,
            created_by=schedule.created_by,
            error=f"The scheduled request is no longer valid: {exc}",
            completed_at=timezone.now(),
        )


register_kind(
    TaskKind(
        key=TaskType.TRAINING,
        type=TaskType.TRAINING,
        job="apps.tasks.tasks.run_training",
        work=training_work,
        check=lambda request, resources: training_plan(request, resource_config=resources),
        create=training_create,
        request_of=training_request_of,
        uses_training_slot=True,
    )
)

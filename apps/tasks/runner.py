"""Running one task: claim it, keep its heartbeat, run its kind's work, commit or fail.

``task_execute`` is safe to call more than once for one task (at-least-once delivery): the
claim is a conditional update, and the outcome is committed in the same transaction that
marks the task completed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.config import config_get

from .errors import RunCancelled, RunFailed
from .kinds import kind_of
from .models import LogLevel, Task, TaskStatus, TaskType
from .services import heartbeat_timeout, log, transition

logger = logging.getLogger(__name__)

S = TaskStatus
# A running task's worker refreshes ``heartbeat_at`` this often; the reaper calls a run
# lost when it is older than the ``tasks-heartbeat-timeout-seconds`` setting.
HEARTBEAT_SECONDS = 2.0


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
                type=TaskType.TRAINING, status=S.RUNNING, heartbeat_at__gte=now - heartbeat_timeout()
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
    log(
        task_id,
        gettext("Started on %(worker)s (attempt %(n)s of %(max)s).")
        % {"worker": worker, "n": task.attempts, "max": max_attempts},
    )
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


def _set_progress(task_id: int, percent: float) -> None:
    Task.objects.filter(pk=task_id, status=S.RUNNING).update(progress=percent, heartbeat_at=timezone.now())


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
        """Raise ``RunCancelled`` when a cancel was requested (call between chunks)."""
        if Task.objects.filter(pk=self.task_id, cancel_requested=True).exists():
            raise RunCancelled()

    def on_discard(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` (say, delete a file written for the outcome) if the run does not complete."""
        self._cleanups.append(cleanup)

    def discard(self) -> None:
        for cleanup in reversed(self._cleanups):
            try:
                cleanup()
            except Exception:
                logger.warning("clean-up after task %s failed", self.task_id, exc_info=True)


def task_execute(*, task_id: int, worker: str) -> str:
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
    except RunCancelled:
        run.discard()
        if transition(
            task_id, S.CANCELLED, where=Q(status=S.RUNNING), error=gettext("Cancelled by request.")
        ):
            log(task_id, gettext("Cancelled, as requested."))
        return "cancelled"
    except _Lost:
        run.discard()
        return "cancelled"
    except SoftTimeLimitExceeded:
        return _fail(run, gettext("Stopped: the task reached its time limit."))
    except RunFailed as exc:
        return _fail(run, str(exc))
    except Exception as exc:
        logger.exception("task %s failed", task_id)
        return _fail(run, f"{type(exc).__name__}: {exc}")


class _Lost(Exception):
    """The task left ``running`` (cancelled or reaped) while this worker finished it."""


def _fail(run: Run, message: str) -> str:
    run.discard()
    if transition(run.task_id, S.FAILED, where=Q(status=S.RUNNING), error=message[:5000]):
        log(run.task_id, message, LogLevel.ERROR)
    return "failed"

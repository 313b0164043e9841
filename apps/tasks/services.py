"""The work queue's rules: one state machine, creating and queueing, cancel, re-run, reaper.

Every status change goes through ``transition``: a single conditional UPDATE that only
matches rows in a status the target may be reached from, so two workers, a cancel racing
a completion, or the reaper racing a late heartbeat cannot produce an illegal change.
The queue knows what a task does only through its kind (``kinds``).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.config import config_get
from apps.core.errors import Forbidden

from .errors import IllegalTransition, QueueUnavailable, RequestInvalid
from .kinds import TaskKind, kind_for, kind_key, kind_of
from .models import (
    BROKER_PRIORITY,
    FINAL_STATUSES,
    LogLevel,
    Priority,
    Task,
    TaskLog,
    TaskSchedule,
    TaskStatus,
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

# A running task asked to cancel that has not stopped cooperatively after this long has
# its worker process revoked.
CANCEL_GRACE_SECONDS = 30
# When every training slot is taken, a claimed-too-early task is re-sent this much later.
SLOT_WAIT_SECONDS = 3

MAX_RESOURCE_THREADS = 64
MAX_RESOURCE_MEMORY_MB = 256 * 1024
MAX_RESOURCE_TIMEOUT_SECONDS = 7 * 24 * 3600


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
    changed = Task.objects.filter(condition).update(status=target, **fields) == 1
    if changed and target in (S.FAILED, S.CANCELLED):
        _ended(task_id)
    return changed


def _ended(task_id: int) -> None:
    """Tell the task's kind that it ended failed or cancelled (``TaskKind.on_end``)."""
    task = Task.objects.filter(pk=task_id).only("pk", "type", "parameters").first()
    kind = kind_for(kind_key(task.type, task.parameters)) if task is not None else None
    if kind is None or kind.on_end is None:
        return
    try:
        with transaction.atomic():  # a savepoint: a failing hook never breaks the caller's work
            kind.on_end(task)
    except Exception:
        logger.warning("the end of task %s could not be passed on to its kind", task_id, exc_info=True)


def log(task_id: int, message: str, level: str = LogLevel.INFO, **fields: Any) -> None:
    TaskLog.objects.create(task_id=task_id, created_at=timezone.now(), level=level, message=message, **fields)


# --------------------------------------------------------------------------- requests


def resource_config_clean(config: Any) -> dict[str, int]:
    """Validated resource config: ``threads``, ``memoryMb``, ``timeoutSeconds`` (all optional)."""
    if config in (None, ""):
        return {}
    if not isinstance(config, dict):
        raise RequestInvalid({"resource_config": [gettext("Must be an object.")]})
    limits = {
        "threads": MAX_RESOURCE_THREADS,
        "memoryMb": MAX_RESOURCE_MEMORY_MB,
        "timeoutSeconds": MAX_RESOURCE_TIMEOUT_SECONDS,
    }
    problems, clean = [], {}
    for key, value in config.items():
        if key not in limits:
            problems.append(
                gettext("Unknown key %(key)s; known: %(known)s.")
                % {"key": repr(key), "known": ", ".join(limits)}
            )
        elif isinstance(value, bool) or not isinstance(value, int):
            problems.append(gettext("%(key)s must be an integer.") % {"key": key})
        elif not 1 <= value <= limits[key]:
            problems.append(
                gettext("%(key)s must be between 1 and %(max)s; got %(value)s.")
                % {"key": key, "max": limits[key], "value": value}
            )
        else:
            clean[key] = value
    if problems:
        raise RequestInvalid({"resource_config": problems})
    return clean


# --------------------------------------------------------------------------- creating and queueing


def _send_options(task: Task) -> dict[str, Any]:
    """Broker priority, and the task's own time limit when its resource config sets one
    (never above the platform's limits, which stay below the broker's visibility timeout)."""
    from django.conf import settings

    # No result is kept (CELERY_TASK_IGNORE_RESULT): say so here too, or the publish also
    # subscribes to the result backend (Redis) for an answer nobody reads.
    options: dict[str, Any] = {"priority": BROKER_PRIORITY[Priority(task.priority)], "ignore_result": True}
    timeout = (task.resource_config or {}).get("timeoutSeconds")
    if timeout:
        grace = settings.CELERY_TASK_TIME_LIMIT - settings.CELERY_TASK_SOFT_TIME_LIMIT
        options["soft_time_limit"] = min(timeout, settings.CELERY_TASK_SOFT_TIME_LIMIT)
        options["time_limit"] = min(timeout + grace, settings.CELERY_TASK_TIME_LIMIT)
    return options


def _send(task: Task) -> None:
    from celery import current_app as app  # the OMM app, with no import of omm (which imports core)

    try:
        app.send_task(kind_of(task).job, (task.pk,), task_id=task.celery_task_id, **_send_options(task))
    except Exception as exc:
        error = gettext("Could not queue the task: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}
        transition(task.pk, S.FAILED, error=error)
        raise QueueUnavailable(str(exc)) from exc
    # Only from pending: a worker may have claimed the task between the publish and here
    # (RUNNING may go back to QUEUED, for the reaper), and must keep it.
    transition(task.pk, S.QUEUED, where=Q(status=S.PENDING), queued_at=timezone.now())


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
            {
                "priority": [
                    gettext("Unknown priority %(priority)s; one of %(known)s.")
                    % {"priority": repr(priority), "known": ", ".join(Priority.values)}
                ]
            }
        )
    return priority


def creation_allowed(user, kind: TaskKind | None) -> None:
    """Raise Forbidden unless ``user`` may queue ``kind`` (a user-less run is the platform's)."""
    if kind is None or kind.create_perm is None or user is None:
        return
    if not user.has_perm(kind.create_perm):
        raise Forbidden(
            gettext("Your account may not queue %(type)s tasks; an admin can grant it.") % {"type": kind.type}
        )


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
    requested_resources: dict | None = None,
) -> tuple[Task, dict]:
    """The one way a kind's ``create`` queues a request: priority and resources cleaned,
    ``check(request, resources)`` giving the parameters (RequestInvalid stores nothing),
    then the task, named by ``request["task_name"]`` or ``name(parameters)``.

    ``requested_resources`` are resources asked for in units OMM does not schedule by (the
    seed design's cpu, memory, gpu): kept on the parameters for the record, never applied."""
    priority_clean(priority)
    resources = resource_config_clean(resource_config)
    parameters = check(request, resources)
    if requested_resources:
        parameters = {**parameters, "requested_resources": dict(requested_resources)}
    creation_allowed(user, kind_for(kind_key(type, parameters)))
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


def task_cancel(*, task: Task) -> Task:
    """Cancel a task: at once when it has not started, at its next round when it runs.

    A running task that has not stopped after CANCEL_GRACE_SECONDS has its worker
    process revoked. Cancelling a finished task raises IllegalTransition.
    """
    if transition(task.pk, S.CANCELLED, where=Q(status__in=[S.PENDING, S.QUEUED]), cancel_requested=True):
        _revoke(task.celery_task_id, terminate=False)
        log(task.pk, gettext("Cancelled before it started."))
    elif Task.objects.filter(pk=task.pk, status=S.RUNNING).update(cancel_requested=True):
        log(task.pk, gettext("Cancel requested; stopping at the next round."))
        transaction.on_commit(
            lambda: _send_quietly("tasks.enforce_cancel", task.pk, countdown=CANCEL_GRACE_SECONDS)
        )
    else:
        task.refresh_from_db()
        raise IllegalTransition(
            gettext("Task #%(id)s is %(status)s; only an unfinished task can be cancelled.")
            % {"id": task.pk, "status": task.status_word}
        )
    task.refresh_from_db()
    return task


def _send_quietly(name: str, *args: Any, **options: Any) -> None:
    # A follow-up message (cancel enforcement, a retry for a slot) that cannot be sent is
    # logged: the request itself was already recorded and the reaper still covers the task.
    # Sent by name: the task module calls these services, so they do not import it back.
    from celery import current_app as app  # the OMM app, with no import of omm (which imports core)

    try:
        app.send_task(name, args, **options)
    except Exception:
        logger.warning("could not send %s%s", name, args, exc_info=True)


def _revoke(celery_task_id: str, *, terminate: bool) -> None:
    from celery import current_app as app  # the OMM app, with no import of omm (which imports core)

    if celery_task_id:
        try:
            app.control.revoke(celery_task_id, terminate=terminate, signal="SIGKILL")
        except Exception:  # the DB status is what counts; a lost broadcast is logged only
            logger.warning("revoke of %s could not be broadcast", celery_task_id, exc_info=True)


def cancel_enforce(*, task_id: int) -> bool:
    """Revoke a running task's worker process if it ignored a cancel; True when it did."""
    task = Task.objects.filter(pk=task_id, status=S.RUNNING, cancel_requested=True).first()
    if task is None:
        return False
    _revoke(task.celery_task_id, terminate=True)
    error = gettext("Cancelled (worker revoked).")
    if transition(task_id, S.CANCELLED, where=Q(cancel_requested=True), error=error):
        log(
            task_id,
            gettext("Did not stop within the grace period; worker process revoked."),
            LogLevel.WARNING,
        )
        return True
    return False


def task_rerun(*, task: Task, user) -> Task:
    """Queue a new task with the same request (the dataset version it used, not the newest)."""
    if task.status not in FINAL_STATUSES:
        raise IllegalTransition(
            gettext("Task #%(id)s is %(status)s; re-run it once it has finished.")
            % {"id": task.pk, "status": task.status_word}
        )
    kind = kind_of(task)
    return kind.create(
        user=user,
        request={**kind.request_of(task), "task_name": task.name},
        priority=task.priority,
        resource_config=task.resource_config,
        rerun_of=task,
    )


def heartbeat_timeout() -> timedelta:
    """How long a running task may stay silent before the reaper calls its worker lost."""
    return timedelta(seconds=float(config_get("tasks-heartbeat-timeout-seconds")))


# --------------------------------------------------------------------------- reaper and purge


def tasks_reap() -> dict[str, int]:
    """Hand back or fail running tasks whose worker stopped beating (killed, lost, OOM).

    Below the attempt cap the task is queued again; at the cap it ends failed. Queued tasks
    whose message was lost are sent again (``resent``).
    """
    cutoff = timezone.now() - heartbeat_timeout()
    max_attempts = int(config_get("tasks-max-attempts"))
    requeued = failed = 0
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    for task in Task.objects.filter(stale, status=S.RUNNING):
        if task.cancel_requested:
            if transition(task.pk, S.CANCELLED, where=stale, error=gettext("Cancelled (worker lost).")):
                log(task.pk, gettext("Worker lost while cancelling; marked cancelled."), LogLevel.WARNING)
            continue
        if task.attempts < max_attempts and transition(
            task.pk,
            S.QUEUED,
            where=stale,
            celery_task_id=_new_celery_id(),
            queued_at=timezone.now(),
            worker="",
        ):
            message = gettext("Worker %(worker)s stopped responding; queued again.") % {"worker": task.worker}
            log(task.pk, message, LogLevel.WARNING)
            task.refresh_from_db()
            with contextlib.suppress(QueueUnavailable):  # _send has marked it failed
                _send(task)
            requeued += 1
        elif transition(
            task.pk,
            S.FAILED,
            where=stale,
            error=gettext("Worker %(worker)s stopped responding; gave up after %(n)s attempt(s).")
            % {"worker": task.worker, "n": task.attempts},
        ):
            log(task.pk, gettext("Worker lost at the attempt cap; marked failed."), LogLevel.ERROR)
            failed += 1
    return {"requeued": requeued, "failed": failed, "resent": _resend_lost(cutoff)}


def _resend_lost(cutoff) -> int:
    """Send again queued tasks whose message shows no sign of life for two reaper windows.

    A message can vanish with the worker holding it: one waiting for a training slot (its
    delayed re-send lives in the worker's memory), or prefetched when the worker was killed
    (Redis hands it back only after its visibility timeout, 70 minutes). A queued task is
    stamped when sent (``queued_at``) and at each slot wait (``heartbeat_at``); past both, a
    new message is sent. A duplicate is harmless: only one message can claim the task.
    """
    lost_cutoff = cutoff - heartbeat_timeout()
    stale = Q(queued_at__lt=lost_cutoff) & (Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=lost_cutoff))
    resent = 0
    for task in Task.objects.filter(stale, status=S.QUEUED):
        renewed = Task.objects.filter(stale, pk=task.pk, status=S.QUEUED)
        if not renewed.update(celery_task_id=_new_celery_id(), queued_at=timezone.now()):
            continue  # claimed or re-sent meanwhile
        task.refresh_from_db()
        log(task.pk, gettext("No worker took it; sent again."), LogLevel.WARNING)
        with contextlib.suppress(QueueUnavailable):  # _send has marked it failed
            _send(task)
        resent += 1
    return resent


def resend_later(*, task_id: int) -> None:
    """Send a queued task's message again after SLOT_WAIT_SECONDS (all slots were busy)."""
    from celery import current_app as app  # the OMM app, with no import of omm (which imports core)

    task = Task.objects.filter(pk=task_id, status__in=[S.PENDING, S.QUEUED]).first()
    if task is None:
        return
    # A sign of life for the reaper: this task's message is alive (see _resend_lost).
    Task.objects.filter(pk=task_id, status__in=[S.PENDING, S.QUEUED]).update(heartbeat_at=timezone.now())
    try:
        app.send_task(kind_of(task).job, (task.pk,), countdown=SLOT_WAIT_SECONDS, **_send_options(task))
    except Exception:  # the reaper still covers a task whose retry could not be sent
        logger.warning("could not re-send task %s", task_id, exc_info=True)


def logs_purge() -> int:
    """Delete task logs older than the ``tasks-log-retention-days`` setting."""
    days = int(config_get("tasks-log-retention-days"))
    deleted, _ = TaskLog.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()
    return deleted

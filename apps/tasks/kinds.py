"""The registry of task kinds: the only way the work queue knows what a task does.

Each domain registers its kinds from its app's ``ready()`` (trainings and batch
predictions from ``apps.models``, evaluations from ``apps.evaluations``, retrieval builds
from ``apps.qa``, dataset validation from ``apps.datasets``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from .errors import IllegalTransition
from .models import Task


@dataclass(frozen=True)
class TaskKind:
    """How one kind of task is checked, created, run and re-run.

    ``key`` is the task type, or ``type:kind`` when the parameters carry a ``kind`` (a
    retrieval build is a training). ``work(run)`` does the slow part and returns a
    ``commit`` callable that stores the outcome; it runs in the same transaction that
    marks the task completed. ``serializer`` is the API's request serializer (for
    ``POST /api/tasks`` and schedules); ``related(task)`` gives (label, admin URL) pairs of
    the records the task points at, for the admin.
    """

    key: str
    type: str
    job: str  # the Celery task's name; its module's route picks the queue
    work: Callable[[Any], Callable[[], dict]]  # (runner.Run) -> commit
    check: Callable[[dict, dict], Any]  # (request, resource config) -> plan; raises RequestInvalid
    create: Callable[..., Task]
    request_of: Callable[[Task], dict]
    uses_training_slot: bool = False
    serializer: Any = None
    schedulable: bool = False
    created_at_tasks_endpoint: bool = False
    related: Callable[[Task], list[tuple[str, str]]] | None = None
    # A permission the requester needs on top of tasks.add_task: a kind whose outcome is a
    # model version asks for models.add_modelversion, which integrators (systems) lack
    # unless an admin grants it to the account.
    create_perm: str | None = None
    # Called when a task of this kind ends failed or cancelled, whichever way (cancelled
    # while queued, revoked, reaped at the attempt cap, refused by the broker): the
    # domain brings its own rows in step. Must be idempotent.
    on_end: Callable[[Task], None] | None = None


_KINDS: dict[str, TaskKind] = {}


def register_kind(kind: TaskKind) -> None:
    _KINDS[kind.key] = kind


def kind_key(task_type: str, parameters: dict | None) -> str:
    sub = (parameters or {}).get("kind")
    return f"{task_type}:{sub}" if sub else task_type


def kind_of(task: Task) -> TaskKind:
    key = kind_key(task.type, task.parameters)
    if key not in _KINDS:
        raise IllegalTransition(gettext("No runner is registered for %(kind)s tasks.") % {"kind": repr(key)})
    return _KINDS[key]


def kind_for(key: str) -> TaskKind | None:
    return _KINDS.get(key)


def schedulable_kinds() -> dict[str, TaskKind]:
    """The kinds a schedule may run, by task type."""
    return {str(kind.type): kind for kind in _KINDS.values() if kind.schedulable}


def kinds_created_at_tasks_endpoint() -> dict[str, TaskKind]:
    """The kinds ``POST /api/tasks`` creates, by task type."""
    return {str(kind.type): kind for kind in _KINDS.values() if kind.created_at_tasks_endpoint}

"""The task kinds of question answering, registered with the work queue from ``ready()``:
a QA model build (a training of kind ``retrieval``) and an accuracy evaluation (an
evaluation of kind ``retrieval``)."""

from __future__ import annotations

from apps.tasks.kinds import TaskKind, kind_key, register_kind
from apps.tasks.models import TaskType

from .build import KIND, build_check, build_create, build_request_of, build_work
from .evaluation import evaluation_check, evaluation_create, evaluation_request_of, evaluation_work


def register() -> None:
    register_kind(
        TaskKind(
            key=kind_key(TaskType.TRAINING, {"kind": KIND}),
            type=TaskType.TRAINING,
            job="apps.qa.tasks.run_build",
            work=lambda run: build_work(run=run),
            check=lambda request, resources: build_check(request=request, resources=resources),
            create=build_create,
            request_of=lambda task: build_request_of(task=task),
            uses_training_slot=True,
            create_perm="models.add_modelversion",  # a build registers a model version
        )
    )
    register_kind(
        TaskKind(
            key=kind_key(TaskType.EVALUATION, {"kind": KIND}),
            type=TaskType.EVALUATION,
            job="apps.qa.tasks.run_evaluation",
            work=lambda run: evaluation_work(run=run),
            check=lambda request, resources: evaluation_check(request=request, resources=resources),
            create=lambda **kwargs: evaluation_create(**kwargs).task,
            request_of=lambda task: evaluation_request_of(task=task),
        )
    )

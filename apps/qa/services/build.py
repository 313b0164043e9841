"""Building a QA model version: a training task of kind ``retrieval`` whose artifact is the
index (``omm-retrieval``, no pickle), signed and versioned like any model.

``build_check`` and ``build_work`` are the kind's hooks (registered in ``kinds``);
``build_create`` queues one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from apps.datasets.models import DatasetKind, DatasetVersion
from apps.datasets.selectors import bank_records, scoring_version
from apps.models import services as registry
from apps.models.models import Model, ModelStatus, ModelType
from apps.tasks import services as queue
from apps.tasks.errors import RequestInvalid, RunFailed
from apps.tasks.models import Task, TaskType
from apps.tasks.runner import Run

from .. import accuracy, register_questions, retrieval
from ..config import qa_model_name, sure_threshold
from ..selectors import aliases_table

KIND = "retrieval"  # the ``kind`` of the training and evaluation tasks of this domain
SELF_CHECK_QUESTIONS = 1_000  # generated noisy questions a new version is checked on
SELF_CHECK_SEED = 20_261_122


def build_check(*, request: dict, resources: dict | None = None) -> dict[str, Any]:
    """Check a "train QA model" request; raise RequestInvalid listing every problem.

    ``request`` keys: dataset (a bank-records dataset id), dataset_version (number; default
    the newest validated), name (the model; default the ``qa-model`` setting).
    """
    errors: dict[str, list[str]] = {}
    name = str(request.get("name") or qa_model_name()).strip()
    if not name or len(name) > 200:
        errors["name"] = [_("Give a model name of 1 to 200 characters.")]
    existing = Model.objects.filter(name=name).first() if name else None
    if existing is not None and existing.type != ModelType.RETRIEVAL:
        errors["name"] = [
            _("%(name)s is a %(type)s model; a QA model needs a retrieval model name.")
            % {"name": name, "type": str(existing.get_type_display()).lower()}
        ]
    elif existing is not None and existing.status == ModelStatus.ARCHIVED:
        errors["name"] = [_("%(name)s is archived; it takes no new versions.") % {"name": name}]
    version = scoring_version(
        request.get("dataset"), request.get("dataset_version"), errors, kind=DatasetKind.BANK_RECORDS
    )
    if version is not None and not version.valid_count:
        errors["dataset_version"] = [
            _("%(version)s has no valid bank record to answer from.") % {"version": version}
        ]
    if errors:
        raise RequestInvalid(errors)
    return {
        "kind": KIND,
        "model_name": name,
        "dataset": version.dataset_id,
        "dataset_name": version.dataset.name,
        "dataset_version": version.version,
        "dataset_version_id": version.pk,
        "records": version.valid_count,
    }


def build_create(*, user, request: dict, **options: Any) -> Task:
    """Queue a QA model build on the ``training`` queue; nothing is stored when invalid.

    ``options``: priority, resource_config, schedule, trigger_key, rerun_of, enqueue.
    """
    task, _parameters = queue.checked_task_create(
        type=TaskType.TRAINING,
        check=lambda request, resources: build_check(request=request, resources=resources),
        name=lambda p: _("Train QA model %(model_name)s on %(dataset_name)s v%(dataset_version)s") % p,
        user=user,
        request=request,
        **options,
    )
    return task


def build_request_of(*, task: Task) -> dict:
    """The request that queued a build, for a rerun."""
    p = task.parameters
    return {
        "name": p.get("model_name"),
        "dataset": p.get("dataset"),
        "dataset_version": p.get("dataset_version"),
    }


def build_work(*, run: Run) -> Callable[[], dict]:
    """Build the index from the valid records, check it on generated questions, store it."""
    p = run.task.parameters
    version = DatasetVersion.objects.select_related("dataset").get(pk=p["dataset_version_id"])
    started = time.monotonic()
    records = bank_records(version)
    aliases = aliases_table()
    run.log(
        _("Read %(records)s valid records of %(version)s; %(aliases)s aliases.")
        % {"records": f"{len(records['bank_name']):,}", "version": version, "aliases": len(aliases)}
    )
    run.progress(10)
    run.check_cancel()
    try:
        index = retrieval.RetrievalIndex.build(records, aliases=aliases)
    except ValueError as exc:
        raise RunFailed(_("The records cannot be indexed: %(error)s") % {"error": exc}) from None
    build_seconds = time.monotonic() - started
    run.log(
        _("Indexed %(records)s records in %(seconds).1f s.")
        % {"records": f"{len(index):,}", "seconds": build_seconds}
    )
    run.progress(60)
    run.check_cancel()
    # A self-check on generated noisy questions: a quick, honest read of the version that
    # the versions page can show side by side (a held-out evaluation is a QA evaluation).
    # (Chinese names: the CNAPS generator; other scripts: the register generator.)
    generated = register_questions.questions_for(
        records, SELF_CHECK_QUESTIONS, seed=SELF_CHECK_SEED, aliases=aliases
    )
    figures = accuracy.accuracy(
        index, [q.text for q in generated], [q.bank_code for q in generated], threshold=sure_threshold()
    )
    run.progress(80)
    payload = index.to_bytes()
    meta = {"records": len(index), "aliases": len(aliases), "dataset_version_id": version.pk}
    stored = registry.artifact_store_bytes(model_bytes=payload, fmt=retrieval.FORMAT, meta=meta)
    run.on_discard(lambda: registry.artifact_discard(stored=stored))
    metrics = {
        "top1": figures["top1"],
        "top5": figures["top5"],
        "not_sure": figures["not_sure"],
        "records": len(index),
        "build_seconds": round(build_seconds, 3),
    }
    run.log(
        _(
            "Self-check on %(questions)s generated questions: top-1 %(top1)s of answered, "
            "not sure %(not_sure)s, top-5 %(top5)s."
        )
        % {
            "questions": f"{SELF_CHECK_QUESTIONS:,}",
            "top1": accuracy.shown(figures["top1"]),
            "not_sure": accuracy.shown(figures["not_sure"]),
            "top5": accuracy.shown(figures["top5"]),
        }
    )

    def commit() -> dict:
        mv, created = registry.version_register(
            model_name=p["model_name"],
            model_type=ModelType.RETRIEVAL,
            algorithm=retrieval.FORMAT,
            stored=stored,
            user=run.task.created_by,
            metrics=metrics,
            parameters={"aliases": len(aliases), "sure_threshold": figures["threshold"]},
            feature_schema={"features": ["question"]},
            task=run.task,
            dataset_version=version,
            training_info={
                "seconds": round(time.monotonic() - started, 3),
                "self_check": SELF_CHECK_QUESTIONS,
            },
            changelog=_("Built by task #%(task)s from %(version)s.")
            % {"task": run.task_id, "version": version},
        )
        if not created:
            registry.artifact_discard(stored=stored)
        return {
            "modelId": mv.model_id,
            "modelName": mv.model.name,
            "modelVersionId": mv.pk,
            "version": mv.version,
            "algorithm": retrieval.FORMAT,
            "metrics": metrics,
            "seconds": round(time.monotonic() - started, 3),
        }

    return commit

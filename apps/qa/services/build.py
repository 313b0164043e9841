"""Building a QA model version: a training task of kind ``retrieval`` whose artifact is the
index (``omm-retrieval``, no pickle), signed and versioned like any model.

``build_check`` and ``build_work`` are the kind's hooks (registered in ``kinds``);
``build_create`` queues one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from apps.datasets.models import DatasetKind, DatasetVersion
from apps.datasets.selectors import scoring_version
from apps.models import services as registry
from apps.models.models import Model, ModelStatus, ModelType
from apps.tasks import services as queue
from apps.tasks.errors import RequestInvalid, RunFailed
from apps.tasks.models import Task, TaskType
from apps.tasks.runner import Run

from .. import accuracy, questions, retrieval
from ..config import qa_model_name, sure_threshold
from ..selectors import aliases_table, bank_records

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
        errors["name"] = ["Give a model name of 1 to 200 characters."]
    existing = Model.objects.filter(name=name).first() if name else None
    if existing is not None and existing.type != ModelType.RETRIEVAL:
        errors["name"] = [f"{name} is a {existing.type} model; a QA model needs a retrieval model name."]
    elif existing is not None and existing.status == ModelStatus.ARCHIVED:
        errors["name"] = [f"{name} is archived; it takes no new versions."]
    version = scoring_version(
        request.get("dataset"), request.get("dataset_version"), errors, kind=DatasetKind.BANK_RECORDS
    )
    if version is not None and not version.valid_count:
        errors["dataset_version"] = [f"{version} has no valid bank record to answer from."]
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
    task, _ = queue.checked_task_create(
        type=TaskType.TRAINING,
        check=lambda request, resources: build_check(request=request, resources=resources),
        name=lambda p: f"Train QA model {p['model_name']} on {p['dataset_name']} v{p['dataset_version']}",
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
    run.log(f"Read {len(records['bank_name']):,} valid records of {version}; {len(aliases)} aliases.")
    run.progress(10)
    run.check_cancel()
    try:
        index = retrieval.RetrievalIndex.build(records, aliases=aliases)
    except ValueError as exc:
        raise RunFailed(f"The records cannot be indexed: {exc}") from None
    build_seconds = time.monotonic() - started
    run.log(f"Indexed {len(index):,} records in {build_seconds:.1f} s.")
    run.progress(60)
    run.check_cancel()
    # A self-check on generated noisy questions: a quick, honest read of the version that
    # the versions page can show side by side (a held-out evaluation is a QA evaluation).
    generated = questions.generate_questions(
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
        f"Self-check on {SELF_CHECK_QUESTIONS:,} generated questions: "
        f"top-1 {accuracy.shown(figures['top1'])} of answered, "
        f"not sure {accuracy.shown(figures['not_sure'])}, top-5 {accuracy.shown(figures['top5'])}."
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
            changelog=f"Built by task #{run.task_id} from {version}.",
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

"""Accuracy evaluations of retrieval versions: a task of kind ``retrieval`` on the
``evaluation`` queue that asks every labelled question of a tabular dataset and stores the
figures (top-1, top-5, not sure) and the failures.

``evaluation_check`` and ``evaluation_work`` are the kind's hooks (registered in ``kinds``);
``evaluation_create`` queues one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pyarrow.parquet as pq
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.datasets.files import stored_file_path
from apps.datasets.selectors import columns_of, scoring_version
from apps.models import services as registry
from apps.models.errors import ArtifactError
from apps.models.models import ModelType, ModelVersion
from apps.tasks import services as queue
from apps.tasks.errors import RequestInvalid, RunFailed
from apps.tasks.models import Task, TaskType
from apps.tasks.runner import Run

from .. import accuracy
from ..config import sure_threshold
from ..models import QAEvaluation
from .build import KIND

MAX_EVALUATION_QUESTIONS = 200_000


def evaluation_check(*, request: dict, resources: dict | None = None) -> dict[str, Any]:
    """Check an accuracy evaluation request; raise RequestInvalid listing every problem.

    ``request`` keys: model_version (a retrieval version id), dataset (a tabular dataset id),
    dataset_version (number; default newest validated), question_column (default
    ``question``), code_column (default ``expected_code``).
    """
    errors: dict[str, list[str]] = {}
    raw = request.get("model_version")
    version = (
        ModelVersion.objects.select_related("model").filter(pk=raw).first()
        if isinstance(raw, int) and not isinstance(raw, bool)
        else None
    )
    if version is None:
        errors["model_version"] = [_("No model version with id %(id)r.") % {"id": raw}]
    elif version.model.type != ModelType.RETRIEVAL:
        errors["model_version"] = [
            _("%(version)s is a %(type)s model; this evaluates retrieval versions.")
            % {"version": version, "type": str(version.model.get_type_display()).lower()}
        ]
    data = scoring_version(request.get("dataset"), request.get("dataset_version"), errors)
    question_column = request.get("question_column") or "question"
    code_column = request.get("code_column") or "expected_code"
    if data is not None:
        columns = columns_of(data)
        for field, column in (("question_column", question_column), ("code_column", code_column)):
            if column not in columns:
                errors[field] = [
                    _("%(data)s has no column %(column)r; its columns: %(columns)s.")
                    % {"data": data, "column": column, "columns": ", ".join(list(columns)[:20])}
                ]
        if data.row_count and data.row_count > MAX_EVALUATION_QUESTIONS:
            errors["dataset"] = [
                _("%(data)s has %(rows)s rows; at most %(limit)s.")
                % {"data": data, "rows": f"{data.row_count:,}", "limit": f"{MAX_EVALUATION_QUESTIONS:,}"}
            ]
    if errors:
        raise RequestInvalid(errors)
    return {
        "kind": KIND,
        "model_version": version.pk,
        "model_name": version.model.name,
        "version": version.version,
        "dataset": data.dataset_id,
        "dataset_name": data.dataset.name,
        "dataset_version": data.version,
        "dataset_version_id": data.pk,
        "question_column": question_column,
        "code_column": code_column,
    }


def evaluation_create(*, user, request: dict, **options: Any) -> QAEvaluation:
    """Queue an accuracy evaluation on the ``evaluation`` queue; nothing is stored when invalid.

    ``options``: priority, resource_config, schedule, trigger_key, rerun_of, enqueue.
    """
    with transaction.atomic():
        task, p = queue.checked_task_create(
            type=TaskType.EVALUATION,
            check=lambda request, resources: evaluation_check(request=request, resources=resources),
            name=lambda p: (
                _("QA accuracy of %(model_name)s v%(version)s on %(dataset_name)s v%(dataset_version)s") % p
            ),
            user=user,
            request=request,
            **options,
        )
        return QAEvaluation.objects.create(
            task=task,
            model_version_id=p["model_version"],
            dataset_version_id=p["dataset_version_id"],
            question_column=p["question_column"],
            code_column=p["code_column"],
            created_by=user,
        )


def evaluation_request_of(*, task: Task) -> dict:
    """The request that queued an evaluation, for a rerun."""
    p = task.parameters
    return {
        k: p.get(k) for k in ("model_version", "dataset", "dataset_version", "question_column", "code_column")
    }


def _code_text(value: Any) -> str:
    """A code cell as its 12 digits: CSV readers may have typed it as an integer."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text.zfill(12) if text.isdigit() else text


def evaluation_work(*, run: Run) -> Callable[[], dict]:
    """Ask every labelled question with the version; the commit stores the figures and failures."""
    ev = QAEvaluation.objects.select_related("model_version", "dataset_version").get(task_id=run.task_id)
    try:
        _stored, index = registry.version_load(version=ev.model_version)
    except ArtifactError as exc:
        raise RunFailed(
            _("%(version)s cannot be loaded: %(error)s") % {"version": ev.model_version, "error": exc}
        ) from None
    with stored_file_path(ev.dataset_version.parquet) as path:
        table = pq.read_table(path, columns=[ev.question_column, ev.code_column])
    texts = ["" if q is None else str(q) for q in table.column(ev.question_column).to_pylist()]
    codes = [_code_text(c) for c in table.column(ev.code_column).to_pylist()]
    run.log(
        _("Asking %(questions)s questions of %(data)s with %(version)s.")
        % {"questions": f"{len(texts):,}", "data": ev.dataset_version, "version": ev.model_version}
    )
    total = max(len(texts), 1)

    def tick(done: int) -> None:
        run.progress(5 + 90 * done / total)
        run.check_cancel()

    started = time.perf_counter()
    figures = accuracy.accuracy(index, texts, codes, threshold=sure_threshold(), tick=tick)
    figures["seconds"] = round(time.perf_counter() - started, 3)
    failures = figures.pop("failures")
    run.log(
        _("Top-1 %(top1)s of answered, top-5 %(top5)s, not sure %(not_sure)s; %(failures)s failures.")
        % {
            "top1": accuracy.shown(figures["top1"]),
            "top5": accuracy.shown(figures["top5"]),
            "not_sure": accuracy.shown(figures["not_sure"]),
            "failures": figures["failures_total"],
        }
    )

    def commit() -> dict:
        QAEvaluation.objects.filter(pk=ev.pk).update(
            metrics=figures, failures=failures, rows=len(texts), completed_at=timezone.now()
        )
        return {"qaEvaluationId": ev.pk, "modelVersionId": ev.model_version_id, "metrics": figures}

    return commit

"""Batch prediction: score a whole dataset version with a model version, as a task.

The task runs on the ``prediction`` queue. It reads the version's features (and the
dataset's key columns, so each score can be joined back) from the stored Parquet file in
chunks, checks the cancel flag between chunks, and writes a CSV whose text cells are
neutralised against spreadsheet formulas. The file is served back by the API.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext

from apps.core.csvsafe import cell, neutralise_column
from apps.datasets.models import DatasetVersion
from apps.datasets.selectors import columns_of, scoring_version
from apps.datasets.services import stored_file_path
from apps.tasks import services as queue
from apps.tasks.errors import RequestInvalid
from apps.tasks.kinds import TaskKind, register_kind
from apps.tasks.models import Task, TaskType
from apps.tasks.runner import Run

from . import training
from .models import BatchPrediction, ModelType, ModelVersion, VersionStatus
from .reason_texts import worded
from .services import version_load

CHUNK_ROWS = 200_000


def _check(request: dict, resources: dict | None = None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    version = ModelVersion.objects.select_related("model").filter(pk=request.get("model_version")).first()
    if version is None:
        raise RequestInvalid(
            {
                "model_version": [
                    gettext("No model version with id %(id)s.") % {"id": request.get("model_version")}
                ]
            }
        )
    if version.model.type == ModelType.RETRIEVAL:
        errors["model_version"] = [
            gettext("A retrieval model answers questions; it does not score datasets.")
        ]
    if version.status == VersionStatus.DEPRECATED:
        errors["model_version"] = [gettext("%(version)s is deprecated.") % {"version": version}]
    dataset_version = scoring_version(request.get("dataset"), request.get("dataset_version"), errors)
    columns = columns_of(dataset_version) if dataset_version is not None else {}
    missing = [f for f in version.feature_schema.get("features", []) if f not in columns]
    if dataset_version is not None and missing:
        errors["dataset"] = [
            gettext("%(dataset)s v%(number)s lacks the version's feature(s): %(features)s.")
            % {
                "dataset": dataset_version.dataset.name,
                "number": dataset_version.version,
                "features": ", ".join(missing[:10]),
            }
        ]
    if errors:
        raise RequestInvalid(errors)
    return {
        "model_version": version.pk,
        "model_id": version.model_id,
        "model_name": version.model.name,
        "version": version.version,
        "dataset": dataset_version.dataset_id,
        "dataset_version": dataset_version.version,
        "dataset_version_id": dataset_version.pk,
        "key_columns": [k for k in dataset_version.key_columns if k in columns],
    }


def batch_create(*, user, request: dict, **options: Any) -> Task:
    """Check a batch-prediction request and queue it on the ``prediction`` queue.

    ``options``: priority, resource_config, schedule, trigger_key, rerun_of, enqueue.
    """
    task, _ = queue.checked_task_create(
        type=TaskType.PREDICTION,
        check=_check,
        name=lambda p: (
            gettext("Score dataset #%(dataset)s v%(number)s with %(model)s v%(version)s")
            % {
                "dataset": p["dataset"],
                "number": p["dataset_version"],
                "model": p["model_name"],
                "version": p["version"],
            }
        ),
        user=user,
        request=request,
        **options,
    )
    return task


def _request_of(task: Task) -> dict:
    p = task.parameters
    return {
        "model_version": p["model_version"],
        "dataset": p["dataset"],
        "dataset_version": p["dataset_version"],
    }


def _score_columns(scores: np.ndarray, objective: str, classes: list) -> dict[str, np.ndarray]:
    if scores.ndim == 2:
        return {f"score_{c}": scores[:, i] for i, c in enumerate(classes or range(scores.shape[1]))}
    return {"prediction" if objective == "regression" else "score": scores}


def _explained_columns(model_format: str, model, X, explainer, model_id: int) -> dict[str, Any]:
    """A scorecard's ``points`` and, for models that give reasons, ``reason_1`` ... with the
    feature and ``reason_1_code`` with its code in the reason dictionary."""
    out: dict[str, Any] = {}
    points = training.explain.points(model_format, model, X)
    if points is not None:
        out["points"] = points
    if explainer is None:
        return out
    k = training.DEFAULT_TOP_REASONS
    rows = worded(model_id, training.explain.explain(explainer, X, k=k))
    for i in range(k):
        out[f"reason_{i + 1}"] = [cell(r[i]["feature"]) if i < len(r) else "" for r in rows]
        out[f"reason_{i + 1}_code"] = [cell(r[i]["code"]) if i < len(r) else "" for r in rows]
    return out


def batch_work(run: Run):
    """Score the dataset version chunk by chunk into a CSV; the commit records it."""
    p = run.task.parameters
    version = ModelVersion.objects.get(pk=p["model_version"])
    dataset_version = DatasetVersion.objects.get(pk=p["dataset_version_id"])
    artifact, model = version_load(version=version)
    meta = artifact.meta
    features, keys = list(meta["features"]), list(p.get("key_columns") or [])
    explainer = training.explain.explainer_for(artifact.format, model, meta)
    # A server-chosen name, claimed empty and then written in place chunk by chunk.
    name = default_storage.save(f"predictions/{uuid.uuid4().hex}.csv", ContentFile(b""))
    path = default_storage.path(name)
    run.on_discard(lambda: default_storage.delete(name))
    rows = 0
    with stored_file_path(dataset_version.parquet) as source:
        parquet = pq.ParquetFile(source)
        total = max(parquet.metadata.num_rows, 1)
        writer = None
        with open(path, "wb") as out:
            for batch in parquet.iter_batches(
                batch_size=CHUNK_ROWS, columns=list(dict.fromkeys(keys + features))
            ):
                run.check_cancel()
                table = pa.Table.from_batches([batch])
                X = training.feature_matrix(table, meta)
                scores = training.score_matrix(artifact.format, model, X, meta["objective"])
                columns = {k: neutralise_column(table.column(k)) for k in keys}
                columns.update(
                    _score_columns(scores, meta.get("objective", ""), meta.get("label_classes") or [])
                )
                columns.update(_explained_columns(artifact.format, model, X, explainer, version.model_id))
                chunk = pa.table(columns)
                if writer is None:
                    writer = pacsv.CSVWriter(out, chunk.schema)
                writer.write_table(chunk)
                rows += chunk.num_rows
                run.progress(5 + 90 * rows / total)
            if writer is not None:
                writer.close()
    size = default_storage.size(name)
    run.log(
        gettext("Scored %(rows)s rows with %(version)s; CSV of %(size)s MiB.")
        % {"rows": f"{rows:,}", "version": version, "size": f"{size / 2**20:.1f}"}
    )

    def commit() -> dict:
        batch, _ = BatchPrediction.objects.get_or_create(
            task=run.task,
            defaults={
                "version": version,
                "dataset_version": dataset_version,
                "file": name,
                "rows": rows,
                "size": size,
            },
        )
        return {"batchPredictionId": batch.pk, "rows": rows, "size": size, "modelVersionId": version.pk}

    return commit


def register() -> None:
    register_kind(
        TaskKind(
            key=TaskType.PREDICTION,
            type=TaskType.PREDICTION,
            job="apps.models.tasks.run_batch_prediction",
            work=batch_work,
            check=_check,
            create=batch_create,
            request_of=_request_of,
        )
    )


def batch_file_open(batch: BatchPrediction):
    """The CSV of a finished batch prediction, opened for streaming."""
    return batch.file.open("rb")


def batch_file_name(batch: BatchPrediction) -> str:
    """The name a downloaded batch-prediction CSV gets (page and API alike)."""
    return f"{batch.version.model.name}-v{batch.version.version}-predictions-{batch.pk}.csv"

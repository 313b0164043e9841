"""Batch prediction: score a whole dataset version with a model version, as a task.

The task runs on the ``prediction`` queue. It reads the version's features (and the
dataset's key columns, so each score can be joined back) from the stored Parquet file in
chunks, checks the cancel flag between chunks, and writes a CSV whose text cells are
neutralised against spreadsheet formulas. The file is served back by the API.

The request's ``engine`` says where the scoring runs: ``local`` (here, chunk by chunk) or
``dask`` (each partition of the Parquet copy scored on a Dask worker, the CSV parts written
here in dataset order, a few partitions in flight at a time); ``auto`` picks dask from the
``engine-dask-auto-rows`` setting. Both engines score a chunk with the same functions
(``training.partitions``), so they write the same file.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import IO, Any

from django.core.files.storage import default_storage
from django.utils.translation import gettext

from apps.core.files import StoredFileWriter
from apps.datasets.models import DatasetVersion
from apps.datasets.selectors import columns_of, scoring_version
from apps.datasets.services import stored_file_path
from apps.tasks import engines
from apps.tasks import services as queue
from apps.tasks.errors import RequestInvalid, RunFailed
from apps.tasks.kinds import TaskKind, register_kind
from apps.tasks.models import LogLevel, Task, TaskType
from apps.tasks.runner import Run

from . import artifacts
from .models import BatchPrediction, ModelType, ModelVersion, VersionStatus
from .reason_texts import reason_codes
from .services import version_load
from .training import partitions


def _check(request: dict, resources: dict | None = None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if problems := engines.engine_problems(request.get("engine")):
        errors["engine"] = problems
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
    engine = request.get("engine") or engines.LOCAL
    if dataset_version is not None and not errors:
        rows, width = dataset_version.row_count or 0, len(version.feature_schema.get("features", []))
        local = engines.engine_choose(engine, rows=rows, columns=width).engine == engines.LOCAL
        if local and (too_large := engines.local_too_large(rows=rows, columns=width)):
            errors["engine"] = [too_large]
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
        "engine": engine,
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
        "engine": p.get("engine"),
    }


def _job(artifact, meta: dict, keys: list[str], model_id: int) -> dict[str, Any]:
    """What scoring a chunk needs besides the data, in plain values (``partition_csv``)."""
    return {
        "format": artifact.format,
        "payload": artifact.payload,
        "trusted_types": list(artifacts.default_trusted_types()) if artifact.format == "skops" else [],
        "meta": meta,
        "keys": keys,
        "codes": reason_codes(model_id),
    }


def _progress(run: Run):
    """Progress and the cancel flag between chunks (local) or partitions (dask)."""

    def report(rows: int, total: int) -> None:
        run.check_cancel()
        run.progress(5 + 90 * rows / max(total, 1))

    return report


def _score_dask(run: Run, client, out: IO[bytes], job: dict, dataset_version: DatasetVersion) -> int:
    """The version scored partition by partition on the cluster; returns the rows written."""
    path, storage_options = engines.dask_readable(dataset_version.parquet)
    try:
        return partitions.score_cluster(
            client, path, out, job, _progress(run), storage_options=storage_options or None
        )
    except partitions.PartitionFailed as exc:
        raise RunFailed(gettext("Scoring failed on the Dask cluster: %(error)s") % {"error": exc}) from exc


def _dask_client(run: Run, stack: contextlib.ExitStack):
    """A client of the Dask cluster, closed with ``stack``; None when it cannot be reached and
    the settings let the task run on the local engine instead (RunFailed otherwise)."""
    try:
        return stack.enter_context(engines.dask_client())
    except engines.EngineUnavailable as exc:
        if not engines.fallback_allowed():
            raise RunFailed(exc.message) from None
        run.log(
            gettext("%(cause)s Scoring on the local engine instead, as the settings allow.")
            % {"cause": exc.message},
            LogLevel.WARNING,
        )
        return None


def batch_work(run: Run):
    """Score the dataset version into a CSV on the engine asked for; the commit records it."""
    p = run.task.parameters
    version = ModelVersion.objects.get(pk=p["model_version"])
    dataset_version = DatasetVersion.objects.get(pk=p["dataset_version_id"])
    artifact, model = version_load(version=version)
    meta = artifact.meta
    job = _job(artifact, meta, list(p.get("key_columns") or []), version.model_id)
    choice = engines.engine_choose(
        p.get("engine"), rows=dataset_version.row_count or 0, columns=len(meta["features"])
    )
    run.log(
        gettext("Scoring on the %(engine)s engine: %(reason)s.")
        % {"engine": choice.engine, "reason": choice.reason}
    )
    with contextlib.ExitStack() as stack:
        client = _dask_client(run, stack) if choice.engine == engines.DASK else None
        # A server-chosen name, written chunk by chunk: in place on a file system, else stored
        # whole when complete (an S3 bucket has no path to write into).
        output = StoredFileWriter(f"predictions/{uuid.uuid4().hex}.csv")
        run.on_discard(output.discard)
        with output as out:
            if client is None:
                with stored_file_path(dataset_version.parquet) as source:
                    rows = partitions.score_file(source, out, job, model, _progress(run))
            else:
                rows = _score_dask(run, client, out, job, dataset_version)
    name = output.name
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

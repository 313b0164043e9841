"""Training as a kind of task: the work (fit with round logs and progress), the
champion/challenger gate, and reproduction; the plan (a request checked against its data)
is ``training_plan``.

Registered with the work queue from ``ModelsConfig.ready()``; the queue runs it like any kind.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy

from apps.datasets.models import DatasetVersion
from apps.datasets.services import stored_file_path
from apps.features.models import FeatureSet
from apps.tasks import engines
from apps.tasks import services as queue
from apps.tasks.errors import IllegalTransition, RequestInvalid, RunCancelled, RunFailed
from apps.tasks.kinds import TaskKind, register_kind
from apps.tasks.models import LogLevel, Priority, Task, TaskLog, TaskStatus, TaskType
from apps.tasks.runner import Run

from . import services as registry
from . import training
from .errors import ArtifactError, ReproductionImpossible
from .models import ModelVersion
from .texts import problems_text
from .training import distributed
from .training_plan import training_engine, training_plan

# Round logs and progress are written at most this often (and on the first and last round).
FLUSH_SECONDS = 0.5
# The engines as the task log names them.
ENGINE_WORDS = {
    engines.LOCAL: pgettext_lazy("engine", "local"),
    engines.DASK: pgettext_lazy("engine", "dask"),
}
# The champion/challenger gate's outcomes (``services.gate_decide``) as the task log says them.
GATE_DECISIONS = {
    "promoted": pgettext_lazy("gate decision", "promoted"),
    "requested": pgettext_lazy("gate decision", "promotion requested"),
    "kept": pgettext_lazy("gate decision", "kept registered"),
}


def training_create(*, user, request: dict, **options: Any) -> Task:
    """Validate a training request and queue it. Nothing is stored when it is invalid.

    ``options``: priority, resource_config, schedule, trigger_key, rerun_of, enqueue.
    """
    task, _ = queue.checked_task_create(
        type=TaskType.TRAINING,
        check=lambda r, resources: training_plan(r, resource_config=resources).parameters,
        name=lambda p: gettext("Train %(name)s") % {"name": p["model_name"]},
        user=user,
        request=request,
        **options,
    )
    return task


def version_reproduce(*, version: ModelVersion, user) -> Task:
    """Re-run the training that made ``version`` on the same data, features, parameters and
    seed; the task's result says whether the metrics (and the artifact bytes) match.

    Raises IllegalTransition for an uploaded version, ReproductionImpossible when the
    training cannot run as it did (its data or features are gone)."""
    if version.task is None:
        raise IllegalTransition(
            gettext("%(version)s was uploaded; there is no training to re-run.") % {"version": version}
        )
    request = {
        **training_request_of(version.task),
        "reproduce_of": version.pk,
        "task_name": gettext("Reproduce %(version)s") % {"version": version},
    }
    try:
        return training_create(user=user, request=request, priority=Priority.HIGH)
    except RequestInvalid as exc:
        raise ReproductionImpossible(
            gettext("The training can no longer run as it did: %(error)s") % {"error": exc}
        ) from None


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
        **({"engine": p["engine"]} if p.get("engine") else {}),
        **({"event_value": p["event_value"]} if p.get("event_value") not in (None, "") else {}),
        **(
            {
                "reference_dataset": p["reference"]["dataset"],
                "reference_dataset_version": p["reference"]["version"],
            }
            if p.get("reference")
            else {}
        ),
        **({"base_version": p["base_version"], "edits": p.get("edits")} if p.get("base_version") else {}),
        **({"reproduce_of": p["reproduce_of"]} if p.get("reproduce_of") else {}),
    }


class RoundWriter:
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
                message=gettext("round %(round)s/%(total)s")
                % {"round": info.round, "total": info.total_rounds},
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
        Task.objects.filter(pk=self.task_id, status=TaskStatus.RUNNING).update(**fields)
        self.cancelled = Task.objects.filter(pk=self.task_id, cancel_requested=True).exists()
        return not self.cancelled


def _finite(value: float | None) -> float | None:
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return None
    return float(value)


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
        artifact, model = registry.version_load(version=champion)
        champion_metrics = training.holdout_metrics(spec, table, artifact.format, model, artifact.meta)
    except (training.SpecError, ArtifactError) as exc:
        why = problems_text(exc.problems) if isinstance(exc, training.SpecError) else str(exc)
        run.log(
            gettext("Champion v%(version)s cannot be scored on this holdout: %(why)s")
            % {"version": champion.version, "why": why},
            LogLevel.WARNING,
        )
        return {"promote": False, "why": why, "metric": registry.gate_metric(objective=spec.objective)}
    decision = registry.gate_compare(
        objective=spec.objective, challenger=result.metrics, champion=champion_metrics
    )
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


def _reproduction_summary(original: ModelVersion, report: dict) -> str:
    """One line of the task log: whether the re-run matched, said as a whole sentence."""
    metrics_match, identical = report["metricsMatch"], report["checksumMatch"]
    if metrics_match and identical:
        text = gettext("Reproduced %(version)s: metrics match, artifact identical.")
    elif metrics_match:
        text = gettext("Reproduced %(version)s: metrics match, artifact differs.")
    elif identical:
        text = gettext("Reproduced %(version)s: metrics differ, artifact identical.")
    else:
        text = gettext("Reproduced %(version)s: metrics differ, artifact differs.")
    return text % {"version": original}


def _discard_unless_registered(stored: registry.StoredArtifact) -> None:
    if not ModelVersion.objects.filter(artifact=stored.name).exists():
        registry.artifact_discard(stored=stored)


def spec_of(task: Task) -> training.TrainingSpec:
    """The training spec a training task ran (or will run), from its parameters."""
    p = task.parameters
    return training.TrainingSpec(
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
        event_value=p.get("event_value"),
    )


def holdout_of(version: ModelVersion):
    """The validation rows of ``version``'s training (a pyarrow table), None when it was
    uploaded or its data is gone."""
    task = version.task
    if task is None or task.type != TaskType.TRAINING or version.dataset_version is None:
        return None
    spec = spec_of(task)
    table = _read_table(version.dataset_version, spec)
    return training.holdout_table(spec, table)


def _train_local(run: Run, version: DatasetVersion, spec, writer: RoundWriter, champion):
    """Train in this worker; with a champion, also score it on the same holdout."""
    table = _read_table(version, spec, champion.feature_schema.get("features") if champion else None)
    run.progress(3)
    run.log(
        gettext("Loaded %(rows)s rows x %(features)s features from %(dataset)s v%(number)s.")
        % {
            "rows": f"{table.num_rows:,}",
            "features": len(spec.features),
            "dataset": version.dataset.name,
            "number": version.version,
        }
    )
    try:
        result = training.train(spec, table, on_round=writer)
    except training.Cancelled:
        raise RunCancelled() from None
    except training.SpecError as exc:
        raise _spec_failed(exc) from None
    gate = _gate(run, spec, table, champion, result) if champion is not None else None
    return result, gate


def _spec_failed(exc: training.SpecError) -> RunFailed:
    return RunFailed(
        gettext("The data cannot be trained as requested: %(problems)s")
        % {"problems": problems_text(exc.problems)}
    )


def _train_on_dask(run: Run, version: DatasetVersion, spec, writer: RoundWriter):
    """Train with LightGBM sharded over the Dask cluster; None when the scheduler is
    unreachable and the settings let the training fall back to this worker."""
    source, options = engines.dask_readable(version.parquet)
    try:
        with engines.dask_client() as client:
            workers = len(distributed.worker_addresses(client))
            run.log(
                gettext("Training on %(count)s Dask worker(s) at %(address)s.")
                % {"count": workers, "address": engines.scheduler_address() or gettext("a local cluster")}
            )
            run.progress(3)
            result = distributed.train_dask(
                spec,
                client,
                source,
                storage_options=options,
                on_round=writer,
                timeout_minutes=settings.DASK_LIGHTGBM_TIMEOUT_MINUTES,
            )
    except engines.EngineUnavailable as exc:
        if not engines.fallback_allowed():
            raise RunFailed(exc.message) from None
        run.log(
            gettext("%(error)s Training on the local engine, as the settings allow.")
            % {"error": exc.message},
            LogLevel.WARNING,
        )
        return None
    except training.Cancelled:
        raise RunCancelled() from None
    except training.SpecError as exc:
        raise _spec_failed(exc) from None
    except distributed.DistributedFailed as exc:
        raise RunFailed(
            gettext("The Dask cluster could not finish the training: %(cause)s") % {"cause": exc}
        ) from None
    held = result.engine.get("workers", {}) if result.engine else {}
    run.log(
        gettext("Trained on %(count)s Dask worker(s): %(rows)s.")
        % {
            "count": len(held),
            "rows": ", ".join(f"{worker} {rows:,}" for worker, rows in sorted(held.items())),
        }
    )
    return result


def training_work(run: Run) -> Callable[[], dict]:
    """Train the model a training task asks for; the commit registers its version."""
    task, task_id = run.task, run.task_id
    p = task.parameters
    writer = RoundWriter(task_id)
    version = DatasetVersion.objects.select_related("dataset").get(pk=p["dataset_version_id"])
    feature_set = FeatureSet.objects.filter(pk=p["feature_set"]).first() if p.get("feature_set") else None
    spec = spec_of(task)
    base = ModelVersion.objects.filter(pk=p["base_version"]).first() if p.get("base_version") else None
    if base is not None:
        spec.base_card, spec.edits = base.card, p.get("edits") or []
    reference = None
    if p.get("reference"):
        reference = DatasetVersion.objects.select_related("dataset").get(
            pk=p["reference"]["dataset_version_id"]
        )
        spec.reference_table = _read_table(reference, spec)
    started = time.monotonic()
    champion = _champion(task)
    choice = training_engine(p.get("engine"), spec, version.row_count or 0)
    run.log(
        gettext("Engine: %(engine)s (%(reason)s).")
        % {"engine": ENGINE_WORDS.get(choice.engine, choice.engine), "reason": choice.reason}
    )
    result = gate = None
    if choice.engine == engines.DASK:
        result = _train_on_dask(run, version, spec, writer)
        if result is not None and champion is not None:
            run.log(
                gettext(
                    "The champion/challenger gate scores the champion on the holdout in this worker; "
                    "a training on the dask engine is registered without it."
                ),
                LogLevel.WARNING,
            )
    if result is None:
        result, gate = _train_local(run, version, spec, writer, champion)
    writer.flush()
    if result.fallback:
        run.log(
            gettext("LightGBM failed (%(reason)s); trained %(algorithm)s instead.")
            % {"reason": result.fallback["reason"], "algorithm": result.fallback["to"]},
            LogLevel.WARNING,
        )
    run.progress(92)
    stored = registry.artifact_store(result=result)
    run.on_discard(lambda: _discard_unless_registered(stored))
    info = {
        "split": spec.split,
        "validationShare": spec.validation_share,
        "rows": result.rows,
        "bestIteration": result.best_iteration,
        "fallback": result.fallback,
        "objective": spec.objective,
        "seconds": round(time.monotonic() - started, 3),
        "engine": engines.DASK if result.engine else engines.LOCAL,
        **({"daskWorkers": result.engine["workers"]} if result.engine else {}),
    }
    if base is not None:
        info["edits"] = spec.edits
        info["editedFrom"] = {"versionId": base.pk, "version": str(base)}

    def commit() -> dict:
        if p.get("reproduce_of"):  # a reproduction compares; it registers nothing
            original = ModelVersion.objects.select_related("model").get(pk=p["reproduce_of"])
            transaction.on_commit(lambda: registry.artifact_discard(stored=stored))
            report = _reproduction(original, result, stored)
            queue.log(task_id, _reproduction_summary(original, report))
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
            changelog=_changelog(task_id, base, spec.edits),
            derived_from=base,
            reasons_reference=_reference_info(reference, spec),
        )
        if not created:  # a second delivery: the first one's artifact stays, this copy goes
            registry.artifact_discard(stored=stored)
        queue.log(
            task_id,
            gettext("Registered %(model)s v%(number)s.") % {"model": mv.model.name, "number": mv.version},
        )
        decision = None
        if gate is not None and created:
            decision = registry.gate_decide(version=mv, champion=champion, details=gate, user=task.created_by)
            queue.log(
                task_id,
                gettext("Champion/challenger: %(decision)s (%(metric)s).")
                % {"decision": GATE_DECISIONS.get(decision, decision), "metric": gate.get("metric")},
            )
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
            "engine": info["engine"],
            **({"daskWorkers": result.engine["workers"]} if result.engine else {}),
        }

    return commit


def _reference_info(reference: DatasetVersion | None, spec) -> dict | None:
    if reference is None:
        return None
    return {
        "datasetVersionId": reference.pk,
        "dataset": reference.dataset.name,
        "version": reference.version,
        "rows": spec.reference_table.num_rows,
    }


def _changelog(task_id: int, base: ModelVersion | None, edits: list | None) -> str:
    if base is None:
        return gettext("Trained by task #%(id)s.") % {"id": task_id}
    return gettext("Refitted from %(version)s with %(count)s bin edit(s) by task #%(id)s.") % {
        "version": base,
        "count": len(edits or []),
        "id": task_id,
    }


def _related(task: Task) -> list[tuple[str, str]]:
    """The admin pages of the dataset version a training read and the version it registered."""
    links = []
    version_id = (task.parameters or {}).get("dataset_version_id")
    version = DatasetVersion.objects.select_related("dataset").filter(pk=version_id).first()
    if version is not None:
        links.append(
            (
                gettext("dataset %(version)s") % {"version": version},
                reverse("admin:datasets_datasetversion_change", args=[version.pk]),
            )
        )
    return links


def register(*, serializer: Any) -> None:
    """Register trainings with the work queue; ``serializer`` checks API requests."""
    register_kind(
        TaskKind(
            key=TaskType.TRAINING,
            type=TaskType.TRAINING,
            job="apps.models.tasks.run_training",
            work=training_work,
            check=lambda request, resources: training_plan(request, resource_config=resources),
            create=training_create,
            request_of=training_request_of,
            uses_training_slot=True,
            serializer=serializer,
            schedulable=True,
            created_at_tasks_endpoint=True,
            related=_related,
            create_perm="models.add_modelversion",  # a training registers a model version
        )
    )

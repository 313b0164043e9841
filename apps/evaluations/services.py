"""Evaluations: request checks, the evaluation task's work, and drift monitoring.

An evaluation is a task of type ``evaluation`` on the ``evaluation`` queue, registered with
the work queue by ``register``. ``evaluation_create`` checks the request against the version
and the data, then stores the task and its Evaluation row together (nothing when the request
is refused). The work loads the version (checksum and signature verified), scores the
dataset version and computes the report with ``metrics``; its commit stores the report in
the transaction that completes the task.

PSI baseline: the version's scores on every row of its own training dataset version, cut
into bins frozen from those scores (``metrics.score_baseline``). It is computed on first
use and cached per number of bins in ``ModelVersion.test_results["scoreBaseline"]``. CSI
compares each feature of the evaluated data with the same training dataset version.

Monitoring (``monitor_run``, daily): each active classification or regression version is
evaluated on the newest validated version of its training dataset (or of the dataset the
``evaluations-monitor-datasets`` setting names). When such a run completes, PSI and the
drop of AUC (or rise of RMSE) against the version's training metrics are checked against
the ``evaluations-*-alert`` settings; an alert is recorded on the evaluation and the
version is marked for review through ``version_flag`` (which writes its audit event).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import transaction
from django.utils import timezone

from apps.core.config import config_get
from apps.datasets.models import DatasetStatus, DatasetVersion
from apps.datasets.selectors import columns_of, scoring_version
from apps.datasets.services import stored_file_path
from apps.models import artifacts, training
from apps.models import services as registry
from apps.models.models import ModelType, ModelVersion, VersionStatus
from apps.tasks import services as queue
from apps.tasks.errors import RequestInvalid, RunFailed
from apps.tasks.kinds import TaskKind, register_kind
from apps.tasks.runner import Run
from apps.tasks.models import Task, TaskStatus, TaskType

from . import metrics
from .models import Evaluation, Objective

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.5
DEFAULT_BINS = 10
MAX_BINS = 100
# Permutation importance rescoring is repeated per feature: a seeded sample keeps it bounded.
PERMUTATION_MAX_ROWS = 20_000
PERMUTATION_REPEATS = 3
BASELINE_KEY = "scoreBaseline"
# Features named in a drift alert: the most shifted ones, at most this many.
ALERT_FEATURES = 5

# The headline figures of an evaluation, in the order reports list them.
HEADLINE: dict[str, tuple[str, ...]] = {
    Objective.BINARY: (
        "auc",
        "gini",
        "ks",
        "psi",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "ks_threshold",
        "average_precision",
        "log_loss",
    ),
    Objective.REGRESSION: ("rmse", "mae", "mse", "r2", "psi"),
    Objective.MULTICLASS: (
        "accuracy",
        "macro_f1",
        "weighted_f1",
        "macro_precision",
        "macro_recall",
        "log_loss",
    ),
}


# --------------------------------------------------------------------------- requests


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _objective(version: ModelVersion) -> str:
    if version.objective in Objective.values:
        return version.objective
    return Objective.REGRESSION if version.model.type == ModelType.REGRESSION else Objective.BINARY


def _options(raw: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
    """``permutation_importance`` (bool, default False) and ``bins`` (2..MAX_BINS, default 10)."""
    if raw in (None, ""):
        raw = {}
    if not isinstance(raw, dict):
        errors["options"] = ["Must be an object: {permutationImportance, bins}."]
        return {}
    problems = [f"Unknown option {k!r}." for k in raw if k not in ("permutation_importance", "bins")]
    permutation = raw.get("permutation_importance", False)
    if not isinstance(permutation, bool):
        problems.append("permutationImportance must be true or false.")
    bins = raw.get("bins", DEFAULT_BINS)
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= MAX_BINS:
        problems.append(f"bins must be an integer between 2 and {MAX_BINS}; got {bins!r}.")
    if problems:
        errors["options"] = problems
    return {"permutation_importance": permutation, "bins": bins}


def _threshold(raw: Any, objective: str, version: ModelVersion, errors: dict) -> float | None:
    if raw is None:
        return DEFAULT_THRESHOLD if objective == Objective.BINARY else None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        errors["threshold"] = ["Must be a number between 0 and 1."]
    elif objective == Objective.REGRESSION:
        errors["threshold"] = [
            f"{version} is a regression model: it predicts values, so it takes no classification "
            "threshold (leave threshold out)."
        ]
    elif objective == Objective.MULTICLASS:
        errors["threshold"] = [
            f"{version} is a multiclass model: it predicts the most probable class and takes no "
            "threshold (leave threshold out)."
        ]
    elif not 0 <= raw <= 1:
        errors["threshold"] = [f"Must be between 0 and 1 (a probability); got {raw}."]
    return float(raw) if not errors.get("threshold") else None


def evaluation_check(request: dict, resources: dict | None = None) -> dict[str, Any]:
    """Check an evaluation request against the version and the data; raise RequestInvalid
    listing every problem, else return the task's parameters.

    ``request`` keys: model_version (id), dataset (id), dataset_version (number; default the
    newest validated), threshold (binary models only, in [0, 1]; default 0.5), options
    ({permutation_importance, bins}), label (default the version's, else the dataset's),
    monitor (a monitoring run: alerts are checked when it completes).
    """
    errors: dict[str, list[str]] = {}
    version_id = _int_or_none(request.get("model_version"))
    version = (
        ModelVersion.objects.select_related("model").filter(pk=version_id).first()
        if version_id is not None
        else None
    )
    if version is None:
        raise RequestInvalid(
            {"model_version": [f"No model version with id {request.get('model_version')!r}."]}
        )
    if version.model.type == ModelType.RETRIEVAL:
        raise RequestInvalid(
            {
                "model_version": [
                    f"{version} is a retrieval model: it answers questions and has no scores to evaluate."
                ]
            }
        )
    objective = _objective(version)
    threshold = _threshold(request.get("threshold"), objective, version, errors)
    options = _options(request.get("options"), errors)
    features = list(version.feature_schema.get("features") or [])
    if not features:
        errors["model_version"] = [f"{version} declares no features; it cannot score a dataset."]
    dataset_version = scoring_version(request.get("dataset"), request.get("dataset_version"), errors)
    label = ""
    if dataset_version is not None:
        columns = columns_of(dataset_version)
        label = request.get("label") or version.feature_schema.get("label") or dataset_version.label_column
        if not label:
            errors["label"] = [
                f"{dataset_version} declares no label column and {version} names none: "
                "give the label column (an evaluation compares scores with known outcomes)."
            ]
        elif label not in columns:
            errors["label"] = [
                f"{dataset_version} has no label column {label!r}: an evaluation compares scores "
                "with known outcomes."
            ]
        missing = [f for f in features if f not in columns]
        if missing:
            shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            errors.setdefault("dataset", []).append(
                f"{dataset_version} lacks {len(missing)} of the version's features: {shown}."
            )
    if errors:
        raise RequestInvalid(errors)
    return {
        "model_version": version.pk,
        "model_id": version.model_id,
        "model_name": version.model.name,
        "version": version.version,
        "objective": objective,
        "dataset": dataset_version.dataset_id,
        "dataset_name": dataset_version.dataset.name,
        "dataset_version": dataset_version.version,
        "dataset_version_id": dataset_version.pk,
        "label": label,
        "threshold": threshold,
        "options": options,
        "monitor": bool(request.get("monitor")),
    }


def evaluation_create(*, user, request: dict, **options: Any) -> Evaluation:
    """Check an evaluation request and queue it on the ``evaluation`` queue.

    Returns the pending Evaluation (its task is queued once the transaction commits).
    Raises RequestInvalid, storing nothing, when the request cannot run. ``options``:
    priority, resource_config, schedule, trigger_key, rerun_of, enqueue.
    """
    with transaction.atomic():
        task, p = queue.checked_task_create(
            type=TaskType.EVALUATION,
            check=evaluation_check,
            name=lambda p: (
                f"Evaluate {p['model_name']} v{p['version']} on {p['dataset_name']} v{p['dataset_version']}"
            ),
            user=user,
            request=request,
            **options,
        )
        return Evaluation.objects.create(
            task=task,
            model_version_id=p["model_version"],
            dataset_version_id=p["dataset_version_id"],
            objective=p["objective"],
            label=p["label"],
            threshold=p["threshold"],
            options=p["options"],
            is_monitor=p["monitor"],
            created_by=user,
        )


def _request_of(task: Task) -> dict:
    """The request that re-creates ``task`` on the same dataset version."""
    p = task.parameters
    if "dataset_version_id" not in p:  # a scheduled run that could not start keeps the raw request
        return dict(p)
    return {
        "model_version": p["model_version"],
        "dataset": p["dataset"],
        "dataset_version": p["dataset_version"],
        "label": p["label"],
        "threshold": p["threshold"],
        "options": p["options"],
        "monitor": p.get("monitor", False),
    }


# --------------------------------------------------------------------------- the work


def _read(version: DatasetVersion, columns: list[str]) -> pa.Table:
    with stored_file_path(version.parquet) as path:
        available = set(pq.read_schema(path).names)
        missing = [c for c in columns if c not in available]
        if missing:
            raise RunFailed(f"{version} has no column(s) {', '.join(missing[:10])}.")
        return pq.read_table(path, columns=list(dict.fromkeys(columns)))


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def encode_labels(column: pa.ChunkedArray, objective: str, classes: list) -> tuple[np.ndarray, np.ndarray]:
    """(labels as the metrics take them, mask of the rows that have one).

    Regression: the float target. Classification: the index of each label in the model's
    ``classes`` (for a binary model, 1 = the second class = "bad"). A label the model was
    not trained on is a RunFailed naming it.
    """
    column = _plain(column)
    present = pc.is_valid(column).to_numpy(zero_copy_only=False)
    if objective == Objective.REGRESSION:
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            raise RunFailed(f"The label is {column.type}; a regression needs a numeric label.")
        y = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return y, present & np.isfinite(y)
    if pa.types.is_floating(column.type):
        present &= ~np.isnan(column.to_numpy(zero_copy_only=False))
    try:
        value_set = pa.array(list(classes)).cast(column.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        raise RunFailed(
            f"The label column ({column.type}) cannot hold the model's classes {classes}."
        ) from None
    index = pc.fill_null(pc.index_in(column, value_set=value_set), -1).to_numpy(zero_copy_only=False)
    unknown = present & (index < 0)
    if unknown.any():
        examples = sorted({str(v) for v in column.filter(pa.array(unknown)).to_pylist()[:1000]})[:5]
        raise RunFailed(
            f"{int(unknown.sum()):,} rows have a label the model was not trained on "
            f"({', '.join(examples)}); its classes are {classes}."
        )
    return index.astype(np.int64), present


def _score(fmt: str, model: Any, table: pa.Table, meta: dict) -> np.ndarray:
    try:
        return np.asarray(training.predict(fmt, model, table, meta), dtype=np.float64)
    except training.SpecError as exc:
        raise RunFailed("The data cannot be scored: " + "; ".join(exc.problems)) from None


def _cached_baseline(version: ModelVersion, bins: int) -> dict | None:
    entry = ((version.test_results or {}).get(BASELINE_KEY) or {}).get(str(bins))
    if (
        entry
        and entry.get("dataset_version_id") == version.dataset_version_id
        and entry.get("metrics_version") == metrics.METRICS_VERSION
    ):
        return entry
    return None


def _store_baseline(version_id: int, bins: int, entry: dict) -> None:
    # Read-modify-write of a JSON field: lock the row so another key is not lost.
    version = ModelVersion.objects.select_for_update().get(pk=version_id)
    results = dict(version.test_results or {})
    results[BASELINE_KEY] = {**(results.get(BASELINE_KEY) or {}), str(bins): entry}
    ModelVersion.objects.filter(pk=version_id).update(test_results=results)


def _column_values(column: pa.ChunkedArray) -> np.ndarray:
    """A feature column for CSI: floats (NaN for nulls) when numeric, else objects (None for nulls)."""
    column = _plain(column)
    if (
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or pa.types.is_decimal(column.type)
    ):
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)


def _csi_rows(baseline: pa.Table, current: pa.Table, features: list[str], bins: int) -> list[dict]:
    """CSI of each feature, most shifted first: feature, psi, level, kind."""
    result = metrics.csi(
        {f: _column_values(baseline.column(f)) for f in features},
        {f: _column_values(current.column(f)) for f in features},
        bins=bins,
    )
    rows = [
        {"feature": name, "psi": r["psi"], "level": r["level"], "kind": r["kind"]}
        for name, r in result.items()
    ]
    return sorted(rows, key=lambda r: (-r["psi"], r["feature"]))


def _sklearn_owner(model: Any, n_features: int, n_outputs: int) -> np.ndarray | None:
    """For each column the estimator sees, the index of the input feature it came from.

    The platform's pipelines (``training.build_sklearn_pipeline``) put numeric columns
    first, then one one-hot column per categorical level. None when the mapping is unknown.
    """
    steps = getattr(model, "named_steps", {})
    pre = steps.get("pre")
    if pre is None:
        return np.arange(n_features) if n_outputs == n_features else None
    owner = np.full(n_outputs, -1)
    for name, transformer, columns in getattr(pre, "transformers_", []):
        if name == "remainder" or name not in pre.output_indices_:
            continue
        out = pre.output_indices_[name]
        onehot = getattr(transformer, "named_steps", {}).get("onehot")
        sizes = [len(c) for c in onehot.categories_] if onehot is not None else [1] * len(columns)
        owner[out] = np.repeat(np.asarray(columns), sizes)[: out.stop - out.start]
    return owner if (owner >= 0).all() else None


def model_importance(fmt: str, model: Any, features: list[str]) -> dict[str, Any]:
    """Importance from the model itself: LightGBM gain and split, a linear model's
    coefficients (standardised inputs, so comparable), or a forest's impurity decrease.

    Returns ``{"method", "rows", "note"}``; every row has ``feature`` and ``importance``
    (the method's measure) and ``importance_share``.
    """
    if fmt == "lightgbm-text":
        names = dict(zip(model.feature_name(), features, strict=False))
        rows = metrics.lightgbm_importance(model)
        for row in rows:
            row["feature"] = names.get(row["feature"], row["feature"])
            row["importance"], row["importance_share"] = row["gain"], row["gain_share"]
        return {"method": "gain", "rows": rows, "note": None}
    estimator = model.steps[-1][1] if hasattr(model, "steps") else model
    if hasattr(estimator, "coef_"):
        coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
        owner = _sklearn_owner(model, len(features), coef.shape[1])
        if owner is None:
            return {
                "method": "coefficient",
                "rows": [],
                "note": "The model's inputs do not map to its features.",
            }
        # A categorical feature counts with its strongest level.
        picked = [np.flatnonzero(owner == j) for j in range(len(features))]
        strongest = [idx[np.argmax(np.abs(coef[:, idx]).mean(axis=0))] for idx in picked]
        return {
            "method": "coefficient",
            "rows": metrics.linear_importance(coef[:, strongest], features),
            "note": "Absolute coefficients on standardised inputs "
            "(a categorical feature: its strongest level).",
        }
    if hasattr(estimator, "feature_importances_"):
        values = np.asarray(estimator.feature_importances_, dtype=np.float64)
        owner = _sklearn_owner(model, len(features), values.shape[0])
        if owner is None:
            return {
                "method": "impurity",
                "rows": [],
                "note": "The model's inputs do not map to its features.",
            }
        summed = np.bincount(owner, weights=values, minlength=len(features))
        total = float(summed.sum())
        rows = [
            {"feature": f, "importance": float(v), "importance_share": float(v / total) if total > 0 else 0.0}
            for f, v in zip(features, summed, strict=True)
        ]
        rows.sort(key=lambda r: (-r["importance"], r["feature"]))
        return {
            "method": "impurity",
            "rows": rows,
            "note": "Mean decrease in impurity, summed over a feature's levels.",
        }
    return {"method": "none", "rows": [], "note": f"{type(estimator).__name__} exposes no importance."}


def _quality_metric(objective: str, n_classes: int) -> Callable[[np.ndarray, np.ndarray], float | None]:
    if objective == Objective.BINARY:
        return metrics.roc_auc
    if objective == Objective.REGRESSION:
        return lambda y, p: metrics.regression_report(y, p)["metrics"]["r2"]
    return lambda y, p: metrics.multiclass_report(y, p, list(range(n_classes)))["metrics"]["accuracy"]


def _permutation(
    objective: str, fmt: str, model: Any, meta: dict, table: pa.Table, y: np.ndarray
) -> dict[str, Any]:
    features = list(meta["features"])
    frame = table.select(features).to_pandas()
    metric_name = {"binary": "auc", "regression": "r2"}.get(objective, "accuracy")
    try:
        rows = metrics.permutation_importance(
            lambda X: training.predict(fmt, model, X, meta),
            frame,
            y,
            feature_names=features,
            metric=_quality_metric(objective, len(meta.get("label_classes") or [])),
            n_repeats=PERMUTATION_REPEATS,
            seed=0,
            max_rows=PERMUTATION_MAX_ROWS,
        )
    except ValueError as exc:
        return {"metric": metric_name, "rows": [], "note": f"Not computed: {exc}."}
    return {
        "metric": metric_name,
        "rows": rows,
        "note": f"Drop of {metric_name} when a feature is shuffled; mean of {PERMUTATION_REPEATS} "
        f"seeded shuffles on up to {PERMUTATION_MAX_ROWS:,} rows.",
    }


def _report(
    objective: str, y: np.ndarray, scores: np.ndarray, ev: Evaluation, baseline: dict | None, classes
):
    bins = ev.options.get("bins", DEFAULT_BINS)
    if objective == Objective.BINARY:
        if scores.ndim != 1:
            raise RunFailed("The model returned more than one score per row; it is not a binary model.")
        return metrics.classification_report(
            y, scores, threshold=ev.threshold, baseline_score=baseline, bins=bins
        )
    if objective == Objective.REGRESSION:
        report = metrics.regression_report(y, scores)
        finite = scores[np.isfinite(scores)]
        report["psi"] = metrics.psi(baseline, finite, bins) if baseline is not None and finite.size else None
        return report
    report = metrics.multiclass_report(y, scores, list(range(len(classes))))
    report["classes"] = list(classes)
    for row, name in zip(report["per_class"], classes, strict=True):
        row["class"] = name
    return report


def headline(objective: str, report: dict) -> dict[str, float | None]:
    """The figures an evaluation lists and filters by (its ``metrics``), PSI included."""
    psi = (report.get("psi") or {}).get("psi")
    return {k: psi if k == "psi" else report["metrics"].get(k) for k in HEADLINE[objective]}


def evaluation_work(run: Run) -> Callable[[], dict]:
    """Score the dataset version and compute the report; the commit stores it."""
    ev = Evaluation.objects.select_related(
        "model_version__model", "model_version__dataset_version", "dataset_version__dataset"
    ).get(task_id=run.task_id)
    version, data = ev.model_version, ev.dataset_version
    bins = ev.options.get("bins", DEFAULT_BINS)
    try:
        artifact, model = registry.version_load(version)
    except artifacts.ArtifactError as exc:
        raise RunFailed(f"{version} cannot be loaded: {exc}") from None
    meta = artifact.meta
    features, classes = list(meta["features"]), list(meta.get("label_classes") or [])
    run.progress(5)
    table = _read(data, [*features, ev.label])
    y, labelled = encode_labels(table.column(ev.label), ev.objective, classes)
    notes = []
    if not labelled.all():
        dropped = int((~labelled).sum())
        notes.append(
            {"code": "unlabelled_rows_dropped", "message": f"{dropped:,} rows without a label were left out."}
        )
        table, y = table.filter(pa.array(labelled)), y[labelled]
    if table.num_rows == 0:
        raise RunFailed(f"No row of {data} has a label to compare the scores with.")
    run.log(f"Loaded {table.num_rows:,} labelled rows of {data}; scoring with {version}.")
    run.check_cancel()
    scores = _score(artifact.format, model, table, meta)
    run.progress(40)

    same_data = version.dataset_version_id == data.pk
    if same_data:
        notes.append(
            {
                "code": "training_data",
                "message": f"{data} is the data {version} was trained on (training and validation rows): "
                "the figures are optimistic, PSI is 0 by construction and CSI is not computed.",
            }
        )
    baseline_table = None
    if version.dataset_version_id and not same_data:
        baseline_table = _read(version.dataset_version, features)
    baseline, new_baseline = None, None
    if ev.objective != Objective.MULTICLASS:
        baseline = _cached_baseline(version, bins)
        if baseline is None and version.dataset_version_id:
            run.check_cancel()
            base_scores = scores if same_data and labelled.all() else None
            if base_scores is None:
                base_table = (
                    baseline_table if baseline_table is not None else _read(version.dataset_version, features)
                )
                base_scores = _score(artifact.format, model, base_table, meta)
            baseline = new_baseline = {
                **metrics.score_baseline(base_scores, bins),
                "dataset_version_id": version.dataset_version_id,
                "metrics_version": metrics.METRICS_VERSION,
            }
            run.log(f"Scored the training data ({version.dataset_version}) once for the PSI baseline.")
        elif baseline is None:
            notes.append(
                {
                    "code": "no_baseline",
                    "message": f"{version} has no training data on record: PSI is not computed.",
                }
            )
    run.progress(60)
    report = _report(ev.objective, y, scores, ev, baseline, classes)
    report["notes"] = [*report.get("notes", []), *notes]
    if baseline_table is not None:
        run.check_cancel()
        report["csi"] = _csi_rows(baseline_table, table, features, bins)
        report["csi_baseline"] = str(version.dataset_version)
    else:
        report["csi"] = None
    run.progress(75)
    importance = model_importance(artifact.format, model, features)
    if ev.options.get("permutation_importance"):
        run.log("Computing permutation importance.")
        run.check_cancel()
        importance["permutation"] = _permutation(ev.objective, artifact.format, model, meta, table, y)
    else:
        importance["permutation"] = None
    figures = headline(ev.objective, report)
    run.log(
        "Evaluated: "
        + ", ".join(f"{k} {v:.4f}" for k, v in figures.items() if v is not None and k != "ks_threshold")
        + "."
    )

    def commit() -> dict:
        if new_baseline is not None:
            _store_baseline(version.pk, bins, new_baseline)
        Evaluation.objects.filter(pk=ev.pk).update(
            metrics=figures,
            report=report,
            importance=importance,
            metrics_version=report["metrics_version"],
            rows=report["n"],
            completed_at=timezone.now(),
        )
        alerts = _raise_alerts(ev, figures, report) if ev.is_monitor else []
        return {
            "evaluationId": ev.pk,
            "modelVersionId": version.pk,
            "rows": report["n"],
            "metrics": figures,
            "alerts": [a["message"] for a in alerts],
        }

    return commit


def register() -> None:
    from .api.serializers import EvaluationRequestSerializer

    register_kind(
        TaskKind(
            key=TaskType.EVALUATION,
            type=TaskType.EVALUATION,
            job="apps.evaluations.tasks.run_evaluation",
            work=evaluation_work,
            check=evaluation_check,
            create=lambda **kwargs: evaluation_create(**kwargs).task,
            request_of=_request_of,
            serializer=EvaluationRequestSerializer,
            schedulable=True,
        )
    )


# --------------------------------------------------------------------------- monitoring


def drift_alerts(version: ModelVersion, objective: str, figures: dict, report: dict) -> list[dict[str, Any]]:
    """The alerts a monitoring evaluation raises, from the ``evaluations-*-alert`` settings.

    PSI of the score >= ``evaluations-psi-alert``; AUC below the version's training AUC by
    >= ``evaluations-auc-drop-alert``; RMSE above the training RMSE by >= the share
    ``evaluations-rmse-rise-alert``. Each alert: metric, value, baseline, threshold, message.
    """
    alerts = []
    psi_limit = float(config_get("evaluations-psi-alert"))
    psi = figures.get("psi")
    if psi is not None and psi >= psi_limit:
        shifted = [r for r in report.get("csi") or [] if r["psi"] >= psi_limit][:ALERT_FEATURES]
        because = (
            "; most shifted features: " + ", ".join(f"{r['feature']} (CSI {r['psi']:.2f})" for r in shifted)
            if shifted
            else ""
        )
        alerts.append(
            {
                "metric": "psi",
                "value": psi,
                "baseline": None,
                "threshold": psi_limit,
                "features": [r["feature"] for r in shifted],
                "message": f"Score PSI {psi:.3f} >= {psi_limit:g}: "
                f"the scored population has shifted{because}.",
            }
        )
    trained = version.metrics or {}
    if objective == Objective.BINARY:
        drop = float(config_get("evaluations-auc-drop-alert"))
        auc, base = figures.get("auc"), trained.get("auc")
        if auc is not None and base is not None and base - auc >= drop:
            alerts.append(
                {
                    "metric": "auc",
                    "value": auc,
                    "baseline": base,
                    "threshold": drop,
                    "message": f"AUC {auc:.3f} is {base - auc:.3f} below the training AUC {base:.3f} "
                    f"(alert at {drop:g}).",
                }
            )
    if objective == Objective.REGRESSION:
        rise = float(config_get("evaluations-rmse-rise-alert"))
        rmse, base = figures.get("rmse"), trained.get("rmse")
        if rmse is not None and base and rmse >= base * (1 + rise):
            alerts.append(
                {
                    "metric": "rmse",
                    "value": rmse,
                    "baseline": base,
                    "threshold": rise,
                    "message": f"RMSE {rmse:.4g} is {rmse / base - 1:.0%} above the training RMSE {base:.4g} "
                    f"(alert at {rise:.0%}).",
                }
            )
    return alerts


def _raise_alerts(ev: Evaluation, figures: dict, report: dict) -> list[dict]:
    version = ModelVersion.objects.select_related("model").get(pk=ev.model_version_id)
    alerts = drift_alerts(version, ev.objective, figures, report)
    if alerts:
        Evaluation.objects.filter(pk=ev.pk).update(alerts=alerts)
        registry.version_flag(
            version=version,
            reason=f"Monitoring evaluation #{ev.pk} on {ev.dataset_version}: "
            + " ".join(a["message"] for a in alerts),
            details={"evaluationId": ev.pk, "datasetVersionId": ev.dataset_version_id, "alerts": alerts},
        )
        queue.log(
            ev.task_id, f"Drift alert: {' '.join(a['message'] for a in alerts)} {version} marked for review."
        )
    return alerts


def monitor_run(*, enqueue: bool = True) -> dict[str, Any]:
    """Queue a monitoring evaluation of each active classification or regression version on
    the newest validated version of its dataset. Idempotent: a (version, dataset version)
    pair that already has a monitoring evaluation (not failed or cancelled) is skipped.

    Returns ``{"created": [evaluation ids], "skipped": [{"version", "reason"}]}``.
    """
    if not config_get("evaluations-monitor-enabled"):
        return {"created": [], "skipped": [], "disabled": True}
    chosen = config_get("evaluations-monitor-datasets") or {}
    created, skipped = [], []
    versions = ModelVersion.objects.filter(
        status=VersionStatus.ACTIVE, model__type__in=[ModelType.CLASSIFICATION, ModelType.REGRESSION]
    ).select_related("model", "dataset_version")
    for version in versions.order_by("model__name"):
        dataset_id = chosen.get(version.model.name) if isinstance(chosen, dict) else None
        if dataset_id is None and version.dataset_version_id:
            dataset_id = version.dataset_version.dataset_id
        newest = (
            DatasetVersion.objects.filter(dataset_id=dataset_id, status=DatasetStatus.VALIDATED)
            .order_by("-version")
            .first()
            if dataset_id is not None
            else None
        )
        if newest is None:
            skipped.append({"version": str(version), "reason": "no validated dataset to evaluate on"})
            continue
        done = (
            Evaluation.objects.filter(model_version=version, dataset_version=newest, is_monitor=True)
            .exclude(task__status__in=[TaskStatus.FAILED, TaskStatus.CANCELLED])
            .exists()
        )
        if done:
            skipped.append({"version": str(version), "reason": f"already monitored on {newest}"})
            continue
        try:
            ev = evaluation_create(
                user=None,
                request={
                    "model_version": version.pk,
                    "dataset": newest.dataset_id,
                    "dataset_version": newest.version,
                    "monitor": True,
                    "task_name": f"Monitor {version} on {newest}",
                },
                enqueue=enqueue,
            )
        except RequestInvalid as exc:
            logger.warning("monitoring %s on %s refused: %s", version, newest, exc)
            skipped.append({"version": str(version), "reason": str(exc)})
            continue
        created.append(ev.pk)
    return {"created": created, "skipped": skipped}

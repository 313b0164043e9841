"""The evaluation task's work: score a dataset version, compute the report, store it.

The work loads the version (checksum and signature verified), scores the dataset version
and computes the report with ``metrics``; its commit stores the report in the transaction
that completes the task (and, for a monitoring run, raises its drift alerts). ``register``
declares the kind to the work queue, from ``EvaluationsConfig.ready()``.

PSI baseline: the version's scores on every row of its own training dataset version, cut
into bins frozen from those scores (``metrics.score_baseline``). It is computed on first
use and cached per number of bins in ``ModelVersion.test_results["scoreBaseline"]``. CSI
compares each feature of the evaluated data with the same training dataset version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from apps.datasets.models import DatasetVersion
from apps.datasets.services import stored_file_path
from apps.models import artifacts, training
from apps.models import services as registry
from apps.models.models import ModelVersion
from apps.models.texts import problems_text
from apps.tasks.errors import RunFailed
from apps.tasks.kinds import TaskKind, register_kind
from apps.tasks.models import TaskType
from apps.tasks.runner import Run

from . import metrics, texts
from .constants import DEFAULT_BINS, HEADLINE, metric_label
from .importance import model_importance, permutation
from .models import Evaluation, Objective
from .monitoring import drift_alerts_raise
from .services import evaluation_check, evaluation_create, evaluation_request_of

BASELINE_KEY = "scoreBaseline"


def _note(code: str, template: str, **params: Any) -> dict[str, Any]:
    """A note of the report, as ``metrics`` writes them: the English message, and the
    template and params the pages translate (``texts.note``)."""
    return {"code": code, "message": template % params, "template": template, "params": params}


def _read(version: DatasetVersion, columns: list[str]) -> pa.Table:
    with stored_file_path(version.parquet) as path:
        available = set(pq.read_schema(path).names)
        missing = [c for c in columns if c not in available]
        if missing:
            raise RunFailed(
                gettext("%(version)s has no column(s) %(columns)s.")
                % {"version": version, "columns": ", ".join(missing[:10])}
            )
        return pq.read_table(path, columns=list(dict.fromkeys(columns)))


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def encode_labels(*, column: pa.ChunkedArray, objective: str, classes: list) -> tuple[np.ndarray, np.ndarray]:
    """(labels as the metrics take them, mask of the rows that have one).

    Regression: the float target. Classification: the index of each label in the model's
    ``classes`` (for a binary model, 1 = the second class = "bad"). A label the model was
    not trained on is a RunFailed naming it.
    """
    column = _plain(column)
    present = pc.is_valid(column).to_numpy(zero_copy_only=False)
    if objective == Objective.REGRESSION:
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            raise RunFailed(
                gettext("The label is %(type)s; a regression needs a numeric label.") % {"type": column.type}
            )
        y = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return y, present & np.isfinite(y)
    if pa.types.is_floating(column.type):
        present &= ~np.isnan(column.to_numpy(zero_copy_only=False))
    try:
        value_set = pa.array(list(classes)).cast(column.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        raise RunFailed(
            gettext("The label column (%(type)s) cannot hold the model's classes %(classes)s.")
            % {"type": column.type, "classes": classes}
        ) from None
    index = pc.fill_null(pc.index_in(column, value_set=value_set), -1).to_numpy(zero_copy_only=False)
    unknown = present & (index < 0)
    if unknown.any():
        examples = sorted({str(v) for v in column.filter(pa.array(unknown)).to_pylist()[:1000]})[:5]
        raise RunFailed(
            gettext(
                "%(count)s rows have a label the model was not trained on (%(examples)s); "
                "its classes are %(classes)s."
            )
            % {"count": f"{int(unknown.sum()):,}", "examples": ", ".join(examples), "classes": classes}
        )
    return index.astype(np.int64), present


def _score(fmt: str, model: Any, table: pa.Table, meta: dict) -> np.ndarray:
    try:
        return np.asarray(training.predict(fmt, model, table, meta), dtype=np.float64)
    except training.SpecError as exc:
        raise RunFailed(
            gettext("The data cannot be scored: %(problems)s") % {"problems": problems_text(exc.problems)}
        ) from None


@contextmanager
def _computing(what: str) -> Iterator[None]:
    """A figure ``metrics`` refuses on this data (say, no finite score) fails the run with why;
    ``what`` is a translated sentence start, the refusal a message ``metrics`` marked."""
    try:
        yield
    except ValueError as exc:
        raise RunFailed(
            gettext("%(what)s cannot be computed: %(reason)s.") % {"what": what, "reason": gettext(str(exc))}
        ) from None


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


def _report(
    objective: str, y: np.ndarray, scores: np.ndarray, ev: Evaluation, baseline: dict | None, classes
):
    bins = ev.options.get("bins", DEFAULT_BINS)
    if objective == Objective.BINARY:
        if scores.ndim != 1:
            raise RunFailed(
                gettext("The model returned more than one score per row; it is not a binary model.")
            )
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


def headline(*, objective: str, report: dict) -> dict[str, float | None]:
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
        artifact, model = registry.version_load(version=version)
    except artifacts.ArtifactError as exc:
        raise RunFailed(
            gettext("%(version)s cannot be loaded: %(error)s") % {"version": version, "error": exc}
        ) from None
    meta = artifact.meta
    features, classes = list(meta["features"]), list(meta.get("label_classes") or [])
    run.progress(5)
    table = _read(data, [*features, ev.label])
    y, labelled = encode_labels(column=table.column(ev.label), objective=ev.objective, classes=classes)
    notes = []
    if not labelled.all():
        dropped = int((~labelled).sum())
        notes.append(
            _note(
                "unlabelled_rows_dropped",
                gettext_noop("%(count)s rows without a label were left out."),
                count=f"{dropped:,}",
            )
        )
        table, y = table.filter(pa.array(labelled)), y[labelled]
    if table.num_rows == 0:
        raise RunFailed(
            gettext("No row of %(data)s has a label to compare the scores with.") % {"data": data}
        )
    run.log(
        gettext("Loaded %(rows)s labelled rows of %(data)s; scoring with %(version)s.")
        % {"rows": f"{table.num_rows:,}", "data": data, "version": version}
    )
    run.check_cancel()
    scores = _score(artifact.format, model, table, meta)
    run.progress(40)

    same_data = version.dataset_version_id == data.pk
    if same_data:
        notes.append(
            _note(
                "training_data",
                gettext_noop(
                    "%(data)s is the data %(version)s was trained on (training and validation rows): "
                    "the figures are optimistic, PSI is 0 by construction and CSI is not computed."
                ),
                data=str(data),
                version=str(version),
            )
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
            with _computing(gettext("The PSI baseline")):
                frozen = metrics.score_baseline(base_scores, bins)
            baseline = new_baseline = {
                **frozen,
                "dataset_version_id": version.dataset_version_id,
                "metrics_version": metrics.METRICS_VERSION,
            }
            run.log(
                gettext("Scored the training data (%(data)s) once for the PSI baseline.")
                % {"data": version.dataset_version}
            )
        elif baseline is None:
            notes.append(
                _note(
                    "no_baseline",
                    gettext_noop("%(version)s has no training data on record: PSI is not computed."),
                    version=str(version),
                )
            )
    run.progress(60)
    with _computing(gettext("The report")):
        report = _report(ev.objective, y, scores, ev, baseline, classes)
    report["notes"] = [*report.get("notes", []), *notes]
    if baseline_table is not None:
        run.check_cancel()
        with _computing("CSI"):
            report["csi"] = _csi_rows(baseline_table, table, features, bins)
        report["csi_baseline"] = str(version.dataset_version)
    else:
        report["csi"] = None
    run.progress(75)
    importance = model_importance(artifact.format, model, features)
    if ev.options.get("permutation_importance"):
        run.log(gettext("Computing permutation importance."))
        run.check_cancel()
        importance["permutation"] = permutation(ev.objective, artifact.format, model, meta, table, y)
    else:
        importance["permutation"] = None
    figures = headline(objective=ev.objective, report=report)
    run.log(
        gettext("Evaluated: %(figures)s.")
        % {
            "figures": ", ".join(
                f"{metric_label(k)} {v:.4f}"
                for k, v in figures.items()
                if v is not None and k != "ks_threshold"
            )
        }
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
        alerts = drift_alerts_raise(evaluation=ev, figures=figures, report=report) if ev.is_monitor else []
        return {
            "evaluationId": ev.pk,
            "modelVersionId": version.pk,
            "rows": report["n"],
            "metrics": figures,
            "alerts": [texts.alert(a)["message"] for a in alerts],
        }

    return commit


def register(*, serializer: Any) -> None:
    """Register evaluations with the work queue; ``serializer`` checks API requests."""
    register_kind(
        TaskKind(
            key=TaskType.EVALUATION,
            type=TaskType.EVALUATION,
            job="apps.evaluations.tasks.run_evaluation",
            work=evaluation_work,
            check=lambda request, resources: evaluation_check(request=request, resources=resources),
            create=lambda **kwargs: evaluation_create(**kwargs).task,
            request_of=evaluation_request_of,
            serializer=serializer,
            schedulable=True,
        )
    )

"""The training plan: a training request checked against the data it names (dataset,
features, label and its event value, algorithm and parameters, a scorecard refit's base
version and edits, a reference population for reasons) before anything is queued."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq
from django.utils.translation import gettext

from apps.datasets.models import Dataset, DatasetKind, DatasetStatus, DatasetVersion
from apps.datasets.selectors import columns_of
from apps.datasets.selectors import dataset_version as dataset_version_of
from apps.datasets.services import stored_file_path
from apps.features.models import FeatureSet
from apps.tasks import engines
from apps.tasks import services as queue
from apps.tasks.errors import RequestInvalid

from . import training
from .models import ModelVersion
from .texts import problem_text, problems_text
from .training import distributed


@dataclass
class TrainingPlan:
    """A validated training request: what the worker will train, on what."""

    model_name: str
    dataset_version: DatasetVersion
    feature_set: FeatureSet | None
    spec: training.TrainingSpec
    parameters: dict[str, Any] = field(default_factory=dict)


def _distinct(version: DatasetVersion, column: str) -> int | None:
    for col in (version.quality or {}).get("columns", []):
        if col.get("name") == column:
            return col.get("distinct")
    return None


def _infer_objective(distinct: int | None, dtype: str) -> str:
    if distinct == 2 or distinct is None:
        return "binary"
    if training._dtype_kind(dtype) == "numeric" and distinct > 20:
        return "regression"
    return "multiclass"


def _resolve_dataset(request: dict, errors: dict, feature_set: FeatureSet | None) -> DatasetVersion | None:
    dataset_id = request.get("dataset")
    number = request.get("dataset_version")
    if dataset_id is None:
        if feature_set is None:
            errors["dataset"] = [gettext("A dataset (or a feature set) is required.")]
            return None
        version = feature_set.dataset_version
    else:
        dataset = Dataset.objects.filter(pk=dataset_id).first()
        if dataset is None:
            errors["dataset"] = [gettext("No dataset with id %(id)s.") % {"id": dataset_id}]
            return None
        version = dataset_version_of(dataset, number)
        if version is None:
            errors["dataset_version"] = [
                gettext("Dataset %(name)s has no version %(number)s.")
                % {"name": dataset.name, "number": number}
            ]
            return None
    if version.dataset.kind != DatasetKind.TABULAR:
        errors["dataset"] = [
            gettext("%(name)s holds bank records; models train on tabular datasets.")
            % {"name": version.dataset.name}
        ]
        return None
    if version.status != DatasetStatus.VALIDATED or not version.parquet:
        errors["dataset"] = [
            gettext("%(name)s v%(number)s is %(status)s; only a validated version can be trained on.")
            % {
                "name": version.dataset.name,
                "number": version.version,
                "status": str(version.get_status_display()).lower(),
            }
        ]
        return None
    return version


def _base_version(request: dict, errors: dict) -> ModelVersion | None:
    """The scorecard version a refit starts from (``base_version``), checked."""
    if request.get("base_version") is None:
        if request.get("edits"):
            errors["edits"] = [gettext("Bin edits refit a scorecard version; name it in base_version.")]
        return None
    base = ModelVersion.objects.filter(pk=request["base_version"]).first()
    if base is None:
        errors["base_version"] = [
            gettext("No model version with id %(id)s.") % {"id": request["base_version"]}
        ]
    elif not base.card:
        errors["base_version"] = [
            gettext("%(version)s is not a scorecard; only scorecards are refitted with bin edits.")
            % {"version": base}
        ]
        base = None
    elif request.get("algorithm") not in (None, "scorecard"):
        errors["algorithm"] = [gettext("A scorecard refit trains a scorecard.")]
    return base


def _reference_version(request: dict, errors: dict, spec) -> DatasetVersion | None:
    """The reference population a logistic regression's reasons compare records with."""
    if request.get("reference_dataset") is None:
        return None
    if spec.algorithm != "logistic_regression":
        errors["reference_dataset"] = [
            gettext(
                "A reference population is for logistic regression: LightGBM's reasons are measured "
                "against its own training expectation (TreeSHAP), a scorecard's against each feature's "
                "best bin."
            )
        ]
        return None
    found: dict[str, list[str]] = {}
    version = _resolve_dataset(
        {
            "dataset": request["reference_dataset"],
            "dataset_version": request.get("reference_dataset_version"),
        },
        found,
        None,
    )
    if version is None:
        errors["reference_dataset"] = [m for messages in found.values() for m in messages]
        return None
    missing = [f for f in spec.features if f not in columns_of(version)]
    if missing:
        errors["reference_dataset"] = [
            gettext("%(dataset)s v%(number)s lacks the feature(s): %(features)s.")
            % {
                "dataset": version.dataset.name,
                "number": version.version,
                "features": ", ".join(missing[:10]),
            }
        ]
        return None
    return version


def _event_value_problem(version: DatasetVersion, label: str, value: Any) -> str | None:
    """Why ``value`` cannot be the event of ``label`` in ``version`` (None when it can)."""
    with stored_file_path(version.parquet) as path:
        column = pq.read_table(path, columns=[label]).column(label)
    try:
        training.event_class(training.label_classes_of(column), [1, 1], value)
    except training.SpecError as exc:
        return problems_text(exc.problems)
    return None


def training_engine(requested: str | None, spec: training.TrainingSpec, rows: int) -> engines.EngineChoice:
    """Where a training runs: ``engines.engine_choose``, except that ``auto`` keeps on the local
    engine what the dask engine cannot train (not LightGBM, early stopping)."""
    choice = engines.engine_choose(requested, rows=rows, columns=len(spec.features))
    if choice.engine == engines.DASK and requested == engines.AUTO:
        problems = distributed.dask_problems(spec)
        if problems:
            return engines.EngineChoice(engines.LOCAL, problems_text(problems))
    return choice


def _engine_errors(requested: str | None, spec: training.TrainingSpec, rows: int) -> list[str]:
    problems = engines.engine_problems(requested)
    if problems:
        return problems
    choice = training_engine(requested, spec, rows)
    if choice.engine == engines.DASK:
        return [problem_text(p) for p in distributed.dask_problems(spec)]
    too_large = engines.local_too_large(rows=rows, columns=len(spec.features))
    return [too_large] if too_large else []


def estimated_memory_mb(rows: int, features: int) -> int:
    """Rough peak memory of a training: the Arrow columns plus one float64 matrix, and
    LightGBM's binned copy (about a quarter of the matrix)."""
    return int(rows * features * 8 * 2.25 / 2**20) + 1


def training_plan(request: dict, *, resource_config: dict | None = None) -> TrainingPlan:
    """Check a training request against the data it names; raise RequestInvalid listing every problem.

    ``request`` keys: name, dataset, dataset_version, feature_set, features, label,
    algorithm, objective, params, split, time_column, validation_share, seed.
    """
    errors: dict[str, list[str]] = {}
    name = (request.get("name") or "").strip()
    if not name:
        errors["name"] = [gettext("A model name is required.")]
    feature_set = None
    skipped: list[str] = []
    if request.get("feature_set") is not None:
        feature_set = (
            FeatureSet.objects.select_related("dataset_version__dataset")
            .filter(pk=request["feature_set"])
            .first()
        )
        if feature_set is None:
            errors["feature_set"] = [
                gettext("No feature set with id %(id)s.") % {"id": request["feature_set"]}
            ]
    version = _resolve_dataset(request, errors, feature_set)
    if (
        version is not None
        and feature_set is not None
        and version.dataset_id != feature_set.dataset_version.dataset_id
    ):
        errors["feature_set"] = [
            gettext(
                "%(set)s is drawn from %(source)s; train it on a version of that dataset, not %(dataset)s."
            )
            % {
                "set": feature_set,
                "source": feature_set.dataset_version.dataset.name,
                "dataset": version.dataset.name,
            }
        ]
    if version is None or errors.get("feature_set"):
        raise RequestInvalid(errors)

    columns = columns_of(version)
    features = list(request.get("features") or [])
    if feature_set is not None:
        set_columns = [
            item.feature_version.source_column or item.feature_version.feature.name
            for item in feature_set.items.select_related("feature_version__feature").order_by("position")
        ]
        if features and features != set_columns:
            errors["features"] = [gettext("Give either a feature set or a column list, not both.")]
        # A set may hold columns the engine cannot use as inputs (dates, the split's time
        # column); they are left out and named in the task's parameters.
        time_column = request.get("time_column") or version.time_column
        skipped = [
            c
            for c in set_columns
            if c == time_column
            or (c in columns and training._dtype_kind(columns[c]) in ("temporal", "other"))
        ]
        features = [c for c in set_columns if c not in skipped]
    label = request.get("label") or (feature_set.label_column if feature_set else "") or version.label_column
    if not label:
        errors["label"] = [gettext("A label column is required (the dataset version declares none).")]
    if not features and label:
        time_column = request.get("time_column") or version.time_column
        features = [
            c
            for c, dtype in columns.items()
            if c not in (label, time_column, *version.key_columns)
            and training._dtype_kind(dtype) in ("numeric", "categorical")
        ]
    objective = request.get("objective") or _infer_objective(
        _distinct(version, label), columns.get(label, "")
    )
    threads = (resource_config or {}).get("threads") or min(os.cpu_count() or 1, 2)
    split = request.get("split") or ("time" if request.get("time_column") else "random")
    spec = training.TrainingSpec(
        algorithm=request.get("algorithm") or "lightgbm",
        objective=objective,
        label=label,
        features=features,
        params=request.get("params") or {},
        split=split,
        time_column=request.get("time_column") or (version.time_column if split == "time" else None),
        validation_share=request.get("validation_share", 0.2),
        seed=request.get("seed", 42),
        num_threads=min(threads, queue.MAX_RESOURCE_THREADS),
        event_value=request.get("event_value"),
    )
    base = _base_version(request, errors)
    if base is not None:
        spec.base_card, spec.edits = base.card, list(request.get("edits") or [])
        spec.params = dict(base.card.get("params") or {})
    problems = training.validate_spec(spec, columns, label_classes=_distinct(version, label))
    if problems:
        errors.setdefault("non_field_errors", []).extend(problem_text(p) for p in problems)
    reference = _reference_version(request, errors, spec)
    if spec.objective == "binary" and spec.event_value not in (None, "") and label in columns:
        problem = _event_value_problem(version, label, spec.event_value)
        if problem:
            errors["event_value"] = [problem]
    engine_errors = _engine_errors(request.get("engine"), spec, version.row_count or 0)
    if engine_errors:
        errors["engine"] = engine_errors
    needed = estimated_memory_mb(version.row_count or 0, len(features))
    allowed = (resource_config or {}).get("memoryMb")
    on_dask = "engine" not in errors and training_engine(request.get("engine"), spec, version.row_count or 0)
    if allowed and needed > allowed and not (on_dask and on_dask.engine == engines.DASK):
        errors.setdefault("resource_config", []).append(
            gettext(
                "This training needs about %(needed)s MB (%(rows)s rows x %(features)s features); "
                "memoryMb allows %(allowed)s."
            )
            % {
                "needed": needed,
                "rows": f"{version.row_count:,}",
                "features": len(features),
                "allowed": allowed,
            }
        )
    if errors:
        raise RequestInvalid(errors)
    parameters = {
        "model_name": name,
        "dataset": version.dataset_id,
        "dataset_version": version.version,
        "dataset_version_id": version.pk,
        "feature_set": feature_set.pk if feature_set else None,
        "algorithm": spec.algorithm,
        "objective": spec.objective,
        "label": spec.label,
        "features": spec.features,
        "params": training.resolved_params(spec),
        "split": spec.split,
        "time_column": spec.time_column,
        "validation_share": spec.validation_share,
        "seed": spec.seed,
        "skipped_features": skipped,
        "engine": request.get("engine") or engines.LOCAL,
    }
    if spec.event_value not in (None, ""):
        parameters["event_value"] = spec.event_value
    if base is not None:
        parameters["base_version"] = base.pk
        parameters["edits"] = spec.edits
    if reference is not None:
        parameters["reference"] = {
            "dataset_version_id": reference.pk,
            "dataset": reference.dataset_id,
            "version": reference.version,
        }
    if request.get("reproduce_of"):
        parameters["reproduce_of"] = request["reproduce_of"]
    return TrainingPlan(name, version, feature_set, spec, parameters)

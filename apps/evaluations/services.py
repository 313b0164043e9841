"""Evaluations: checking a request and queueing it as a task.

An evaluation is a task of type ``evaluation`` on the ``evaluation`` queue, registered with
the work queue by ``work.register``. ``evaluation_create`` checks the request against the
version and the data, then stores the task and its Evaluation row together (nothing when
the request is refused). The work itself (scoring, the report, its commit) is in ``work``;
the daily drift monitor and its alerts in ``monitoring``.
"""

from __future__ import annotations

import math
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from apps.datasets.selectors import columns_of, scoring_version
from apps.models.models import ModelType, ModelVersion
from apps.tasks import services as queue
from apps.tasks.errors import RequestInvalid
from apps.tasks.models import Task, TaskType

from .constants import DEFAULT_BINS, DEFAULT_THRESHOLD, MAX_BINS
from .models import Evaluation, Objective


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
        errors["options"] = [gettext("Must be an object: {permutationImportance, bins}.")]
        return {}
    problems = [
        gettext("Unknown option %(name)s.") % {"name": repr(k)}
        for k in raw
        if k not in ("permutation_importance", "bins")
    ]
    permutation = raw.get("permutation_importance", False)
    if not isinstance(permutation, bool):
        problems.append(gettext("permutationImportance must be true or false."))
    bins = raw.get("bins", DEFAULT_BINS)
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= MAX_BINS:
        problems.append(
            gettext("bins must be an integer between 2 and %(max)s; got %(value)s.")
            % {"max": MAX_BINS, "value": repr(bins)}
        )
    if problems:
        errors["options"] = problems
    return {"permutation_importance": permutation, "bins": bins}


def _threshold(raw: Any, objective: str, version: ModelVersion, errors: dict) -> float | None:
    if raw is None:
        return DEFAULT_THRESHOLD if objective == Objective.BINARY else None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        errors["threshold"] = [gettext("Must be a number between 0 and 1.")]
    elif objective == Objective.REGRESSION:
        errors["threshold"] = [
            gettext(
                "%(version)s is a regression model: it predicts values, so it takes no classification "
                "threshold (leave threshold out)."
            )
            % {"version": version}
        ]
    elif objective == Objective.MULTICLASS:
        errors["threshold"] = [
            gettext(
                "%(version)s is a multiclass model: it predicts the most probable class and takes no "
                "threshold (leave threshold out)."
            )
            % {"version": version}
        ]
    elif not 0 <= raw <= 1:
        errors["threshold"] = [
            gettext("Must be between 0 and 1 (a probability); got %(value)s.") % {"value": raw}
        ]
    return float(raw) if not errors.get("threshold") else None


def evaluation_check(*, request: dict, resources: dict | None = None) -> dict[str, Any]:
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
            {
                "model_version": [
                    gettext("No model version with id %(id)s.") % {"id": repr(request.get("model_version"))}
                ]
            }
        )
    if version.model.type == ModelType.RETRIEVAL:
        raise RequestInvalid(
            {
                "model_version": [
                    gettext(
                        "%(version)s is a retrieval model: it answers questions and "
                        "has no scores to evaluate."
                    )
                    % {"version": version}
                ]
            }
        )
    objective = _objective(version)
    threshold = _threshold(request.get("threshold"), objective, version, errors)
    options = _options(request.get("options"), errors)
    features = list(version.feature_schema.get("features") or [])
    if not features:
        errors["model_version"] = [
            gettext("%(version)s declares no features; it cannot score a dataset.") % {"version": version}
        ]
    dataset_version = scoring_version(request.get("dataset"), request.get("dataset_version"), errors)
    label = ""
    if dataset_version is not None:
        columns = columns_of(dataset_version)
        label = request.get("label") or version.feature_schema.get("label") or dataset_version.label_column
        if not label:
            errors["label"] = [
                gettext(
                    "%(data)s declares no label column and %(version)s names none: "
                    "give the label column (an evaluation compares scores with known outcomes)."
                )
                % {"data": dataset_version, "version": version}
            ]
        elif label not in columns:
            errors["label"] = [
                gettext(
                    "%(data)s has no label column %(label)s: an evaluation compares "
                    "scores with known outcomes."
                )
                % {"data": dataset_version, "label": repr(label)}
            ]
        missing = [f for f in features if f not in columns]
        if missing:
            shown = ", ".join(missing[:10])
            if len(missing) > 10:
                shown = gettext("%(names)s and %(count)s more") % {"names": shown, "count": len(missing) - 10}
            errors.setdefault("dataset", []).append(
                gettext("%(data)s lacks %(count)s of the version's features: %(names)s.")
                % {"data": dataset_version, "count": len(missing), "names": shown}
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
            check=lambda request, resources: evaluation_check(request=request, resources=resources),
            name=lambda p: (
                gettext("Evaluate %(model)s v%(version)s on %(dataset)s v%(number)s")
                % {
                    "model": p["model_name"],
                    "version": p["version"],
                    "dataset": p["dataset_name"],
                    "number": p["dataset_version"],
                }
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


def evaluation_request_of(task: Task) -> dict:
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

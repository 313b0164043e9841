"""Feature importance of a scored model: from the model itself, or by permutation.

Pure: no Django import. Takes a loaded model (``apps.models.training`` formats) and plain
arrays or Arrow tables; ``metrics`` computes the figures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from apps.models import training

from . import metrics

# Permutation importance rescoring is repeated per feature: a seeded sample keeps it bounded.
PERMUTATION_MAX_ROWS = 20_000
PERMUTATION_REPEATS = 3


def _(text: str) -> str:
    """Marks ``text`` for translation (no Django here): the pages translate the stored
    ``note_template`` and fill in ``note_params`` (``apps.evaluations.texts``)."""
    return text


def _noted(result: dict[str, Any], template: str, **params: Any) -> dict[str, Any]:
    """``result`` with its ``note`` in English, and the template and params to translate it."""
    result["note"] = template % params if params else template
    result["note_template"] = template
    result["note_params"] = params
    return result


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
            return _noted(
                {"method": "coefficient", "rows": []}, _("The model's inputs do not map to its features.")
            )
        # A categorical feature counts with its strongest level.
        picked = [np.flatnonzero(owner == j) for j in range(len(features))]
        strongest = [idx[np.argmax(np.abs(coef[:, idx]).mean(axis=0))] for idx in picked]
        return _noted(
            {"method": "coefficient", "rows": metrics.linear_importance(coef[:, strongest], features)},
            _("Absolute coefficients on standardised inputs (a categorical feature: its strongest level)."),
        )
    if hasattr(estimator, "feature_importances_"):
        values = np.asarray(estimator.feature_importances_, dtype=np.float64)
        owner = _sklearn_owner(model, len(features), values.shape[0])
        if owner is None:
            return _noted(
                {"method": "impurity", "rows": []}, _("The model's inputs do not map to its features.")
            )
        summed = np.bincount(owner, weights=values, minlength=len(features))
        total = float(summed.sum())
        rows = [
            {"feature": f, "importance": float(v), "importance_share": float(v / total) if total > 0 else 0.0}
            for f, v in zip(features, summed, strict=True)
        ]
        rows.sort(key=lambda r: (-r["importance"], r["feature"]))
        return _noted(
            {"method": "impurity", "rows": rows},
            _("Mean decrease in impurity, summed over a feature's levels."),
        )
    return _noted(
        {"method": "none", "rows": []},
        _("%(estimator)s exposes no importance."),
        estimator=type(estimator).__name__,
    )


def _quality_metric(objective: str, n_classes: int) -> Callable[[np.ndarray, np.ndarray], float | None]:
    if objective == "binary":
        return metrics.roc_auc
    if objective == "regression":
        return lambda y, p: metrics.regression_report(y, p)["metrics"]["r2"]
    return lambda y, p: metrics.multiclass_report(y, p, list(range(n_classes)))["metrics"]["accuracy"]


def permutation(
    objective: str, fmt: str, model: Any, meta: dict, table: pa.Table, y: np.ndarray
) -> dict[str, Any]:
    """The drop of the objective's quality metric (AUC, R², accuracy) when each feature is
    shuffled: ``{"metric", "rows", "note"}``; no rows, with the reason, when not computable."""
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
        return _noted({"metric": metric_name, "rows": []}, _("Not computed: %(reason)s."), reason=str(exc))
    return _noted(
        {"metric": metric_name, "rows": rows},
        _(
            "Drop of %(metric)s when a feature is shuffled; mean of %(repeats)s seeded shuffles "
            "on up to %(rows)s rows."
        ),
        metric=metric_name,
        repeats=PERMUTATION_REPEATS,
        rows=f"{PERMUTATION_MAX_ROWS:,}",
    )

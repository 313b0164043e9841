"""Feature importance: LightGBM gain and split, linear coefficients, permutation importance."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .binary import roc_auc
from .definitions import _

# --------------------------------------------------------------------------- importance


def _importance_rows(names: Sequence[str], values: dict[str, np.ndarray], sort_by: str) -> list[dict]:
    """Rows ``{feature, <kind>, <kind>_share}``, sorted by ``sort_by`` descending then name."""
    shares = {}
    for kind, v in values.items():
        # A negative importance (shuffling helped) gets no share of the total.
        positive = np.maximum(v, 0.0)
        total = float(positive.sum())
        shares[kind] = positive / total if total > 0 else np.zeros_like(positive)
    rows = []
    for i, name in enumerate(names):
        row: dict[str, Any] = {"feature": str(name)}
        for kind, v in values.items():
            row[kind] = float(v[i])
            row[f"{kind}_share"] = float(shares[kind][i])
        rows.append(row)
    rows.sort(key=lambda r: (-r[sort_by], r["feature"]))
    return rows


def lightgbm_importance(model: Any) -> list[dict[str, Any]]:
    """Gain and split importance of a LightGBM ``Booster`` (or an sklearn-API LGBM model).

    ``gain`` is the total loss reduction of the splits on the feature, ``split`` how many
    splits use it; ``*_share`` is each divided by its total over features (0 when the
    model has no split). Sorted by gain, largest first.
    """
    booster = getattr(model, "booster_", model)
    names = booster.feature_name()
    gain = np.asarray(booster.feature_importance(importance_type="gain"), dtype=np.float64)
    split = np.asarray(booster.feature_importance(importance_type="split"), dtype=np.float64)
    return _importance_rows(names, {"gain": gain, "split": split}, "gain")


def linear_importance(
    coefficients: ArrayLike, feature_names: Sequence[str], feature_std: ArrayLike | None = None
) -> list[dict[str, Any]]:
    """Importance of a linear model: ``|coefficient|`` (x the feature's std when given).

    With ``feature_std`` the importance is the standardised coefficient, comparable across
    features on different scales. A 2-D coefficient matrix (one row per class) uses the
    mean absolute value over classes. Rows carry ``coefficient`` (the raw one, or the
    per-class mean), ``importance`` and ``importance_share``; sorted by importance.
    """
    coef = np.asarray(coefficients, dtype=np.float64)
    if coef.ndim == 2:
        signed = coef.mean(axis=0)
        magnitude = np.abs(coef).mean(axis=0)
    elif coef.ndim == 1:
        signed, magnitude = coef, np.abs(coef)
    else:
        raise ValueError("coefficients must be a vector or a (classes, features) matrix")
    if magnitude.shape[0] != len(feature_names):
        raise ValueError(f"{magnitude.shape[0]} coefficients for {len(feature_names)} feature names")
    if feature_std is not None:
        std = np.asarray(feature_std, dtype=np.float64)
        if std.shape != magnitude.shape:
            raise ValueError("feature_std must have one value per feature")
        magnitude = magnitude * std
    rows = _importance_rows(feature_names, {"importance": magnitude}, "importance")
    coef_by_name = dict(zip((str(n) for n in feature_names), signed.tolist(), strict=True))
    for row in rows:
        row["coefficient"] = coef_by_name[row["feature"]]
    return rows


def permutation_importance(
    predict: Callable[[Any], ArrayLike],
    X: Any,
    y: ArrayLike,
    *,
    feature_names: Sequence[str] | None = None,
    metric: Callable[[np.ndarray, np.ndarray], float | None] | None = None,
    n_repeats: int = 5,
    seed: int = 0,
    max_rows: int | None = None,
) -> list[dict[str, Any]]:
    """How much ``metric`` drops when one feature's values are shuffled (seeded).

    ``X`` is a 2-D NumPy array or a DataFrame-like object (``.columns``, ``.copy()``,
    column assignment); ``predict(X)`` returns one score per row. ``metric(y, scores)``
    must grow with quality; the default is ROC AUC. For each feature and each of
    ``n_repeats`` repeats the column is permuted with ``numpy.random.default_rng(seed)``
    draws; importance = baseline metric - permuted metric. With ``max_rows`` a seeded
    sample of rows is used. Rows: ``feature``, ``importance`` (mean drop),
    ``importance_std``, ``importance_share``; sorted by importance.
    """
    if n_repeats < 1:
        raise ValueError("n_repeats must be at least 1")
    score_fn = metric or roc_auc
    rng = np.random.default_rng(seed)
    y_arr = np.asarray(y)
    frame_like = hasattr(X, "columns") and hasattr(X, "copy")
    n = len(X)
    if n != y_arr.shape[0] or n == 0:
        raise ValueError("X and y must be non-empty with one label per row")
    if max_rows is not None and n > max_rows:
        rows_idx = np.sort(rng.choice(n, size=max_rows, replace=False))
        X = X.iloc[rows_idx].reset_index(drop=True) if frame_like else np.asarray(X)[rows_idx]
        y_arr = y_arr[rows_idx]
        n = max_rows
    if frame_like:
        columns = list(X.columns)
        work = X.copy()
    else:
        work = np.array(X, copy=True)
        if work.ndim != 2:
            raise ValueError("X must be two-dimensional")
        columns = list(range(work.shape[1]))
    names = [str(c) for c in (feature_names if feature_names is not None else columns)]
    if len(names) != len(columns):
        raise ValueError("feature_names must name every column of X")

    def evaluate() -> float:
        value = score_fn(y_arr, np.asarray(predict(work), dtype=np.float64))
        if value is None:
            raise ValueError(_("the metric is undefined on this data (e.g. a single class)"))
        return float(value)

    base = evaluate()
    drops = np.zeros((len(columns), n_repeats))
    for j, col in enumerate(columns):
        original = (work[col] if frame_like else work[:, j]).copy()
        for r in range(n_repeats):
            perm = rng.permutation(n)
            if frame_like:
                # iloc keeps the column's dtype (e.g. categorical); set_axis realigns the index.
                work[col] = original.iloc[perm].set_axis(work.index)
            else:
                work[:, j] = original[perm]
            drops[j, r] = base - evaluate()
        if frame_like:
            work[col] = original
        else:
            work[:, j] = original
    mean = drops.mean(axis=1)
    rows = _importance_rows(names, {"importance": mean}, "importance")
    std_by_name = dict(zip(names, drops.std(axis=1).tolist(), strict=True))
    for row in rows:
        row["importance_std"] = std_by_name[row["feature"]]
        row["baseline_metric"] = base
    return rows

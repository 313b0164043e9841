"""Scoring a trained model exactly as in training: ``predict``, ``score_matrix``,
``records_matrix``, the validation metrics and ``holdout_metrics``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn import metrics as skm

from . import scorecard
from .data import _build_matrix, _label_values, _split_order, _to_table
from .spec import Problem, SpecError, TrainingSpec, _


def _validation_metrics(objective: str, y: np.ndarray, pred: np.ndarray, n_classes: int) -> dict[str, float]:
    if objective == "binary":
        p = np.clip(pred, 1e-15, 1 - 1e-15)
        yi = y.astype(int)
        out = {
            "logloss": float(skm.log_loss(yi, p, labels=[0, 1])),
            "accuracy": float(np.mean((p >= 0.5) == yi)),
        }
        if len(np.unique(yi)) == 2:
            fpr, tpr, _ = skm.roc_curve(yi, p)
            out["auc"] = float(skm.roc_auc_score(yi, p))
            out["ks"] = float(np.max(np.abs(tpr - fpr)))
        return out
    if objective == "multiclass":
        yi = y.astype(int)
        labels = list(range(n_classes))
        return {
            "accuracy": float(skm.accuracy_score(yi, pred.argmax(axis=1))),
            "f1_macro": float(
                skm.f1_score(yi, pred.argmax(axis=1), average="macro", labels=labels, zero_division=0)
            ),
            "logloss": float(skm.log_loss(yi, np.clip(pred, 1e-15, 1), labels=labels)),
        }
    return {
        "rmse": float(math.sqrt(skm.mean_squared_error(y, pred))),
        "mae": float(skm.mean_absolute_error(y, pred)),
        "r2": float(skm.r2_score(y, pred)) if len(y) > 1 else float("nan"),
    }


def _sk_predict(model: Any, X: np.ndarray, objective: str) -> np.ndarray:
    if objective == "regression":
        return model.predict(X)
    proba = model.predict_proba(X)
    return proba[:, 1] if objective == "binary" else proba


def predict(model_format: str, model: Any, table_or_frame: Any, meta: dict[str, Any]) -> np.ndarray:
    """Scores for new data, preprocessed exactly as in training.

    Binary: probability of the second class in ``meta["label_classes"]``; multiclass: an
    (n, classes) probability matrix; regression: the predicted value.
    """
    return score_matrix(model_format, model, feature_matrix(table_or_frame, meta), meta["objective"])


def feature_matrix(table_or_frame: Any, meta: dict[str, Any]) -> np.ndarray:
    """The model's input matrix for new data, encoded exactly as in training."""
    table = _to_table(table_or_frame)
    features = list(meta["features"])
    missing = [f for f in features if f not in table.column_names]
    if missing:
        raise SpecError([Problem(_("columns missing for scoring: %(columns)s"), columns=", ".join(missing))])
    return _build_matrix(
        table, features, meta.get("categorical_levels") or {}, np.dtype(meta.get("dtype", "float64"))
    )


def score_matrix(
    model_format: str, model: Any, X: np.ndarray, objective: str, num_threads: int = 0
) -> np.ndarray:
    """Scores of a feature matrix built like the training one (see ``predict``).

    ``num_threads`` > 0 caps LightGBM's threads: a web process scoring a few rows gains
    nothing from a thread pool and loses latency to waking it.
    """
    if model_format == "lightgbm-text":
        if num_threads:
            return np.asarray(model.predict(X, num_threads=num_threads))
        return np.asarray(model.predict(X))
    if model_format == "skops":
        return _sk_predict(model, X, objective)
    if model_format == "omm-scorecard":
        return scorecard.card_probability(model, X)
    raise ValueError(f"unknown model format {model_format!r}")


def contributions(model_format: str, model: Any, X: np.ndarray, objective: str) -> np.ndarray | None:
    """Each feature's contribution to each row's raw score, the last column being the
    expected value (LightGBM's TreeSHAP; for binary models in log-odds), or None where the
    model gives none (scikit-learn models, multiclass)."""
    if model_format != "lightgbm-text" or objective not in ("binary", "regression"):
        return None
    # One thread for a request's few rows (waking a pool costs more); all cores for a batch.
    threads = 1 if len(X) <= 2_000 else 0
    return np.asarray(model.predict(X, pred_contrib=True, num_threads=threads))


def records_matrix(
    records: Sequence[dict[str, Any]],
    features: Sequence[str],
    level_codes: dict[str, dict[str, int]],
    dtype: Any = np.float64,
) -> np.ndarray:
    """The feature matrix of already-checked records (dicts), encoded as in training.

    Numbers go in as they are, ``None`` as NaN; a categorical value becomes its index in
    the training levels (``level_codes[name]``: level -> index), NaN when unseen or null,
    exactly as ``_codes`` does for columns.
    """
    X = np.empty((len(records), len(features)), dtype=dtype)
    nan = float("nan")
    for j, name in enumerate(features):
        codes = level_codes.get(name)
        if codes is None:
            X[:, j] = [nan if (v := r[name]) is None else v for r in records]
        else:
            X[:, j] = [codes.get(r[name], nan) for r in records]
    return X


def holdout_metrics(
    spec: TrainingSpec, table: Any, model_format: str, model: Any, meta: dict[str, Any]
) -> dict[str, float]:
    """Metrics of another model on the validation rows ``train(spec, table)`` held out.

    The champion/challenger gate scores the champion on the challenger's own holdout, so
    both are judged on the same rows. Raises SpecError when the model cannot be scored
    on this table (missing columns, different objective or label classes).
    """
    table = _to_table(table)
    if meta.get("objective") != spec.objective:
        raise SpecError(
            [
                Problem(
                    _("the model's objective is %(objective)s, not %(expected)s"),
                    objective=meta.get("objective"),
                    expected=spec.objective,
                )
            ]
        )
    valid, y_all, classes = _holdout(spec, table)
    if spec.objective != "regression" and list(meta.get("label_classes") or []) != list(classes):
        raise SpecError([Problem(_("the model was trained on different label classes"))])
    pred = predict(model_format, model, table.take(pa.array(valid)), meta)
    return _validation_metrics(spec.objective, y_all[valid], pred, len(classes))


def _holdout(spec: TrainingSpec, table: pa.Table) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """(indices of the validation rows ``train(spec, table)`` holds out, encoded label, classes)."""
    y_all, present, classes = _label_values(table, spec.label, spec.objective, spec.event_value)
    order, n_train = _split_order(spec, table, np.flatnonzero(present), y_all)
    return order[n_train:], y_all, classes


def holdout_table(spec: TrainingSpec, table: Any) -> pa.Table:
    """The validation rows ``train(spec, table)`` held out: where exports are checked."""
    table = _to_table(table)
    return table.take(pa.array(_holdout(spec, table)[0]))

"""Multiclass classification: ``multiclass_report`` from a probability matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .core import _note, _num
from .definitions import LOGLOSS_EPSILON, METRICS_VERSION, PROBA_SUM_TOLERANCE, _

# --------------------------------------------------------------------------- multiclass


def multiclass_report(y_true: ArrayLike, proba: ArrayLike, classes: Sequence[Any]) -> dict[str, Any]:
    """Multiclass figures from a probability matrix (one column per class, in ``classes`` order).

    The prediction is the class of the largest probability (the first one on a tie).
    Per class: precision = TP/(predicted as the class), recall = TP/support, F1 =
    2PR/(P+R); an undefined ratio counts as 0 (noted), as scikit-learn's default does.
    ``macro_*`` average over all ``classes``; ``weighted_*`` weight by support. Rows
    with a non-finite probability are dropped and counted. ``log_loss`` = -mean ln p(true
    class), p clipped as for binary, None unless every row sums to 1 (within
    PROBA_SUM_TOLERANCE). Labels not in ``classes`` are a ValueError.
    """
    classes_arr = np.asarray(list(classes))
    k = classes_arr.shape[0]
    if k < 2 or np.unique(classes_arr).shape[0] != k:
        raise ValueError("classes must list at least two distinct labels")
    p = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y_true)
    if p.ndim != 2 or p.shape[1] != k:
        raise ValueError(f"proba must have shape (n, {k}), got {p.shape}")
    if y.ndim != 1 or y.shape[0] != p.shape[0]:
        raise ValueError("y_true must be one-dimensional with one label per proba row")
    if y.shape[0] == 0:
        raise ValueError(_("no rows to evaluate (empty input)"))
    order = np.argsort(classes_arr)
    sorted_classes = classes_arr[order]
    try:
        pos = np.searchsorted(sorted_classes, y)
    except TypeError as exc:
        raise ValueError("y_true labels are not comparable with classes") from exc
    pos = np.minimum(pos, k - 1)
    known = sorted_classes[pos] == y
    if not np.all(known):
        raise ValueError(f"y_true holds labels not in classes, e.g. {y[~known][:3].tolist()}")
    true_idx = order[pos]
    notes: list[dict[str, str]] = []
    finite = np.all(np.isfinite(p), axis=1)
    n_dropped = int(p.shape[0] - np.count_nonzero(finite))
    if n_dropped:
        p, true_idx = p[finite], true_idx[finite]
        notes.append(
            _note(
                "non_finite_scores_dropped",
                _("%(count)s rows with a NaN or infinite probability were left out."),
                count=n_dropped,
            )
        )
        if p.shape[0] == 0:
            raise ValueError(_("no row with finite probabilities to evaluate"))
    n = p.shape[0]
    pred_idx = np.argmax(p, axis=1)
    matrix = np.bincount(true_idx * k + pred_idx, minlength=k * k).reshape(k, k)
    tp = np.diag(matrix).astype(np.float64)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    pr_sum = precision + recall
    f1 = np.divide(2 * precision * recall, pr_sum, out=np.zeros(k), where=pr_sum > 0)
    if np.any(predicted == 0) or np.any(support == 0):
        notes.append(
            _note(
                "undefined_class_ratios",
                _(
                    "Some classes are never predicted or never occur: their undefined precision or "
                    "recall counts as 0 in the averages."
                ),
            )
        )
    weights = support / n
    sums = p.sum(axis=1)
    if np.all(np.abs(sums - 1) <= PROBA_SUM_TOLERANCE) and np.all(p >= 0):
        picked = np.clip(p[np.arange(n), true_idx], LOGLOSS_EPSILON, 1 - LOGLOSS_EPSILON)
        log_loss: float | None = float(-np.log(picked).mean())
    else:
        log_loss = None
        notes.append(
            _note("scores_not_probabilities", _("Probability rows do not sum to 1: log loss is undefined."))
        )
    per_class = [
        {
            "class": label,
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(classes_arr.tolist())
    ]
    return {
        "metrics_version": METRICS_VERSION,
        "task": "multiclass",
        "n": n,
        "n_dropped": n_dropped,
        "classes": [row["class"] for row in per_class],
        "metrics": {
            "accuracy": float(tp.sum() / n),
            "macro_precision": float(precision.mean()),
            "macro_recall": float(recall.mean()),
            "macro_f1": float(f1.mean()),
            "weighted_precision": float(np.dot(weights, precision)),
            "weighted_recall": float(np.dot(weights, recall)),
            "weighted_f1": float(np.dot(weights, f1)),
            "log_loss": _num(log_loss),
        },
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),  # rows: true class, columns: predicted class
        "notes": notes,
    }

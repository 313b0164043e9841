"""Regression: ``regression_report`` (MSE, RMSE, MAE, R²)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .core import _float_1d, _note, _num
from .definitions import METRICS_VERSION, _

# --------------------------------------------------------------------------- regression


def regression_report(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, Any]:
    """MSE = mean (y - ŷ)², RMSE = √MSE, MAE = mean |y - ŷ|, R² = 1 - SS_res / SS_tot.

    Non-finite targets are a ValueError; rows with a non-finite prediction are dropped
    and counted. R² is None (noted) when the target is constant (scikit-learn returns 1.0
    or 0.0 there).
    """
    y = _float_1d(y_true, "y_true")
    pred = _float_1d(y_pred, "y_pred")
    if y.shape != pred.shape:
        raise ValueError(f"y_true has {y.shape[0]} values but y_pred has {pred.shape[0]}")
    if y.shape[0] == 0:
        raise ValueError(_("no rows to evaluate (empty input)"))
    if not np.all(np.isfinite(y)):
        raise ValueError("y_true must be finite (NaN is not a target)")
    notes: list[dict[str, str]] = []
    finite = np.isfinite(pred)
    n_dropped = int(pred.shape[0] - np.count_nonzero(finite))
    if n_dropped:
        y, pred = y[finite], pred[finite]
        notes.append(
            _note(
                "non_finite_scores_dropped",
                _("%(count)s rows with a NaN or infinite prediction were left out."),
                count=n_dropped,
            )
        )
        if y.shape[0] == 0:
            raise ValueError(_("no finite prediction to evaluate"))
    residual = y - pred
    mse = float(np.mean(residual**2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0:
        r2 = None
        notes.append(_note("constant_target", _("The target is constant: R² is undefined.")))
    else:
        r2 = 1 - float(np.sum(residual**2)) / ss_tot
    return {
        "metrics_version": METRICS_VERSION,
        "task": "regression",
        "n": int(y.shape[0]),
        "n_dropped": n_dropped,
        "metrics": {
            "mse": _num(mse),
            "rmse": _num(math.sqrt(mse)),
            "mae": _num(np.mean(np.abs(residual))),
            "r2": _num(r2),
        },
        "notes": notes,
    }

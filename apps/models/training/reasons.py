"""Reason codes: which features pushed one record's score toward the event the most.

Pure module (no Django import). A contribution is measured on the model's own additive
scale, relative to a reference, and summed back onto the ORIGINAL feature:

- LightGBM (binary, regression): TreeSHAP from ``booster.predict(X, pred_contrib=True)``
  (``scoring.contributions``), log-odds for binary. The reference is TreeSHAP's expected
  value over the training data, held by the model itself, so ``reasons_reference`` is None;
  the contributions plus the expected value add up to the raw score.
- Logistic regression (binary): ``coef_t * (z_t - mean_t)`` for every column ``t`` of the
  pipeline's ``pre`` output ``z``, ``mean`` being the reference population's mean of that
  column (``reasons_reference``); the one-hot columns of a categorical feature add up onto
  that feature. Their sum is ``logit(p) - (intercept + coef . mean)``.
- Random forests and multiclass models: None (no additive per-feature decomposition that
  can be computed per request here).

Adverse-action use: the features with the largest POSITIVE contribution (toward the event)
are the reasons (``top_reasons``), the practice of the "key factors" a lender states when
it declines (US Regulation B, 12 CFR 1002.9(b)(2): the specific principal reasons; its
official interpretation, comment 9(b)(2)-1, finds more than four "not likely to be helpful",
hence ``k=4``).

Speed: ``compile_reasons`` prepares everything that does not depend on the record once per
loaded model. For logistic regression it copies the fitted imputer, scaler, one-hot and
coefficients into NumPy arrays, so a record's contributions cost a few vector operations
instead of a second run of the scikit-learn pipeline (whose ColumnTransformer alone takes
about a millisecond for one row). Keep the compiled object beside the loaded model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .scoring import contributions

REFERENCE_KIND = "linear-transformed-mean"


@dataclass(frozen=True)
class _Categorical:
    column: int  # the feature's column in X
    levels: np.ndarray  # the one-hot encoder's categories (codes, -1 for missing/unseen)
    coef: np.ndarray  # the coefficient of each one-hot column
    base: float  # sum(coef * reference mean) over those columns


@dataclass(frozen=True)
class CompiledReasons:
    """Per-model state for ``contributions``; build it with ``compile_reasons``."""

    kind: str  # "tree" | "linear"
    n_features: int
    objective: str = "binary"
    booster: Any = None
    num_columns: np.ndarray | None = None
    num_fill: np.ndarray | None = None
    num_mean: np.ndarray | None = None
    num_scale: np.ndarray | None = None
    num_coef: np.ndarray | None = None
    num_reference: np.ndarray | None = None
    categorical: tuple[_Categorical, ...] = ()
    cat_fill: np.ndarray | None = None
    baseline_logit: float = 0.0  # intercept + coef . reference: the logit contributions start from

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """(n_rows, n_features) contributions of each original feature."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected a matrix of {self.n_features} feature columns, got shape {X.shape}")
        if self.kind == "tree":
            return contributions("lightgbm-text", self.booster, X, self.objective)[:, :-1]
        out = np.zeros(X.shape, dtype=np.float64)
        if self.num_columns is not None and len(self.num_columns):
            x = X[:, self.num_columns]
            x = np.where(np.isnan(x), self.num_fill, x)
            # Same operations, in the same order, as StandardScaler.transform.
            z = (x - self.num_mean) / self.num_scale
            out[:, self.num_columns] = self.num_coef * (z - self.num_reference)
        for i, cat in enumerate(self.categorical):
            code = X[:, cat.column]
            code = np.where(np.isnan(code), self.cat_fill[i], code)
            hit = code[:, None] == cat.levels[None, :]  # an unseen code hits no column
            out[:, cat.column] = hit @ cat.coef - cat.base
        return out


def _linear_parts(pipe: Any) -> tuple[Any, np.ndarray, float] | None:
    """(preprocessor, coef, intercept) of a binary logistic-regression pipeline whose every
    transformed column comes from one input feature, or None for another model."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    if not isinstance(pipe, Pipeline) or "pre" not in pipe.named_steps:
        return None
    est = pipe.steps[-1][1]
    if not isinstance(est, LogisticRegression) or len(est.classes_) != 2:
        return None
    pre = pipe.named_steps["pre"]
    owner = np.full(est.coef_.shape[1], -1, dtype=np.int64)
    for name, trans, cols in pre.transformers_:
        if trans == "drop" or name == "remainder":
            continue
        out = pre.output_indices_[name]
        if name == "cat":
            sizes = [len(c) for c in trans.named_steps["onehot"].categories_]
            owner[out] = np.repeat(np.asarray(cols), sizes)
        else:
            owner[out] = np.asarray(cols)
    if (owner < 0).any():
        return None
    return pre, est.coef_[0].astype(np.float64), float(est.intercept_[0])


def reasons_reference(
    model_format: str, model: Any, X_reference: np.ndarray, objective: str
) -> dict[str, Any] | None:
    """What reason contributions are measured against, from a reference population (the
    training rows at training time). Logistic regression: the mean of every column of the
    pipeline's ``pre`` output. LightGBM and the other models: None (see the module doc)."""
    if model_format != "skops" or objective != "binary":
        return None
    parts = _linear_parts(model)
    if parts is None:
        return None
    pre = parts[0]
    X = np.asarray(X_reference, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError("the reference population needs at least one row")
    Z = pre.transform(X)
    Z = Z.toarray() if hasattr(Z, "toarray") else np.asarray(Z)
    return {"kind": REFERENCE_KIND, "rows": len(X), "mean": [float(v) for v in Z.mean(axis=0)]}


def compile_reasons(
    model_format: str, model: Any, objective: str, n_features: int, reference: dict[str, Any] | None
) -> CompiledReasons | None:
    """The per-model part of the reasons, computed once; None when the model gives no
    reasons (random forest, multiclass, a logistic regression without a reference)."""
    if objective not in ("binary", "regression"):
        return None
    if model_format == "lightgbm-text":
        return CompiledReasons(kind="tree", n_features=n_features, objective=objective, booster=model)
    if model_format != "skops" or objective != "binary" or not reference:
        return None
    parts = _linear_parts(model)
    if parts is None:
        return None
    pre, coef, intercept = parts
    if reference.get("kind") != REFERENCE_KIND or len(reference.get("mean", ())) != len(coef):
        raise ValueError("the reasons reference does not belong to this model")
    ref = np.asarray(reference["mean"], dtype=np.float64)
    num_columns = num_fill = num_mean = num_scale = num_coef = num_reference = None
    categorical: list[_Categorical] = []
    cat_fill = None
    for name, trans, cols in pre.transformers_:
        if trans == "drop" or name == "remainder":
            continue
        out = np.arange(len(coef))[pre.output_indices_[name]]
        if name == "cat":
            cat_fill = np.asarray(trans.named_steps["impute"].statistics_, dtype=np.float64)
            start = 0
            for col, levels in zip(cols, trans.named_steps["onehot"].categories_, strict=True):
                idx = out[start : start + len(levels)]
                start += len(levels)
                categorical.append(
                    _Categorical(
                        column=int(col),
                        levels=np.asarray(levels, dtype=np.float64),
                        coef=coef[idx],
                        base=float(coef[idx] @ ref[idx]),
                    )
                )
        else:
            num_columns = np.asarray(cols, dtype=np.int64)
            num_fill = np.asarray(trans.named_steps["impute"].statistics_, dtype=np.float64)
            scaler = trans.named_steps["scale"]
            num_mean, num_scale = scaler.mean_, scaler.scale_
            num_coef, num_reference = coef[out], ref[out]
    return CompiledReasons(
        kind="linear",
        n_features=n_features,
        num_columns=num_columns,
        num_fill=num_fill,
        num_mean=num_mean,
        num_scale=num_scale,
        num_coef=num_coef,
        num_reference=num_reference,
        categorical=tuple(categorical),
        cat_fill=cat_fill,
        baseline_logit=intercept + float(coef @ ref),
    )


def reason_contributions(
    model_format: str,
    model: Any,
    X: np.ndarray,
    objective: str,
    features: list[str],
    reference: dict[str, Any] | None,
) -> np.ndarray | None:
    """(n_rows, n_features) contribution of each original feature to the row's log-odds
    (binary) or value (regression), relative to the reference; None where the model gives
    none. For many single-record calls, ``compile_reasons`` once and reuse it."""
    compiled = compile_reasons(model_format, model, objective, len(features), reference)
    return None if compiled is None else compiled.contributions(X)


def top_reasons(
    contrib_row: np.ndarray, features: list[str], values: list, k: int = 4
) -> list[dict[str, Any]]:
    """The ``k`` features with the largest positive contribution (toward the event), largest
    first, ties in feature order: ``{"feature", "value", "contribution"}``. Fewer than ``k``
    when fewer push toward the event."""
    c = np.asarray(contrib_row, dtype=np.float64).reshape(-1)
    if len(c) != len(features) or len(values) != len(features):
        raise ValueError("contributions, features and values must have the same length")
    if k <= 0:
        return []
    order = np.argsort(-c, kind="stable")  # stable: equal contributions keep feature order
    out = []
    for j in order[:k]:
        if not c[j] > 0:
            break
        out.append({"feature": features[j], "value": values[j], "contribution": float(c[j])})
    return out

"""Reason codes of each scored record, whatever the model: one entry point for serving, batch
scoring and trials.

- LightGBM (binary, regression): TreeSHAP contributions (``pred_contrib``), in log-odds.
- Logistic regression: coefficient x (value - reference), the reference being the mean of
  the training rows or of the reference population the training named
  (``meta["reasons_reference"]``).
- Scorecards: the points each feature lost against its best bin.
Random forests and multiclass models give none (None).

A reason is the feature that pushed the record towards the event the most: its name, the
record's value, and ``contribution`` (log-odds, or value for regression) or, for a scorecard,
``bin``, ``points`` and ``lost``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import reasons as _reasons
from . import scorecard

DEFAULT_TOP_REASONS = 4
MAX_TOP_REASONS = 20


@dataclass(frozen=True)
class Explainer:
    """What a loaded model needs to explain records, prepared once (``explainer_for``)."""

    kind: str  # "scorecard" | "additive"
    features: list[str]
    levels: dict[str, list[str]]
    compiled: Any


def explainer_for(model_format: str, model: Any, meta: dict[str, Any]) -> Explainer | None:
    """The model's explainer (None when it gives no reasons)."""
    features = list(meta["features"])
    levels = meta.get("categorical_levels") or {}
    if model_format == scorecard.SCORECARD_FORMAT:
        return Explainer("scorecard", features, levels, scorecard.compile_card(model))
    compiled = _reasons.compile_reasons(
        model_format, model, meta.get("objective", ""), len(features), meta.get("reasons_reference")
    )
    return None if compiled is None else Explainer("additive", features, levels, compiled)


def explain(
    explainer: Explainer, X: np.ndarray, *, k: int = DEFAULT_TOP_REASONS
) -> list[list[dict[str, Any]]]:
    """The top-``k`` reasons of every row of ``X``."""
    values = _display_values(X, explainer.features, explainer.levels)
    if explainer.kind == "scorecard":
        out = explainer.compiled.reasons(X, k)
        where = {name: j for j, name in enumerate(explainer.features)}
        for row, row_values in zip(out, values, strict=True):
            for item in row:
                item["value"] = row_values[where[item["feature"]]]
        return out
    contrib = explainer.compiled.contributions(X)
    return [_reasons.top_reasons(contrib[i], explainer.features, values[i], k) for i in range(len(X))]


def points(model_format: str, model: Any, X: np.ndarray) -> np.ndarray | None:
    """A scorecard's total points per row (None for other models)."""
    if model_format == scorecard.SCORECARD_FORMAT:
        return scorecard.card_points(model, X)
    return None


def _display_values(X: np.ndarray, features: list[str], levels: dict[str, list[str]]) -> list[list[Any]]:
    """Each row's feature values as the record gave them: numbers, levels, None for missing."""
    out: list[list[Any]] = []
    for row in X:
        shown: list[Any] = []
        for j, name in enumerate(features):
            v = float(row[j])
            if v != v:
                shown.append(None)
            elif name in levels:
                shown.append(levels[name][int(v)])
            else:
                shown.append(int(v) if v.is_integer() and abs(v) < 2**53 else v)
        out.append(shown)
    return out

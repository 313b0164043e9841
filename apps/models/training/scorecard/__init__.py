"""Credit scorecards: WOE binning, selection, logistic regression on WOE, points, reasons, SQL.

Pure package (no Django). ``fit_scorecard`` takes the feature matrix the training engine
builds (float columns; a categorical column holds codes into its sorted level list, NaN =
missing or unseen) and a 0/1 label (1 = the event: bad, default) and returns the card, a
plain JSON-able dict. Scoring is numpy over that JSON; optbinning only finds the bins and
nothing of it is stored.

Method
------
- Bins per feature: optbinning's ``OptimalBinning`` (numeric: ``[lower, upper)`` intervals
  under ``monotonic_trend``/``trends``, ``max_n_bins``, ``min_bin_share`` of the training
  rows per bin, ``special_values`` in a bin of their own; categorical: groups of levels,
  rarer than ``categorical_cutoff`` pooled as "other"). Every feature also has a missing bin.
- WOE = ln(share of non-events / share of events), positive = safer; IV per bin and feature.
- Selection: a feature with one distinct value (NaN aside) is dropped ("single value");
  then, by decreasing IV: IV >= ``min_iv``; |Pearson r| of the WOE columns <= ``max_correlation``
  with every feature already kept (of two, the higher IV stays); at most ``max_features``.
  ``include`` edits force a feature in or out. No feature left: SpecError.
- scikit-learn ``LogisticRegression`` (``C``) on the WOE columns: logit P(event) =
  intercept + sum coef_j * WOE_j.
- Points (Siddiqi, "Credit Risk Scorecards", 2006, ch. 6): factor = pdo / ln 2,
  offset = base_score - factor * ln(base_odds) (odds good:bad); bin i of feature j gets
  -factor * coef_j * WOE_ij + (offset - factor * intercept) / n_features, rounded per bin
  to ``rounding`` decimals. Total points = offset - factor * logit P(event), so ``pdo`` more
  points double the good:bad odds; ``card_probability`` inverts the (rounded) total.
- Empty bins (a missing bin no training row fell in, a level group with no rows) get WOE 0,
  i.e. the points of an average row. A categorical level with no training rows, an unseen
  level (NaN code) and NULL all score as missing.

Card schema (``formatVersion`` 1)
---------------------------------
::

    {"format": "omm-scorecard", "formatVersion": 1,
     "params": {...all params, defaults filled in...},
     "scaling": {"pdo", "baseOdds", "baseScore", "rounding", "factor", "offset"},
     "intercept": float,
     "features": [            # selected features, in X column order
        {"name", "kind": "numeric" | "categorical", "column": index into X's columns,
         "coef": float, "iv": float,
         "trend": "ascending" | "descending" | "peak" | "valley" | "none" (categorical: "none"),
         "bins": [{"label": "[25.0, 40.0)",
                   "kind": "interval" | "categories" | "special" | "other" | "missing",
                   "lower": float | null, "upper": float | null,   # intervals; null = -inf / +inf
                   "values": [...],            # levels (categories, other) or special numbers
                   "count", "events", "eventRate", "woe", "iv", "points"}, ...]}],
     "candidates": [{"name", "kind", "iv", "selected", "reason", "bins" (dropped ones, no points)}],
     "columns": [...all X column names...],
     "categoricalLevels": {name: [levels]},   # every binned categorical column
     "totals": {"count", "events"},
     "edits": [...the edits of this fit, as given...],
     "manual": {"bins": {name: {"breaks": [...]} | {"groups": [[...]]}},
                "include": {name: bool}}}   # analyst-set bins and inclusions, carried to refits

Bins are listed intervals (or category groups) first, then special, other, missing.
``candidates[].reason`` is "" for a selected feature, else e.g. "iv below min_iv",
"correlated with age (r=0.83)", "single value", "excluded by an edit".

Scoring
-------
``card_points``, ``card_probability``, ``card_feature_points`` and ``card_reasons`` compile
the card's lookups on first use and cache them per card object; ``compile_card(card)``
returns the ``CompiledCard`` with the same methods for a caller that holds it itself.

Layout: ``params`` (defaults, validation, scaling), ``binning`` (optbinning, JSON bins, bin
lookup, WOE/IV), ``edits``, ``card`` (``fit_scorecard``), ``scoring``, ``sql`` (``card_sql``).
"""

import json
from typing import Any

from .card import FORMAT, FORMAT_VERSION, fit_scorecard
from .edits import card_edit_problems
from .params import SCORECARD_PARAM_DEFAULTS, scorecard_param_problems
from .scoring import (
    CompiledCard,
    card_feature_points,
    card_points,
    card_probability,
    card_reasons,
    compile_card,
)
from .sql import DIALECTS, card_sql

# The artifact format of a scorecard version: its card as JSON, read without running code.
SCORECARD_FORMAT = FORMAT


def card_dumps(card: dict[str, Any]) -> bytes:
    """The card as the artifact's payload (canonical JSON, so equal cards give equal bytes)."""
    return json.dumps(card, ensure_ascii=False, sort_keys=True, allow_nan=False).encode("utf-8")


def card_loads(payload: bytes) -> dict[str, Any]:
    """A card back from an artifact's payload; ValueError for bytes that are not one."""
    try:
        card = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a scorecard: {exc}") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise ValueError("not a scorecard")
    if not isinstance(card.get("features"), list):
        raise ValueError("not a scorecard: no features")
    return card


def param_problems(params: dict[str, Any], features: list[str]) -> list[str]:
    """The problems of scorecard ``params`` (the training spec's check for this algorithm)."""
    return list(scorecard_param_problems(params, features))


__all__ = [
    "DIALECTS",
    "FORMAT",
    "FORMAT_VERSION",
    "SCORECARD_FORMAT",
    "SCORECARD_PARAM_DEFAULTS",
    "CompiledCard",
    "card_dumps",
    "card_edit_problems",
    "card_feature_points",
    "card_loads",
    "card_points",
    "card_probability",
    "card_reasons",
    "card_sql",
    "compile_card",
    "fit_scorecard",
    "param_problems",
    "scorecard_param_problems",
]

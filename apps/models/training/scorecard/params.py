"""Scorecard parameters: documented defaults, validation and the points scaling they define."""

from __future__ import annotations

import math
from typing import Any

from ..spec import Problem, _check_param, _Rule


def _(text: str) -> str:
    """Marks ``text`` for translation (this package imports no Django)."""
    return text


TRENDS = ("auto", "auto_asc_desc", "ascending", "descending", "peak", "valley", "none")

SCORECARD_PARAM_DEFAULTS: dict[str, Any] = {
    # Scaling (Siddiqi, "Credit Risk Scorecards", 2006, ch. 6): ``pdo`` points double the
    # good:bad odds, which are ``base_odds`` at ``base_score``.
    "pdo": 20.0,
    "base_odds": 50.0,
    "base_score": 600.0,
    # Decimals kept in each bin's points (0: whole points, as printed on a card); None keeps all.
    "rounding": 0,
    # Binning (optbinning's OptimalBinning): at most this many bins per feature, each holding at
    # least ``min_bin_share`` of the training rows, event rate following ``monotonic_trend``
    # (``trends`` overrides it per feature); ``special_values`` get a bin of their own.
    "max_n_bins": 5,
    "min_bin_share": 0.05,
    "monotonic_trend": "auto_asc_desc",
    "trends": {},
    "special_values": [],
    # Categories rarer than this share are pooled in an "other" bin (None: never).
    "categorical_cutoff": None,
    # Selection: information value floor, then of two WOE columns correlated above
    # ``max_correlation`` the higher-IV one stays; at most ``max_features`` (None: no cap).
    "min_iv": 0.02,
    "max_correlation": 0.7,
    "max_features": None,
    # Inverse regularisation of the logistic regression on WOE; 1e6 is in effect the plain
    # (unpenalised) fit a scorecard is built on.
    "C": 1e6,
}

_RULES: dict[str, _Rule] = {
    "pdo": _Rule("float", 0, None, lo_open=True),
    "base_odds": _Rule("float", 0, None, lo_open=True),
    "base_score": _Rule("float", None, None),
    "rounding": _Rule("int", 0, 4, nullable=True),
    "max_n_bins": _Rule("int", 2, 20),
    "min_bin_share": _Rule("float", 0, 0.5, lo_open=True),
    "min_iv": _Rule("float", 0, None),
    "max_correlation": _Rule("float", 0, 1, lo_open=True),
    "max_features": _Rule("int", 1, 10_000, nullable=True),
    "C": _Rule("float", 0, None, lo_open=True),
    "categorical_cutoff": _Rule("float", 0, 0.5, lo_open=True, nullable=True),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def scorecard_param_problems(params: dict[str, Any], feature_names: list[str]) -> list[Problem]:
    """What is wrong with scorecard ``params`` for these features (an empty list: nothing)."""
    if not isinstance(params, dict):
        return [Problem(_("scorecard params must be an object"))]
    problems: list[Problem] = []
    add = problems.append
    for name, value in params.items():
        if name not in SCORECARD_PARAM_DEFAULTS:
            add(
                Problem(
                    _("unknown scorecard parameter %(name)s; known: %(known)s"),
                    name=repr(name),
                    known=", ".join(sorted(SCORECARD_PARAM_DEFAULTS)),
                )
            )
        elif name in _RULES:
            problem = _check_param(name, value, _RULES[name])
            if problem:
                add(problem)
        elif name == "monotonic_trend" and value not in TRENDS:
            add(_trend_problem(name, value))
        elif name == "trends":
            if not isinstance(value, dict):
                add(Problem(_("parameter 'trends' must be an object: feature -> trend")))
                continue
            unknown = [f for f in value if f not in feature_names]
            if unknown:
                add(
                    Problem(
                        _("parameter 'trends' names features that are not in the model: %(features)s"),
                        features=", ".join(map(str, unknown)),
                    )
                )
            for feature, trend in value.items():
                if trend not in TRENDS:
                    add(_trend_problem(f"trends[{feature}]", trend))
        elif name == "special_values":
            if not isinstance(value, list) or not all(_is_number(v) for v in value):
                add(Problem(_("parameter 'special_values' must be a list of finite numbers")))
            elif len(set(value)) != len(value):
                add(Problem(_("parameter 'special_values' lists a value more than once")))
    return problems


def _trend_problem(name: str, value: Any) -> Problem:
    return Problem(
        _("parameter %(name)s = %(value)s is not a trend; expected one of %(choices)s"),
        name=repr(name),
        value=repr(value),
        choices=", ".join(TRENDS),
    )


def resolved_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """``params`` completed with the defaults, numbers in their rule's type (JSON-able)."""
    out = {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
           for k, v in SCORECARD_PARAM_DEFAULTS.items()}  # fmt: skip
    out.update(params or {})
    for name, rule in _RULES.items():
        if out[name] is not None:
            out[name] = int(out[name]) if rule.kind == "int" else float(out[name])
    out["special_values"] = [float(v) for v in out["special_values"]]
    return out


def requested_trend(params: dict[str, Any], feature: str) -> str:
    """The trend asked for ``feature``: its ``trends`` entry, else ``monotonic_trend``."""
    return params["trends"].get(feature, params["monotonic_trend"])


def scaling(params: dict[str, Any]) -> dict[str, Any]:
    """The card's scaling block. Siddiqi (2006), ch. 6: score = offset + factor * ln(odds)
    with factor = pdo / ln 2 and offset = base_score - factor * ln(base_odds); odds are
    good:bad, so score = offset - factor * logit(P(event))."""
    factor = params["pdo"] / math.log(2.0)
    offset = params["base_score"] - factor * math.log(params["base_odds"])
    return {
        "pdo": params["pdo"],
        "baseOdds": params["base_odds"],
        "baseScore": params["base_score"],
        "rounding": params["rounding"],
        "factor": factor,
        "offset": offset,
    }

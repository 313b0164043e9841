"""Fitting a scorecard: bins per feature, selection by IV and correlation, the logistic
regression on WOE, and each bin's points."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..spec import Problem, SpecError
from . import binning as B
from .edits import EditContext, edit_problems, edited_features, manual_layouts, trend_problems
from .params import _, requested_trend, resolved_params, scaling, scorecard_param_problems

FORMAT = "omm-scorecard"
FORMAT_VERSION = 1


def _check_data(
    X: Any, y: Any, feature_names: list[str], categorical_levels: dict[str, list[str]]
) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim != 2 or X.shape[1] != len(feature_names):
        raise SpecError(
            [
                Problem(
                    _("the feature matrix has shape %(shape)s but %(n)s feature names were given"),
                    shape=repr(X.shape),
                    n=len(feature_names),
                )
            ]
        )
    if len(y) != X.shape[0]:
        raise SpecError([Problem(_("the label has %(n)s rows, the features %(m)s"), n=len(y), m=X.shape[0])])
    values = np.unique(y[~np.isnan(y)]) if len(y) else y
    if np.isnan(y).any() or not np.isin(values, (0.0, 1.0)).all() or len(values) != 2:
        raise SpecError(
            [
                Problem(
                    _(
                        "a scorecard needs a 0/1 label (1 = the event) with both classes present; "
                        "got %(values)s"
                    ),
                    values=", ".join(map(str, values[:5])) or "no rows",
                )
            ]
        )
    stray = [k for k in categorical_levels if k not in feature_names]
    if stray:
        raise SpecError(
            [Problem(_("categorical levels given for unknown features: %(names)s"), names=", ".join(stray))]
        )
    return X, y


def _layout(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    levels: list[str] | None,
    manual: dict[str, Any],
    params: dict[str, Any],
) -> list[dict[str, Any]]:
    """The bins (no statistics yet) of one feature: set by an edit, else found by optbinning."""
    fixed = manual.get(name)
    if fixed is not None and ("breaks" if levels is None else "groups") not in fixed:
        fixed = None  # set when the column was of the other kind: find its bins afresh
    if levels is None:
        if fixed is not None:
            breaks = fixed["breaks"]
        else:
            breaks = B.find_breaks(name, x, y, params, requested_trend(params, name))
        return B.numeric_bins(breaks, params["special_values"])
    seen = {levels[int(c)] for c in np.unique(x[~np.isnan(x)])}
    if fixed is not None:
        groups = fixed["groups"]
        named = {v for g in groups for v in g}
        other = sorted(seen - named)
    else:
        groups, other = B.find_groups(name, x, levels, y, params)
    return B.categorical_bins(groups, other)


def _select(
    cands: list[dict[str, Any]], woe: dict[str, np.ndarray], include: dict[str, bool], params: dict[str, Any]
) -> list[str]:
    """Names of the selected features; writes each candidate's ``selected`` and ``reason``.

    Forced inclusions always stay; the rest, in decreasing IV, must reach ``min_iv``, vary,
    correlate at most ``max_correlation`` with every feature kept before them, and fit
    under ``max_features``.
    """
    by_name = {c["name"]: c for c in cands}
    forced = [c["name"] for c in cands if include.get(c["name"]) is True and c["name"] in woe]
    rest = sorted((c for c in cands if c["name"] in woe and c["name"] not in forced), key=lambda c: -c["iv"])
    kept = list(forced)
    slots = params["max_features"]
    for c in rest:
        name = c["name"]
        if include.get(name) is False:
            c["reason"] = _("excluded by an edit")
        elif c["iv"] < params["min_iv"]:
            c["reason"] = _("iv below min_iv")
        elif np.ptp(woe[name]) == 0:
            c["reason"] = _("one bin holds every row")
        else:
            pairs = ((_corr(woe[name], woe[k]), k) for k in kept)
            r, other = max(pairs, key=lambda t: abs(t[0]), default=(0.0, ""))
            if abs(r) > params["max_correlation"]:
                c["reason"] = _("correlated with %(other)s (r=%(r).2f)") % {"other": other, "r": r}
            elif slots is not None and len(kept) >= max(slots, len(forced)):
                c["reason"] = _("beyond max_features (%(n)s)") % {"n": slots}
            else:
                kept.append(name)
    for name in kept:
        by_name[name].update(selected=True, reason="")
    return kept


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _logistic(W: np.ndarray, y: np.ndarray, C: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression  # needed only to fit

    # A tight tolerance: the card should carry the maximum-likelihood fit, not a near one.
    model = LogisticRegression(C=C, tol=1e-10, max_iter=1000).fit(W, y.astype(np.int64))
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


def fit_scorecard(
    X: Any,
    y: Any,
    feature_names: list[str],
    categorical_levels: dict[str, list[str]],
    params: dict[str, Any],
    *,
    edits: list[dict[str, Any]] | None = None,
    base_card: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fit a scorecard on training rows; returns the card (a JSON-able dict, see the package).

    ``X``: rows x ``feature_names`` (float; categorical columns hold codes into their sorted
    ``categorical_levels``, NaN = missing); ``y``: 0/1 with 1 = the event. With ``base_card``
    the refit starts from its params (``params`` given here override them) and its analyst-set
    bins, and applies ``edits``. Raises SpecError for bad params, data or edits, and when no
    feature survives selection.
    """
    edits = list(edits or [])
    merged = {**(base_card or {}).get("params", {}), **(params or {})}
    problems = scorecard_param_problems(merged, list(feature_names))
    if problems:
        raise SpecError(problems)
    X, y = _check_data(X, y, list(feature_names), categorical_levels)
    p = resolved_params(merged)

    ctx = EditContext(list(feature_names), {k: list(v) for k, v in categorical_levels.items()})
    if base_card is not None:
        ctx.base_bins = {f["name"]: f["bins"] for f in base_card.get("features", [])}
        ctx.base_bins.update({c["name"]: c["bins"] for c in base_card.get("candidates", []) if c.get("bins")})
    problems = edit_problems(edits, ctx)
    if problems:
        raise SpecError(problems)
    manual = manual_layouts(edits, ctx, (base_card or {}).get("manual"))
    edited = edited_features(edits)

    n, events = len(y), int(y.sum())
    cands: list[dict[str, Any]] = []
    woe: dict[str, np.ndarray] = {}
    bins_of: dict[str, list[dict[str, Any]]] = {}
    for j, name in enumerate(feature_names):
        levels = categorical_levels.get(name)
        x = np.asarray(X[:, j], dtype=np.float64)
        cand = {"name": name, "kind": "numeric" if levels is None else "categorical", "column": j,
                "iv": 0.0, "selected": False, "reason": ""}  # fmt: skip
        cands.append(cand)
        distinct = np.unique(x[~np.isnan(x)]).size
        if distinct <= 1:
            cand["reason"] = _("single value") if distinct else _("no values")
            if manual["include"].get(name):
                problems.append(
                    Problem(
                        _("%(feature)s cannot be included: %(reason)s"), feature=name, reason=cand["reason"]
                    )
                )
            continue
        bins = _layout(name, x, y, levels, manual["bins"], p)
        idx = B.BinLookup(bins, levels).index(x)
        cand["iv"] = B.fill_stats(bins, idx, y, events, n)
        if name in edited and levels is None:
            problems.extend(trend_problems(name, bins, requested_trend(p, name)))
        woe[name] = np.array([b["woe"] for b in bins])[idx]
        bins_of[name] = bins
    if problems:
        raise SpecError(problems)

    selected = _select(cands, woe, manual["include"], p)
    if not selected:
        raise SpecError(
            [
                Problem(
                    _(
                        "no feature survives selection (min_iv %(min_iv)s, max_correlation %(max_corr)s): "
                        "%(why)s"
                    ),
                    min_iv=p["min_iv"],
                    max_corr=p["max_correlation"],
                    why="; ".join(f"{c['name']}: {c['reason']}" for c in cands),
                )
            ]
        )
    selected = [name for name in feature_names if name in selected]  # model order = column order
    coef, intercept = _logistic(np.column_stack([woe[k] for k in selected]), y, p["C"])
    scale = scaling(p)
    features = []
    for name, c in zip(selected, coef, strict=True):
        cand = next(x for x in cands if x["name"] == name)
        bins = bins_of[name]
        _points(bins, float(c), intercept, len(selected), scale)
        trend = B.resolved_trend(bins) if cand["kind"] == "numeric" else "none"
        features.append({**{k: cand[k] for k in ("name", "kind", "column", "iv")}, "coef": float(c),
                         "trend": trend, "bins": bins})  # fmt: skip
    for cand in cands:
        if not cand["selected"] and cand["name"] in bins_of:
            cand["bins"] = bins_of[cand["name"]]
    return {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "params": p,
        "scaling": scale,
        "intercept": intercept,
        "features": features,
        "candidates": [{k: v for k, v in c.items() if k != "column"} for c in cands],
        "columns": list(feature_names),
        "categoricalLevels": {k: list(v) for k, v in categorical_levels.items() if k in bins_of},
        "totals": {"count": n, "events": events},
        "edits": edits,
        "manual": manual,
    }


def _points(bins: list[dict[str, Any]], coef: float, intercept: float, k: int, scale: dict[str, Any]) -> None:
    """Each bin's points: -factor * coef * WOE + (offset - factor * intercept) / k, so that the
    bins' points summed over the k features are offset - factor * logit(P(event)) (Siddiqi,
    2006, ch. 6), rounded per bin to ``rounding`` decimals."""
    factor, digits = scale["factor"], scale["rounding"]
    share = (scale["offset"] - factor * intercept) / k
    for b in bins:
        value = -factor * coef * b["woe"] + share
        b["points"] = (round(value, digits) if digits is not None else value) + 0.0  # no -0.0

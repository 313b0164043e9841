"""Monitoring figures by period (pure: numbers only, no Django).

- ``baseline_from``: what a version keeps of its training data (score bins and counts, and
  per feature its bins or categories and counts), small enough to store as JSON.
- ``period_figures``: one period's score PSI, CSI per feature, score-band distribution and,
  where outcomes are known, event rate by band, AUC, KS and Gini; and the estimated AUC and
  event rate (CBPE) from the scores alone. A period with fewer rows than ``min_rows`` is
  "insufficient": its PSI is not read as drift.
- ``vintage_curves``: cumulative event rate by months on book per origination cohort.
- ``period_bounds`` / ``complete_periods``: week or month periods.

PSI, AUC and KS come from ``apps.evaluations.metrics`` (one definition across the platform).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from apps.evaluations.metrics import psi_from_counts, roc_auc
from apps.evaluations.metrics.binary import ks_statistic
from apps.evaluations.metrics.core import quantile_edges
from apps.evaluations.metrics.definitions import MAX_CATEGORIES

GRANULARITIES = ("week", "month")
MISSING = "__missing__"
OTHER = "__other__"

# --------------------------------------------------------------------------- periods


def period_bounds(day: date, granularity: str) -> tuple[date, date]:
    """[start, end) of the week (Monday first) or month holding ``day``."""
    if granularity == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if granularity == "month":
        start = day.replace(day=1)
        end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        return start, end
    raise ValueError(f"unknown granularity {granularity!r}")


def complete_periods(first: date, today: date, granularity: str) -> list[tuple[date, date]]:
    """Every period from the one holding ``first`` that has ended by ``today`` (oldest first)."""
    out = []
    start, end = period_bounds(first, granularity)
    while end <= today:
        out.append((start, end))
        start, end = period_bounds(end, granularity)
    return out


# --------------------------------------------------------------------------- baseline


def _is_numeric(values: np.ndarray) -> bool:
    return values.dtype.kind in "iuf"


def _strings(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(missing mask, str of each value) of a categorical column."""
    obj = np.asarray(values, dtype=object)
    missing = np.asarray(obj == None) | np.asarray(obj != obj)  # noqa: E711 (None and NaN)
    return missing, np.where(missing, "", obj).astype(str)


def _feature_baseline(values: np.ndarray, bins: int) -> dict[str, Any]:
    if _is_numeric(values):
        x = values.astype(np.float64)
        finite = np.isfinite(x)
        xs = np.sort(x[finite])
        edges = quantile_edges(xs, bins) if xs.size else np.empty(0)
        counts = np.bincount(np.searchsorted(edges, xs, side="right"), minlength=edges.size + 1)
        return {
            "kind": "numeric",
            "edges": edges.tolist(),
            "counts": counts.tolist(),
            "missing": int((~finite).sum()),
        }
    missing, s = _strings(values)
    cats, counts = np.unique(s[~missing], return_counts=True)
    order = np.lexsort((cats, -counts))[:MAX_CATEGORIES]
    kept = np.sort(cats[order])
    kept_counts = [int(counts[cats == c][0]) for c in kept]
    other = int((~missing).sum()) - sum(kept_counts)
    return {
        "kind": "categorical",
        "categories": kept.tolist(),
        "counts": [*kept_counts, other],
        "missing": int(missing.sum()),
    }


def baseline_from(
    scores: ArrayLike, features: Mapping[str, ArrayLike] | None = None, bins: int = 10
) -> dict[str, Any]:
    """The training baseline: score decile edges (the score bands) with their counts, and for
    each feature its decile edges (numeric) or its most frequent categories, with counts."""
    s = np.asarray(scores, dtype=np.float64)
    s = np.sort(s[np.isfinite(s)])
    if s.size == 0:
        raise ValueError("the baseline has no finite score")
    edges = quantile_edges(s, bins)
    counts = np.bincount(np.searchsorted(edges, s, side="right"), minlength=edges.size + 1)
    return {
        "score": {"edges": edges.tolist(), "counts": counts.tolist(), "n": int(s.size)},
        "features": {str(k): _feature_baseline(np.asarray(v), bins) for k, v in (features or {}).items()},
    }


def _feature_counts(spec: Mapping[str, Any], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(baseline counts, current counts) of one feature on the baseline's bins; a missing bin
    is added when either side has missing values."""
    base = np.asarray(spec["counts"], dtype=np.int64)
    if spec["kind"] == "numeric":
        x = np.asarray(values, dtype=np.float64) if _is_numeric(values) else _as_float(values)
        finite = np.isfinite(x)
        edges = np.asarray(spec["edges"], dtype=np.float64)
        cur = np.bincount(np.searchsorted(edges, x[finite], side="right"), minlength=edges.size + 1)
        missing = int((~finite).sum())
    else:
        miss, s = _strings(values)
        cats = np.asarray(spec["categories"], dtype=str)
        s = s[~miss]
        if cats.size:
            pos = np.minimum(np.searchsorted(cats, s), cats.size - 1)
            known = cats[pos] == s
            cur = np.append(np.bincount(pos[known], minlength=cats.size), np.count_nonzero(~known))
        else:
            cur = np.array([s.size])
        missing = int(miss.sum())
    if spec.get("missing") or missing:
        base, cur = np.append(base, int(spec.get("missing") or 0)), np.append(cur, missing)
    return base, cur


def _as_float(values: Any) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        with contextlib.suppress(TypeError, ValueError):
            out[i] = float(v)
    return out


# --------------------------------------------------------------------------- estimation


def cbpe(proba: ArrayLike) -> dict[str, float | None]:
    """Expected AUC and event rate from calibrated probabilities, before outcomes arrive.

    Confidence-based performance estimation as NannyML's CBPE
    (https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html#confidence-based-performance-estimation-cbpe):
    each row is an event with probability p, so at each threshold the expected true and
    false positives are the cumulative sums of p and 1 - p over the rows scored above it;
    the expected ROC curve joins those points and its area is the expected AUC. Valid only
    while the scores stay calibrated and the relation of features to outcome holds.
    """
    p = np.asarray(proba, dtype=np.float64)
    p = p[np.isfinite(p)]
    if p.size == 0:
        return {"estimated_auc": None, "estimated_event_rate": None}
    p = np.clip(p, 0.0, 1.0)
    rate = float(p.mean())
    pos, neg = p.sum(), (1 - p).sum()
    if pos <= 0 or neg <= 0:
        return {"estimated_auc": None, "estimated_event_rate": rate}
    # Tied scores are one threshold: sum p and 1 - p per distinct score, highest first.
    uniq, inverse = np.unique(-p, return_inverse=True)
    tp = np.concatenate(([0.0], np.cumsum(np.bincount(inverse, weights=p, minlength=uniq.size))))
    fp = np.concatenate(([0.0], np.cumsum(np.bincount(inverse, weights=1 - p, minlength=uniq.size))))
    tpr, fpr = tp / pos, fp / neg
    auc = float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2))
    return {"estimated_auc": auc, "estimated_event_rate": rate}


# --------------------------------------------------------------------------- one period


def period_figures(
    baseline: Mapping[str, Any],
    scores: ArrayLike,
    features: Mapping[str, ArrayLike] | None = None,
    outcomes: ArrayLike | None = None,
    *,
    min_rows: int = 0,
    min_labelled_share: float = 0.0,
    estimate: bool = True,
) -> dict[str, Any]:
    """The figures of one period.

    ``outcomes``: 1 event, 0 none, NaN unknown (yet), one per score. Metric names are the
    ones alert rules read: score_psi, csi_max, auc, ks, gini, event_rate, estimated_auc,
    estimated_event_rate, rows, insufficient. ``csi`` maps feature -> CSI; ``bands`` is the
    score-band distribution (bands = the baseline's score deciles) with events per band.

    Label delay: events are known sooner than non-events, so a period whose outcomes are only
    partly in reads as far riskier than it is. Realised figures (event rate, AUC, KS, Gini,
    event rate by band) are given only once at least ``min_labelled_share`` of the period's
    rows have an outcome (``outcomes_mature``); until then the estimated ones stand alone.
    """
    s = np.asarray(scores, dtype=np.float64)
    rows = int(s.size)
    finite = np.isfinite(s)
    out: dict[str, Any] = {"rows": rows, "insufficient": rows < max(min_rows, 1)}
    edges = np.asarray(baseline["score"]["edges"], dtype=np.float64)
    base_counts = np.asarray(baseline["score"]["counts"], dtype=np.int64)
    band = np.searchsorted(edges, s[finite], side="right")
    counts = np.bincount(band, minlength=edges.size + 1)
    out["score_psi"] = psi_from_counts(base_counts, counts)["psi"] if counts.sum() else None
    csi = {}
    for name, spec in (baseline.get("features") or {}).items():
        if features is None or name not in features or rows == 0:
            continue
        b, c = _feature_counts(spec, np.asarray(features[name]))
        csi[name] = psi_from_counts(b, c)["psi"] if c.sum() and b.sum() else None
    out["csi"] = csi
    known = [v for v in csi.values() if v is not None]
    out["csi_max"] = max(known) if known else None
    out["csi_max_feature"] = max(csi, key=lambda k: csi[k] if csi[k] is not None else -1) if known else None

    y = np.full(rows, np.nan) if outcomes is None else np.asarray(outcomes, dtype=np.float64)
    y = y[finite]
    labelled = ~np.isnan(y)
    n_lab = int(labelled.sum())
    mature = n_lab > 0 and n_lab >= min_labelled_share * max(int(finite.sum()), 1)
    out["labelled"] = n_lab
    out["outcomes_mature"] = mature
    if not mature:
        labelled = np.zeros_like(labelled)
    band_events = np.bincount(band[labelled], weights=y[labelled], minlength=edges.size + 1)
    band_labelled = np.bincount(band[labelled], minlength=edges.size + 1)
    base_total = base_counts.sum()
    bounds = [None, *edges.tolist(), None]
    out["bands"] = [
        {
            "lower": bounds[i],
            "upper": bounds[i + 1],
            "baseline_share": float(base_counts[i] / base_total) if base_total else None,
            "rows": int(counts[i]),
            "share": float(counts[i] / counts.sum()) if counts.sum() else None,
            "labelled": int(band_labelled[i]),
            "event_rate": float(band_events[i] / band_labelled[i]) if band_labelled[i] else None,
        }
        for i in range(edges.size + 1)
    ]
    n_lab = int(labelled.sum())
    out["event_rate"] = float(y[labelled].mean()) if n_lab else None
    out["auc"] = out["ks"] = out["gini"] = None
    if n_lab and 0 < y[labelled].sum() < n_lab:
        auc = roc_auc(y[labelled].astype(np.int64), s[finite][labelled])
        ks = ks_statistic(y[labelled].astype(np.int64), s[finite][labelled])
        out["auc"] = auc
        out["gini"] = None if auc is None else 2 * auc - 1
        out["ks"] = None if ks is None else ks[0]
    est = cbpe(s[finite]) if estimate else {"estimated_auc": None, "estimated_event_rate": None}
    out.update(est)
    return out


# --------------------------------------------------------------------------- vintages


def _month_index(values: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of datetime64 values."""
    return values.astype("datetime64[M]").astype(np.int64)


def vintage_curves(
    origination: ArrayLike,
    outcome_at: ArrayLike,
    outcome: ArrayLike,
    as_of: datetime | np.datetime64,
    max_months: int = 24,
) -> list[dict[str, Any]]:
    """Cumulative event rate by months on book per monthly origination cohort.

    ``origination`` and ``outcome_at`` are datetime64 (NaT: no outcome known); ``outcome`` is
    1 for an event, 0 otherwise. The point of month-on-book m counts events whose outcome
    date falls within m months of origination (by calendar month), over the whole cohort.
    Label delay made explicit: a cohort shows month m only once m whole months have passed
    since the cohort's last origination month ended before ``as_of`` (``age``); later
    points are not drawn rather than drawn low.
    """
    orig = np.asarray(origination, dtype="datetime64[s]")
    when = np.asarray(outcome_at, dtype="datetime64[s]")
    event = np.nan_to_num(np.asarray(outcome, dtype=np.float64)) > 0
    cohort = _month_index(orig)
    now = int(_month_index(np.asarray([np.datetime64(as_of, "s")]))[0])
    mob = np.where(np.isnat(when), -1, _month_index(when) - cohort)
    out = []
    for c in np.unique(cohort):
        inside = cohort == c
        size = int(inside.sum())
        age = now - int(c) - 1  # whole months since the cohort's month ended
        shown = max(0, min(age, max_months))
        ev_mob = mob[inside & event & (mob >= 0)]
        per = np.bincount(np.minimum(ev_mob, max_months), minlength=max_months + 1)
        cum = np.cumsum(per)
        label = str(np.datetime64(int(c), "M"))
        out.append(
            {
                "cohort": label,
                "size": size,
                "age": age,
                "points": [{"mob": m, "event_rate": float(cum[m] / size)} for m in range(1, shown + 1)],
            }
        )
    return out


def band_labels(edges: Sequence[float]) -> list[str]:
    """'[lo, hi)' labels of the score bands cut at ``edges``."""
    bounds = ["-inf", *(f"{e:.4g}" for e in edges), "+inf"]
    return [f"[{a}, {b})" for a, b in itertools.pairwise(bounds)]

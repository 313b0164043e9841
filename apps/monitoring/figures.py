"""Monitoring figures by period (pure: numbers only, no Django).

- ``baseline_from``: what a version keeps of its training data (score bins and counts, and
  per feature its bins or categories and counts), small enough to store as JSON.
- ``sketch``: what a period's figures need of its scored rows without outcomes: counts on
  the baseline's score bands and feature bins, and a histogram of probabilities for CBPE.
  Sketches add up (``sketches_sum``), so a month is the sum of its days' sketches, each
  made once from the log.
- ``figures_from``: one period's score PSI, CSI per feature, score-band distribution from
  its sketch and, where outcomes are known, event rate by band, AUC, KS and Gini from the
  labelled rows; and the estimated AUC and event rate (CBPE). A period with fewer rows
  than ``min_rows`` is "insufficient": its PSI is not read as drift.
- ``period_figures``: both at once, from a period's rows.
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


def _feature_current(spec: Mapping[str, Any], values: np.ndarray) -> tuple[np.ndarray, int]:
    """(counts on the baseline's bins or categories, missing) of one feature's values."""
    if spec["kind"] == "numeric":
        x = np.asarray(values, dtype=np.float64) if _is_numeric(values) else _as_float(values)
        finite = np.isfinite(x)
        edges = np.asarray(spec["edges"], dtype=np.float64)
        cur = np.bincount(np.searchsorted(edges, x[finite], side="right"), minlength=edges.size + 1)
        return cur, int((~finite).sum())
    miss, s = _strings(values)
    cats = np.asarray(spec["categories"], dtype=str)
    s = s[~miss]
    if cats.size:
        pos = np.minimum(np.searchsorted(cats, s), cats.size - 1)
        known = cats[pos] == s
        cur = np.append(np.bincount(pos[known], minlength=cats.size), np.count_nonzero(~known))
    else:
        cur = np.array([s.size])
    return cur, int(miss.sum())


def _with_missing(spec: Mapping[str, Any], cur: np.ndarray, missing: int) -> tuple[np.ndarray, np.ndarray]:
    """(baseline counts, current counts) of one feature; a missing bin is added when either
    side has missing values."""
    base = np.asarray(spec["counts"], dtype=np.int64)
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
    p = np.clip(p[np.isfinite(p)], 0.0, 1.0)
    # Tied scores are one threshold: count and sum p per distinct score, highest first.
    uniq, inverse = np.unique(-p, return_inverse=True)
    n = np.bincount(inverse, minlength=uniq.size).astype(np.float64)
    return _cbpe(n, np.bincount(inverse, weights=p, minlength=uniq.size))


def cbpe_from_histogram(counts: ArrayLike, sums: ArrayLike) -> dict[str, float | None]:
    """``cbpe`` from a sketch's histogram of probabilities (``ESTIMATE_BINS`` bins on [0, 1],
    rows and sum of p per bin): rows in one bin are one threshold. A pair inside a bin then
    counts half, where CBPE gives it p_i(1 - p_j) with |p_i - p_j| < 1 / ESTIMATE_BINS: the
    estimated AUC moves by less than 1 / (2 * ESTIMATE_BINS) at most; the event rate is exact."""
    n = np.asarray(counts, dtype=np.float64)[::-1]
    return _cbpe(n, np.asarray(sums, dtype=np.float64)[::-1])


def _cbpe(n: np.ndarray, p_sum: np.ndarray) -> dict[str, float | None]:
    """CBPE from thresholds highest first: rows and sum of p at each."""
    total = float(n.sum())
    if total <= 0:
        return {"estimated_auc": None, "estimated_event_rate": None}
    pos = float(p_sum.sum())
    neg = total - pos
    rate = pos / total
    if pos <= 0 or neg <= 0:
        return {"estimated_auc": None, "estimated_event_rate": rate}
    tp = np.concatenate(([0.0], np.cumsum(p_sum)))
    fp = np.concatenate(([0.0], np.cumsum(n - p_sum)))
    tpr, fpr = tp / pos, fp / neg
    auc = float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2))
    return {"estimated_auc": auc, "estimated_event_rate": rate}


# --------------------------------------------------------------------------- sketches

ESTIMATE_BINS = 1000  # probability bins of a sketch, for CBPE (see cbpe_from_histogram)


def sketch(
    baseline: Mapping[str, Any],
    scores: ArrayLike,
    features: Mapping[str, ArrayLike] | None = None,
    *,
    estimate: bool = True,
) -> dict[str, Any]:
    """What the period figures need of scored rows, outcomes aside, as counts that add up:
    ``rows``; ``score``: counts on the baseline's score bands; ``p_counts`` / ``p_sums``: a
    histogram of the scores as probabilities (``estimate``: binary classifiers); and per
    feature of the baseline that ``features`` holds, its counts on the baseline's bins or
    categories (the last one: any other category) and its missing values."""
    s = np.asarray(scores, dtype=np.float64)
    finite = s[np.isfinite(s)]
    edges = np.asarray(baseline["score"]["edges"], dtype=np.float64)
    out: dict[str, Any] = {
        "rows": int(s.size),
        "score": np.bincount(np.searchsorted(edges, finite, side="right"), minlength=edges.size + 1),
    }
    if estimate:
        p = np.clip(finite, 0.0, 1.0)
        at = np.minimum((p * ESTIMATE_BINS).astype(np.int64), ESTIMATE_BINS - 1)
        out["p_counts"] = np.bincount(at, minlength=ESTIMATE_BINS)
        out["p_sums"] = np.bincount(at, weights=p, minlength=ESTIMATE_BINS)
    out["features"] = {}
    for name, spec in (baseline.get("features") or {}).items():
        if features is not None and name in features:
            counts, missing = _feature_current(spec, np.asarray(features[name]))
            out["features"][name] = {"counts": counts, "missing": missing}
    return out


def sketches_sum(sketches: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The sketch of rows whose sketches are ``sketches`` (None when there are none). A part
    only some sketches carry (probabilities, a feature) is summed over those."""
    if not sketches:
        return None
    out: dict[str, Any] = {"rows": 0, "score": None, "features": {}}
    for part in sketches:
        out["rows"] += int(part["rows"])
        out["score"] = _add(out["score"], part["score"])
        for key in ("p_counts", "p_sums"):
            if key in part:
                out[key] = _add(out.get(key), part[key])
        for name, f in part.get("features", {}).items():
            have = out["features"].setdefault(name, {"counts": None, "missing": 0})
            have["counts"] = _add(have["counts"], f["counts"])
            have["missing"] += int(f["missing"])
    return out


def _add(total: np.ndarray | None, part: ArrayLike) -> np.ndarray:
    part = np.asarray(part)
    return part.copy() if total is None else total + part


def sketch_json(part: Mapping[str, Any]) -> dict[str, Any]:
    """A sketch as JSON can hold it (lists for arrays; the probability histogram sparse)."""
    out: dict[str, Any] = {"rows": int(part["rows"]), "score": np.asarray(part["score"]).tolist()}
    if "p_counts" in part:
        counts = np.asarray(part["p_counts"])
        at = np.flatnonzero(counts)
        out["p_at"] = at.tolist()
        out["p_counts"] = counts[at].tolist()
        out["p_sums"] = np.asarray(part["p_sums"])[at].tolist()
    out["features"] = {
        n: {"counts": np.asarray(f["counts"]).tolist(), "missing": int(f["missing"])}
        for n, f in part.get("features", {}).items()
    }
    return out


def sketch_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The sketch ``sketch_json`` wrote."""
    out = dict(data)
    if "p_at" in data:
        at = np.asarray(data["p_at"], dtype=np.int64)
        out["p_counts"] = np.bincount(at, weights=data["p_counts"], minlength=ESTIMATE_BINS)
        out["p_sums"] = np.bincount(at, weights=data["p_sums"], minlength=ESTIMATE_BINS)
        del out["p_at"]
    return out


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
    """The figures of one period from its rows: ``figures_from`` their sketch, with
    ``outcomes`` (1 event, 0 none, NaN unknown yet), one per score."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.full(s.size, np.nan) if outcomes is None else np.asarray(outcomes, dtype=np.float64)
    part = sketch(baseline, s, features, estimate=estimate)
    return figures_from(
        baseline, part, s, y, min_rows=min_rows, min_labelled_share=min_labelled_share, estimate=estimate
    )


def figures_from(
    baseline: Mapping[str, Any],
    part: Mapping[str, Any],
    labelled_scores: ArrayLike = (),
    labelled_outcomes: ArrayLike = (),
    *,
    min_rows: int = 0,
    min_labelled_share: float = 0.0,
    estimate: bool = True,
) -> dict[str, Any]:
    """The figures of one period from its sketch and the scores of its rows with a known
    outcome (rows with a NaN score or outcome are left out).

    Metric names are the ones alert rules read: score_psi, csi_max, auc, ks, gini,
    event_rate, estimated_auc, estimated_event_rate, rows, insufficient. ``csi`` maps
    feature -> CSI; ``bands`` is the score-band distribution (bands = the baseline's score
    deciles) with events per band.

    Label delay: events are known sooner than non-events, so a period whose outcomes are only
    partly in reads as far riskier than it is. Realised figures (event rate, AUC, KS, Gini,
    event rate by band) are given only once at least ``min_labelled_share`` of the period's
    rows have an outcome (``outcomes_mature``); until then the estimated ones stand alone.
    """
    rows = int(part["rows"])
    out: dict[str, Any] = {"rows": rows, "insufficient": rows < max(min_rows, 1)}
    edges = np.asarray(baseline["score"]["edges"], dtype=np.float64)
    base_counts = np.asarray(baseline["score"]["counts"], dtype=np.int64)
    counts = np.asarray(part["score"], dtype=np.int64)
    out["score_psi"] = psi_from_counts(base_counts, counts)["psi"] if counts.sum() else None
    csi = {}
    for name, spec in (baseline.get("features") or {}).items():
        current = part.get("features", {}).get(name)
        if current is None or rows == 0:
            continue
        b, c = _with_missing(spec, np.asarray(current["counts"], dtype=np.int64), int(current["missing"]))
        csi[name] = psi_from_counts(b, c)["psi"] if c.sum() and b.sum() else None
    out["csi"] = csi
    known = [v for v in csi.values() if v is not None]
    out["csi_max"] = max(known) if known else None
    out["csi_max_feature"] = max(csi, key=lambda k: csi[k] if csi[k] is not None else -1) if known else None

    s = np.asarray(labelled_scores, dtype=np.float64)
    y = np.asarray(labelled_outcomes, dtype=np.float64)
    keep = np.isfinite(s) & ~np.isnan(y)
    s, y = s[keep], y[keep]
    n_lab = int(y.size)
    mature = n_lab > 0 and n_lab >= min_labelled_share * max(int(counts.sum()), 1)
    out["labelled"] = n_lab
    out["outcomes_mature"] = mature
    if not mature:
        s, y = s[:0], y[:0]
    band = np.searchsorted(edges, s, side="right")
    band_events = np.bincount(band, weights=y, minlength=edges.size + 1)
    band_labelled = np.bincount(band, minlength=edges.size + 1)
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
    out["event_rate"] = float(y.mean()) if y.size else None
    out["auc"] = out["ks"] = out["gini"] = None
    if y.size and 0 < y.sum() < y.size:
        auc = roc_auc(y.astype(np.int64), s)
        ks = ks_statistic(y.astype(np.int64), s)
        out["auc"] = auc
        out["gini"] = None if auc is None else 2 * auc - 1
        out["ks"] = None if ks is None else ks[0]
    if estimate and "p_counts" in part:
        out.update(cbpe_from_histogram(part["p_counts"], part["p_sums"]))
    else:
        out.update({"estimated_auc": None, "estimated_event_rate": None})
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

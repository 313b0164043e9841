"""Binary classification: :class:`RankCurve` (one sort gives AUC, KS, ROC/PR curves, deciles and
the confusion at any threshold), threshold metrics and ``classification_report``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .core import (
    _binary_labels,
    _check_bins,
    _check_int,
    _float_1d,
    _note,
    _num,
    _ratio,
    _spread_indices,
    quantile_edges,
)
from .definitions import LOGLOSS_EPSILON, MAX_CURVE_POINTS, METRICS_VERSION, _
from .drift import _psi_sorted

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
        raise ValueError(_("no rows to evaluate (empty input)"))
    notes: list[dict[str, Any]] = []
    finite = np.isfinite(s)
    n_dropped = int(s.shape[0] - np.count_nonzero(finite))
    if n_dropped:
        s, y = s[finite], y[finite]
        notes.append(
            _note(
                "non_finite_scores_dropped",
                _("%(count)s rows with a NaN or infinite score were left out of every figure."),
                count=n_dropped,
            )
        )
        if s.shape[0] == 0:
            raise ValueError(_("no finite score to evaluate"))
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
                _("Every row has the same score: AUC is 0.5, KS is 0 and there is a single bucket."),
            )
        )
    elif thresholds.shape[0] < n:
        notes.append(
            _note(
                "tied_scores",
                _(
                    "%(tied)s rows share their score with another row (%(distinct)s distinct scores). "
                    "Tied (bad, good) pairs count one half in AUC; KS and the curves step only between "
                    "distinct scores."
                ),
                tied=int(n - thresholds.shape[0]),
                distinct=int(thresholds.shape[0]),
            )
        )
    if pos.shape[0] == 0 or neg.shape[0] == 0:
        notes.append(
            _note(
                "single_class",
                _(
                    "No positive (1) label among the evaluated rows: AUC, Gini, KS and the ROC curve "
                    "are undefined."
                )
                if pos.shape[0] == 0
                else _(
                    "No negative (0) label among the evaluated rows: AUC, Gini, KS and the ROC curve "
                    "are undefined."
                ),
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
        notes.append(_note("no_separation", _("KS is 0: no threshold separates the classes.")))
    log_loss = curve.log_loss()
    if log_loss is None:
        notes.append(
            _note("scores_not_probabilities", _("Some scores lie outside [0, 1]: log loss is undefined."))
        )
    at_threshold = threshold_metrics(confusion)
    if at_threshold["precision"] is None:
        notes.append(
            _note(
                "nothing_predicted_positive",
                _("No score reaches the threshold %(threshold)s: precision is undefined."),
                threshold=threshold,
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

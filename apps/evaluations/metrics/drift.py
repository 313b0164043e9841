"""Stability: PSI of a score on bins frozen from a baseline (edges, stored score baseline) and
CSI, the same formula per feature column.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .core import _check_bins, _counts_sorted, _edges_array, _float_1d, _note, bin_counts, quantile_edges
from .definitions import (
    MAX_CATEGORIES,
    MISSING_CATEGORY,
    OTHER_CATEGORY,
    PSI_EPSILON,
    PSI_MODERATE,
    PSI_SIGNIFICANT,
    _,
)

# --------------------------------------------------------------------------- stability


def edges_from_baseline(baseline: ArrayLike, bins: int = 10) -> list[float]:
    """Frozen PSI cut points: :func:`quantile_edges` of the baseline's finite values.

    Store them with the model version and pass them back (through :func:`score_baseline`)
    so every later PSI is measured on the same bins.
    """
    x = _float_1d(baseline, "baseline")
    x = np.sort(x[np.isfinite(x)])
    if x.shape[0] == 0:
        raise ValueError(_("the baseline has no finite value"))
    return quantile_edges(x, bins).tolist()


def score_baseline(baseline: ArrayLike, bins: int = 10) -> dict[str, Any]:
    """What PSI needs from the training scores, small enough to store as JSON.

    ``{"edges": frozen cut points, "counts": baseline rows per bin, "n", "n_dropped"}``.
    """
    x = _float_1d(baseline, "baseline")
    finite = np.isfinite(x)
    x = np.sort(x[finite])
    if x.shape[0] == 0:
        raise ValueError(_("the baseline has no finite value"))
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
                _("%(count)s bins are empty on one side; their share counts as %(epsilon)s."),
                count=empty,
                epsilon=PSI_EPSILON,
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
    result = psi_from_counts(baseline_counts, current_counts, [label for _lo, _hi, label in intervals])
    for row, (lo, hi, _label) in zip(result["rows"], intervals, strict=True):
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
        raise ValueError(_("the current sample has no finite value"))
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

"""Shared helpers: input checks, JSON-safe numbers, notes and the quantile binning (cut points,
bin counts) that the binary and stability metrics both use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .definitions import MAX_BINS

# --------------------------------------------------------------------------- helpers


def _note(code: str, template: str, **params: Any) -> dict[str, Any]:
    """A note on the data behind the figures: ``message`` in English, and the marked
    ``template`` with its ``params`` (plain numbers and text), so a page shows the note in
    its reader's language (``gettext(template) % params``)."""
    note: dict[str, Any] = {"code": code, "message": template % params if params else template}
    note["template"] = template
    if params:
        note["params"] = params
    return note


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
